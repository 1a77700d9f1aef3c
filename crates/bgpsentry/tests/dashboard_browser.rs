//! The dashboard in a real browser: headless Chromium (Debian `chromium` and
//! `chromium-driver`) driven over the W3C WebDriver protocol with plain HTTP
//! JSON calls. A store is filled by a real `bgpsentry replay` of the 2008
//! YouTube hijack (../shared/data), the real `bgpsentry serve` serves it on
//! 127.0.0.1, and the test does what a person would: open the dashboard,
//! filter by hijacker AS17557 and high confidence, open the event, and read
//! the prefix, the hijacker's name, the tags and the confidence label. It
//! also checks keyboard focus after navigation and the layout at phone
//! width. Screenshots go to `target/dashboard-screenshots/`.
//!
//! Everything runs on loopback; every wait has a deadline; a missing
//! browser or driver fails with the packages to install.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
/// The hijack window of the incident (18:47 → 21:01 UTC).
const YOUTUBE_FILES: &[&str] = &[
    "1807", "1824", "1839", "1854", "1909", "1924", "1939", "1954", "2009", "2026", "2041", "2056",
    "2111",
];
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const WAIT: Duration = Duration::from_secs(20);

/// Kills a child process when dropped (also when the test panics).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(["/usr/bin".into(), "/usr/lib/chromium".into()])
        .collect();
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("create target/dashboard-screenshots");
    dir.canonicalize().unwrap_or(dir)
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Fills a store with a real replay of the incident's update files.
fn replay_into(db: &Path) {
    let dir = format!("{DATA}/mrt/incident-youtube-2008");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bgpsentry"));
    cmd.args([
        "replay",
        "--no-progress",
        "--collector",
        "rrc00",
        "--bootstrap",
    ])
    .arg(format!("{DATA}/pfx2as/ipasn_20080501_v12.dat.gz"))
    .arg("--as2org")
    .arg(format!("{DATA}/as2org/20080402.as-org2info.jsonl.gz"))
    .arg("--db")
    .arg(db);
    for f in YOUTUBE_FILES {
        cmd.arg(format!("{dir}/updates.20080224.{f}.bz2"));
    }
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run bgpsentry replay");
    assert!(
        out.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `bgpsentry serve` on 127.0.0.1 (port 0), with an API token if given;
/// returns the process and base URL.
fn serve(db: &Path, token: Option<&str>) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bgpsentry"));
    cmd.args(["serve", "--db"])
        .arg(db)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("BGPSENTRY_API_TOKENS");
    if let Some(t) = token {
        cmd.env("BGPSENTRY_API_TOKENS", t);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bgpsentry serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !sent && let Some(a) = line.strip_prefix("bgpsentry: listening on ") {
                let _ = tx.send(a.trim().to_string());
                sent = true;
            }
        }
    });
    let proc = Proc(child);
    let base = rx
        .recv_timeout(WAIT)
        .expect("bgpsentry serve did not announce its address in time");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    (proc, base)
}

/// A W3C WebDriver session.
struct Driver {
    http: reqwest::blocking::Client,
    url: String,
    _proc: Proc,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let hint = "install the Debian packages `chromium` and `chromium-driver` \
                    (apt-get install -y chromium chromium-driver; .ci/run does)";
        let driver = find_program(&["chromedriver"])
            .unwrap_or_else(|| panic!("chromedriver not found on PATH: {hint}"));
        let chromium = find_program(&["chromium", "chromium-browser"])
            .unwrap_or_else(|| panic!("chromium not found on PATH: {hint}"));
        let port = free_port();
        let proc = Proc(
            Command::new(&driver)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display())),
        );
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .expect("http client");
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = http
                .get(format!("{root}/status"))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                    "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-default-apps", "--disable-extensions",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let v: Value = http
            .post(format!("{root}/session"))
            .json(&caps)
            .send()
            .expect("POST /session")
            .json()
            .expect("session JSON");
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        let d = Driver {
            http,
            url: format!("{root}/session/{id}"),
            _proc: proc,
            _profile: profile,
        };
        d.call(
            "POST",
            "/timeouts",
            json!({"implicit": 0, "pageLoad": 30_000, "script": 30_000}),
        );
        d
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.url);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url).json(&body),
        };
        let resp = req
            .send()
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status();
        let v: Value = resp.json().unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        let v = self.call(
            "POST",
            "/elements",
            json!({"using": "css selector", "value": css}),
        );
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching `css` whose text satisfies `ok`, waiting
    /// for it up to [`WAIT`].
    fn wait_for(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            for el in self.find_all(css) {
                // the element may be replaced between find and read
                let url = format!("{}/element/{el}/text", self.url);
                let Ok(resp) = self.http.get(&url).send() else {
                    continue;
                };
                let Ok(v) = resp.json::<Value>() else {
                    continue;
                };
                if let Some(t) = v["value"].as_str() {
                    if ok(t) {
                        return el;
                    }
                    last = t.to_string();
                }
            }
            if Instant::now() > deadline {
                let shot = screenshots_dir().join("failure.png");
                self.screenshot(&shot);
                panic!(
                    "timed out waiting for {css:?}; last text seen: {last:?}; screenshot {}",
                    shot.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn text(&self, el: &str) -> String {
        self.call("GET", &format!("/element/{el}/text"), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn click(&self, el: &str) {
        self.call("POST", &format!("/element/{el}/click"), json!({}));
    }

    fn type_into(&self, el: &str, text: &str) {
        self.call("POST", &format!("/element/{el}/clear"), json!({}));
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            json!({ "text": text }),
        );
    }

    fn script(&self, js: &str) -> Value {
        self.call("POST", "/execute/sync", json!({"script": js, "args": []}))
    }

    fn screenshot(&self, path: &Path) {
        let url = format!("{}/screenshot", self.url);
        let png = self
            .http
            .get(&url)
            .send()
            .ok()
            .and_then(|r| r.json::<Value>().ok())
            .and_then(|v| v["value"].as_str().map(base64_decode));
        if let Some(png) = png {
            let _ = std::fs::write(path, png);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.url).send();
    }
}

/// Standard base64 (the screenshot encoding), padding and whitespace ignored.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn base64_round_trip() {
    assert_eq!(base64_decode("aGVsbG8gd29ybGQ="), b"hello world");
    assert_eq!(base64_decode("iVBORw0K"), b"\x89PNG\r\n");
}

#[test]
fn a_person_finds_the_youtube_hijack_in_the_dashboard() {
    let started = Instant::now();
    let shots = screenshots_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("events.sqlite");
    replay_into(&db);
    let replayed = started.elapsed();
    let (_server, base) = serve(&db, None);
    let b = Driver::start();

    // 1. `/` leads to the overview
    b.goto(&format!("{base}/"));
    b.wait_for("#card-hijacks", |t| t.contains("ongoing now"));
    let top = b.wait_for("#top-hijackers", |t| t.contains("AS17557"));
    assert!(
        b.text(&top).contains("PKTELECOM-AS-AP"),
        "top hijackers show names"
    );
    b.wait_for("#feeds-none", |t| t.contains("No live sources"));
    b.screenshot(&shots.join("1-overview.png"));

    // 2. the hijack list, filtered by hijacker ASN through the form
    let nav = b.wait_for("#nav-hijacks", |t| t == "Hijacks");
    b.click(&nav);
    b.wait_for("#events caption", |t| t.contains("events"));
    let asn = b.wait_for("#f-hijackerAsn", |_| true);
    b.type_into(&asn, "17557");
    b.click(&b.wait_for("#apply", |_| true));
    // the rendered results carry the API query they came from
    let caption = b.wait_for(
        "#results[data-query*='hijackerAsn=17557'][aria-busy=false] #events caption",
        |t| t.contains("event"),
    );
    let rows = b.find_all("#events tbody tr");
    assert!(!rows.is_empty(), "{}", b.text(&caption));
    for r in &rows {
        let t = b.text(r);
        assert!(t.contains("AS17557 (PKTELECOM-AS-AP, PK)"), "row {t:?}");
    }
    let hash = b.script("return location.hash;");
    assert!(
        hash.as_str().unwrap_or("").contains("hijackerAsn=17557"),
        "{hash}"
    );
    b.screenshot(&shots.join("2-list-hijacker-17557.png"));

    // 3. and by confidence "high": the YouTube event remains
    let high = b.wait_for("#f-confidence option[value=high]", |_| true);
    b.click(&high);
    b.click(&b.wait_for("#apply", |_| true));
    // (AS17557's other high event in the window is its re-origination of
    // four Pakistani networks' prefixes, tag `reorigination`)
    b.wait_for(
        "#results[data-query*='minConfidence=8'][aria-busy=false] #page-info",
        |t| t.starts_with("2 events,"),
    );
    let row = b.wait_for("#events tbody tr", |t| t.contains("208.65.153.0/24"));
    let row_text = b.text(&row);
    assert!(row_text.contains("High (8)"), "{row_text}");
    assert!(row_text.contains("AS36561 (YOUTUBE, US)"), "{row_text}");
    assert!(row_text.contains("Finished"), "{row_text}");

    // sorting by confidence is a keyboard-reachable button in the header
    // operated with the keyboard: Enter on the focused header button
    let sort = b.wait_for("#events th button[data-sort=CONFIDENCE]", |_| true);
    b.call(
        "POST",
        &format!("/element/{sort}/value"),
        json!({ "text": "\u{E007}" }),
    );
    b.wait_for("#events th[aria-sort=descending]", |t| {
        t.contains("Confidence")
    });

    // 4. open the event
    let link = b.wait_for("#events tbody a", |t| t.contains("208.65.153.0/24"));
    b.click(&link);
    let title = b.wait_for("#event-title", |t| t.contains("AS17557"));
    let title = b.text(&title);
    assert!(title.contains("PKTELECOM-AS-AP"), "{title}");
    assert!(title.contains("PK"), "{title}");
    let focused = b.script("return document.activeElement && document.activeElement.id;");
    assert_eq!(focused, "event-title", "focus moves to the page heading");
    let prefixes = b.wait_for("#prefixes", |_| true);
    assert_eq!(b.text(&prefixes), "208.65.153.0/24");
    let hijacker = b.wait_for("#hijacker", |_| true);
    assert_eq!(b.text(&hijacker), "AS17557 (PKTELECOM-AS-AP, PK)");
    let fields = b.text(&b.wait_for("dl.fields", |_| true));
    assert!(fields.contains("High (8)"), "{fields}");
    assert!(fields.contains("AS36561 (YOUTUBE, US)"), "{fields}");
    assert!(fields.contains("2008-02-24 18:47:57 UTC"), "{fields}");
    let origins = b.text(&b.wait_for("#origins", |_| true));
    for want in [
        "Hijacker",
        "AS17557",
        "PKTELECOM-AS-AP",
        "Victim",
        "YOUTUBE",
        "US",
    ] {
        assert!(
            origins.contains(want),
            "origins table lacks {want}: {origins}"
        );
    }
    let tags = b.text(&b.wait_for("#tags", |t| t.contains("more_specific")));
    assert!(tags.contains("+2"), "{tags}");
    assert!(
        tags.contains("strictly more specific"),
        "tag meanings come from docs/tags.md: {tags}"
    );
    assert!(tags.contains("High (8)"), "{tags}");
    let marks = b.find_all("#paths mark");
    assert!(
        !marks.is_empty(),
        "the hijacker is highlighted in sample paths"
    );
    for m in &marks {
        assert_eq!(b.text(m), "17557");
    }
    assert!(
        !b.find_all("#timeline-chart rect").is_empty(),
        "timeline bars"
    );
    b.wait_for("p.legend", |t| {
        t.contains("hijack announcements reported per minute")
    });
    assert!(b.find_all(".error").is_empty(), "no error shown");
    b.screenshot(&shots.join("3-event-youtube.png"));
    for (id, file) in [
        ("tags", "3a-event-tags.png"),
        ("timeline-chart", "3b-event-timeline.png"),
        ("paths", "3c-event-paths.png"),
    ] {
        b.script(&format!(
            "document.getElementById('{id}').scrollIntoView({{block: 'start'}});"
        ));
        b.screenshot(&shots.join(file));
    }

    // 5. phone width: nothing overflows the viewport
    b.call("POST", "/window/rect", json!({"width": 390, "height": 844}));
    std::thread::sleep(Duration::from_millis(300));
    let overflow = b.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    );
    assert!(
        overflow.as_i64().unwrap_or(999) <= 0,
        "page wider than a phone by {overflow}px"
    );
    b.screenshot(&shots.join("4-event-phone.png"));
    b.call(
        "POST",
        "/window/rect",
        json!({"width": 1280, "height": 900}),
    );

    // 6. a route leak page renders with its segment and highlighted leaker
    b.goto(&format!("{base}/dashboard/#/leaks"));
    let leak = b.wait_for("#events tbody a", |t| !t.is_empty());
    b.click(&leak);
    let leaker = b.wait_for("#leaker", |t| t.starts_with("AS"));
    let leaker = b.text(&leaker);
    assert!(!b.find_all("#paths mark").is_empty(), "leaker highlighted");
    assert!(b.find_all(".error").is_empty(), "no error shown");
    b.screenshot(&shots.join("5-leak.png"));

    eprintln!(
        "dashboard browser test: replay {:.1} s, total {:.1} s, leak page for {leaker}, screenshots in {}",
        replayed.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}

#[test]
fn with_tokens_the_page_asks_for_one_and_keeps_it() {
    let token = "dashboard-browser-token-5f1c2e";
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, base) = serve(&dir.path().join("empty.sqlite"), Some(token));
    let b = Driver::start();
    b.goto(&format!("{base}/dashboard/#/hijacks"));
    // the list answers 401: the token dialog opens with the reason
    b.wait_for("#token-dialog[open] #token-reason", |t| {
        t.contains("bearer token")
    });
    let focused = b.script("return document.activeElement && document.activeElement.id;");
    assert_eq!(focused, "token-input", "focus goes to the token field");
    let input = b.wait_for("#token-input", |_| true);
    b.type_into(&input, token);
    b.click(&b.wait_for("#token-save", |_| true));
    b.wait_for("#events caption", |t| t.contains("0 events"));
    let stored = b.script("return localStorage.getItem('bgpsentry.token');");
    assert_eq!(stored, token);
    b.screenshot(&screenshots_dir().join("6-token-unlocked.png"));
    // "Forget token" removes it and the data is locked again
    b.click(&b.wait_for("#token-button", |_| true));
    b.click(&b.wait_for("#token-clear", |_| true));
    let stored = b.script("return localStorage.getItem('bgpsentry.token');");
    assert_eq!(stored, Value::Null);
    b.wait_for("#token-dialog[open] #token-reason", |t| {
        t.contains("bearer token")
    });
}
