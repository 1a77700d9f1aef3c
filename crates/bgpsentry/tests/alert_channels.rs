//! Every chat format against a real HTTP receiver on 127.0.0.1, byte for
//! byte; PagerDuty trigger and resolve with one dedup key; email through a
//! real (minimal, in-test) SMTP server with text and HTML parts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alert_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_support::*;
use bgpsentry::alert::{AlertConfig, Alerter};
use bgpsentry::pipeline::ChangeSink;
use bgpsentry_core::model::{ChangeKind, Event};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn config(channels: &str) -> AlertConfig {
    let text = format!(
        r#"
[api]
url = "http://127.0.0.1:8080/client/v4"

[delivery]
initial_backoff_ms = 20
max_backoff_secs = 1
timeout_secs = 5

[[watch]]
name = "youtube"
involved_asn = 36561

[[watch]]
name = "allegheny"
leak_asn = 396531

{channels}
"#
    );
    AlertConfig::from_toml(&text).expect("config")
}

const HIJACK_TEXT: &str = "New BGP hijack event (7):\nDetected time: 2008-02-24T18:47:57.000 UTC\nDetected ASN: AS17557 PK\nExpected ASN(s): AS36561\nPrefixes (1): 208.65.153.0/24\nTags: rpki_new_origin_invalid irr_new_origin_invalid\nPeer count: 2\nConfidence: 12 (high)\nStatus: ongoing\nhttp://127.0.0.1:8080/client/v4/radar/bgp/hijacks/events?eventId=7";

fn esc(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

async fn one(channel_toml: &str, rx: &Receiver, e: Event) -> Req {
    let dir = tempfile::tempdir().unwrap();
    let alerter = Alerter::start(config(channel_toml), &dir.path().join("s.db")).unwrap();
    let mut sink = alerter.sink();
    sink.change(&change(ChangeKind::Opened, e));
    let reqs = rx.wait_for(1, Duration::from_secs(10)).await;
    alerter.shutdown(Duration::from_millis(100)).await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(
        reqs[0].header("content-type"),
        Some("application/json; charset=utf-8")
    );
    reqs[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_payload() {
    let rx = Receiver::start().await;
    let ch = format!(
        "[[channel]]\ntype = \"slack\"\nname = \"s\"\nurl = \"{}\"\n",
        rx.url("/services/T/B/X")
    );
    let r = one(&ch, &rx, Event::Hijack(hijack(7))).await;
    assert_eq!(r.uri, "/services/T/B/X");
    assert_eq!(r.text(), format!("{{\"text\":{}}}", esc(HIJACK_TEXT)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_escapes_control_characters() {
    let rx = Receiver::start().await;
    let ch = format!(
        "[[channel]]\ntype = \"slack\"\nname = \"s\"\nurl = \"{}\"\n",
        rx.url("/s")
    );
    let mut h = hijack(7);
    h.hijacker_country = "<!channel> & co".into();
    let r = one(&ch, &rx, Event::Hijack(h)).await;
    let t = r.json()["text"].as_str().unwrap().to_string();
    assert!(t.contains("&lt;!channel&gt; &amp; co"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_payload() {
    let rx = Receiver::start().await;
    let ch = format!(
        "[[channel]]\ntype = \"discord\"\nname = \"d\"\nurl = \"{}\"\nusername = \"bgpsentry\"\n",
        rx.url("/api/webhooks/1/x")
    );
    let r = one(&ch, &rx, Event::Hijack(hijack(7))).await;
    assert_eq!(
        r.text(),
        format!(
            "{{\"allowed_mentions\":{{\"parse\":[]}},\"content\":{},\"username\":\"bgpsentry\"}}",
            esc(HIJACK_TEXT)
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_chat_threads_per_event() {
    let rx = Receiver::start().await;
    let ch = format!(
        "[[channel]]\ntype = \"gchat\"\nname = \"g\"\nurl = \"{}\"\n",
        rx.url("/v1/spaces/AAA/messages?key=K&token=T")
    );
    let dir = tempfile::tempdir().unwrap();
    let alerter = Alerter::start(config(&ch), &dir.path().join("s.db")).unwrap();
    let mut sink = alerter.sink();
    let mut h = hijack(7);
    sink.change(&change(ChangeKind::Opened, Event::Hijack(h.clone())));
    rx.wait_for(1, Duration::from_secs(10)).await;
    h.finished = true;
    sink.change(&change(ChangeKind::Ended, Event::Hijack(h)));
    sink.change(&change(ChangeKind::Opened, Event::Leak(leak(3))));
    let reqs = rx.wait_for(3, Duration::from_secs(10)).await;
    alerter.shutdown(Duration::from_millis(100)).await;
    let uris: Vec<&str> = reqs.iter().map(|r| r.uri.as_str()).collect();
    let t = "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD";
    assert_eq!(
        uris.iter()
            .filter(|u| **u
                == format!(
                    "/v1/spaces/AAA/messages?key=K&token=T&threadKey=bgp-hijacks-event-7{t}"
                ))
            .count(),
        2
    );
    assert!(uris.contains(
        &format!("/v1/spaces/AAA/messages?key=K&token=T&threadKey=bgp-leaks-event-3{t}").as_str()
    ));
    let first = reqs
        .iter()
        .find(|r| {
            r.json()["text"]
                .as_str()
                .unwrap()
                .starts_with("New BGP hijack")
        })
        .unwrap();
    assert_eq!(first.text(), format!("{{\"text\":{}}}", esc(HIJACK_TEXT)));
    assert!(reqs.iter().any(|r| {
        r.json()["text"]
            .as_str()
            .unwrap()
            .starts_with("Resolved BGP hijack event (7)")
    }));
    let leak_text = reqs
        .iter()
        .find(|r| r.uri.contains("leaks"))
        .unwrap()
        .json()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        leak_text,
        "New BGP route leak event (3):\nDetected time: 2019-06-24T10:34:00 UTC\nLeaking ASN: AS396531\nSegment (from, by, to): AS33154 AS396531 AS701\nLeak type: 1\nPrefixes (2): 104.20.0.0/21 104.20.8.0/21\nOrigins: 3\nPeer count: 13\nStatus: ongoing\nhttp://127.0.0.1:8080/client/v4/radar/bgp/leaks/events?eventId=3"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_adaptive_card() {
    let rx = Receiver::start().await;
    let ch = format!(
        "[[channel]]\ntype = \"teams\"\nname = \"t\"\nurl = \"{}\"\n",
        rx.url("/workflows/x")
    );
    let r = one(&ch, &rx, Event::Hijack(hijack(7))).await;
    let title = "[bgpsentry] New BGP hijack 7: AS17557 announced 1 prefix(es) of AS36561 (high)";
    let link = "http://127.0.0.1:8080/client/v4/radar/bgp/hijacks/events?eventId=7";
    let expected = format!(
        "{{\"attachments\":[{{\"content\":{{\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\",\"actions\":[{{\"title\":\"Open event\",\"type\":\"Action.OpenUrl\",\"url\":\"{link}\"}}],\"body\":[{{\"size\":\"Medium\",\"text\":{},\"type\":\"TextBlock\",\"weight\":\"Bolder\",\"wrap\":true}},{{\"text\":{},\"type\":\"TextBlock\",\"wrap\":true}}],\"type\":\"AdaptiveCard\",\"version\":\"1.4\"}},\"contentType\":\"application/vnd.microsoft.card.adaptive\",\"contentUrl\":null}}],\"type\":\"message\"}}",
        esc(title),
        esc(HIJACK_TEXT)
    );
    assert_eq!(r.text(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mattermost_payload() {
    let rx = Receiver::start().await;
    let ch = format!(
        "[[channel]]\ntype = \"mattermost\"\nname = \"m\"\nurl = \"{}\"\n",
        rx.url("/hooks/abc")
    );
    let r = one(&ch, &rx, Event::Hijack(hijack(7))).await;
    assert_eq!(r.uri, "/hooks/abc");
    assert_eq!(r.text(), format!("{{\"text\":{}}}", esc(HIJACK_TEXT)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_send_message() {
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("tg");
    std::fs::write(&tok, "123:ABC").unwrap();
    let ch = format!(
        "[[channel]]\ntype = \"telegram\"\nname = \"tg\"\ntoken_file = \"{}\"\nchat_id = \"-10042\"\napi_url = \"{}\"\n",
        tok.display(),
        rx.url("")
    );
    let r = one(&ch, &rx, Event::Hijack(hijack(7))).await;
    assert_eq!(r.uri, "/bot123:ABC/sendMessage");
    assert_eq!(
        r.text(),
        format!(
            "{{\"chat_id\":-10042,\"disable_web_page_preview\":true,\"text\":{}}}",
            esc(HIJACK_TEXT)
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_trigger_then_resolve_same_dedup_key() {
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("pd");
    std::fs::write(&key, "R0UTINGKEY\n").unwrap();
    let ch = format!(
        "[[channel]]\ntype = \"pagerduty\"\nname = \"pd\"\nrouting_key_file = \"{}\"\nurl = \"{}\"\n",
        key.display(),
        rx.url("/v2/enqueue")
    );
    let alerter = Alerter::start(config(&ch), &dir.path().join("s.db")).unwrap();
    let mut sink = alerter.sink();
    let mut h = hijack(7);
    sink.change(&change(ChangeKind::Opened, Event::Hijack(h.clone())));
    rx.wait_for(1, Duration::from_secs(10)).await;
    h.finished = true;
    sink.change(&change(ChangeKind::Ended, Event::Hijack(h)));
    let reqs = rx.wait_for(2, Duration::from_secs(10)).await;
    alerter.shutdown(Duration::from_millis(100)).await;
    assert_eq!(reqs.len(), 2);
    let t = reqs[0].json();
    assert_eq!(t["event_action"], "trigger");
    assert_eq!(t["routing_key"], "R0UTINGKEY");
    assert_eq!(t["dedup_key"], "bgpsentry-hijack-7");
    assert_eq!(t["payload"]["severity"], "critical");
    assert_eq!(t["payload"]["source"], "bgpsentry");
    assert_eq!(t["payload"]["component"], "AS17557");
    assert_eq!(t["payload"]["class"], "bgp hijack");
    assert_eq!(t["payload"]["timestamp"], "2008-02-24T18:47:57.000000Z");
    assert_eq!(
        t["payload"]["summary"],
        "[bgpsentry] New BGP hijack 7: AS17557 announced 1 prefix(es) of AS36561 (high)"
    );
    assert_eq!(
        t["payload"]["custom_details"]["event"]["hijacker_asn"],
        17557
    );
    assert_eq!(
        t["links"][0]["href"],
        "http://127.0.0.1:8080/client/v4/radar/bgp/hijacks/events?eventId=7"
    );
    assert_eq!(
        reqs[1].text(),
        "{\"dedup_key\":\"bgpsentry-hijack-7\",\"event_action\":\"resolve\",\"routing_key\":\"R0UTINGKEY\"}"
    );
}

// ---- a minimal SMTP server: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT ----

#[derive(Debug, Clone, Default)]
struct Mail {
    from: String,
    rcpt: Vec<String>,
    data: String,
}

async fn smtp_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<Mail>>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let m2 = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = l.accept().await else {
                return;
            };
            let mails = m2.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 localhost ESMTP test\r\n").await.unwrap();
                let mut cur = Mail::default();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_string();
                    let up = cmd.to_ascii_uppercase();
                    if up.starts_with("EHLO") {
                        w.write_all(b"250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                            .await
                            .unwrap();
                    } else if up.starts_with("HELO") {
                        w.write_all(b"250 localhost\r\n").await.unwrap();
                    } else if up.starts_with("MAIL FROM:") {
                        cur = Mail {
                            from: cmd[10..].trim().to_string(),
                            ..Default::default()
                        };
                        w.write_all(b"250 OK\r\n").await.unwrap();
                    } else if up.starts_with("RCPT TO:") {
                        cur.rcpt.push(cmd[8..].trim().to_string());
                        w.write_all(b"250 OK\r\n").await.unwrap();
                    } else if up == "DATA" {
                        w.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            let l = line.strip_prefix('.').unwrap_or(&line);
                            data.push_str(l);
                        }
                        cur.data = data;
                        mails.lock().unwrap().push(cur.clone());
                        w.write_all(b"250 OK queued\r\n").await.unwrap();
                    } else if up == "QUIT" {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else if up == "RSET" || up == "NOOP" {
                        w.write_all(b"250 OK\r\n").await.unwrap();
                    } else {
                        w.write_all(b"502 not implemented\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (addr, mails)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_over_real_smtp_has_text_and_html_parts() {
    let (addr, mails) = smtp_server().await;
    let dir = tempfile::tempdir().unwrap();
    let ch = format!(
        "[[channel]]\ntype = \"email\"\nname = \"mail\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"bgpsentry <alerts@example.net>\"\nto = [\"noc@example.net\", \"oncall@example.net\"]\nhello_name = \"bgpsentry.test\"\n",
        addr.port()
    );
    let alerter = Alerter::start(config(&ch), &dir.path().join("s.db")).unwrap();
    let mut sink = alerter.sink();
    let mut h = hijack(7);
    h.victim_countries = vec!["US".into()];
    sink.change(&change(ChangeKind::Opened, Event::Hijack(h.clone())));
    h.finished = true;
    sink.change(&change(ChangeKind::Ended, Event::Hijack(h)));
    let start = std::time::Instant::now();
    while mails.lock().unwrap().len() < 2 && start.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    alerter.shutdown(Duration::from_millis(100)).await;
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 2);
    let m = &mails[0];
    assert_eq!(m.from, "<alerts@example.net>");
    assert_eq!(m.rcpt, ["<noc@example.net>", "<oncall@example.net>"]);
    // Unfold folded header lines (RFC 5322 2.2.3).
    let d = &m.data.replace("\r\n ", " ");
    assert!(d.contains("Subject: [bgpsentry] New BGP hijack 7: AS17557 announced 1 prefix(es) of AS36561 (high)\r\n"), "{d}");
    assert!(
        d.contains("Message-ID: <bgpsentry-hijack-7-new-mail@bgpsentry>"),
        "{d}"
    );
    assert!(d.contains("Content-Type: multipart/alternative;"), "{d}");
    assert!(d.contains("Content-Type: text/plain; charset=utf-8"), "{d}");
    assert!(d.contains("Content-Type: text/html; charset=utf-8"), "{d}");
    assert!(d.contains("Detected ASN: AS17557 PK"), "{d}");
    // The HTML part is quoted-printable ("=" is "=3D", long lines soft-broken).
    let html = d.replace("=\r\n", "").replace("=3D", "=");
    assert!(
        html.contains(
            "<a href=\"http://127.0.0.1:8080/client/v4/radar/bgp/hijacks/events?eventId=7\">"
        ),
        "{d}"
    );
    let r = &mails[1].data.replace("\r\n ", " ");
    assert!(
        r.contains("Subject: [bgpsentry] Resolved BGP hijack 7"),
        "{r}"
    );
    assert!(
        r.contains("In-Reply-To: <bgpsentry-hijack-7@bgpsentry>"),
        "{r}"
    );
    assert!(
        r.contains("References: <bgpsentry-hijack-7@bgpsentry>"),
        "{r}"
    );
}
