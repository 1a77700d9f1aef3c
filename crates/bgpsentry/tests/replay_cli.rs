//! End-to-end tests of `bgpsentry replay` as a user runs it: real files from
//! ../shared/data, damaged inputs, and URLs served by a real HTTP server on
//! 127.0.0.1 (answering 404, stalling, or streaming a real archive).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::thread;
use std::time::Duration;

use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn bgpsentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args(args)
        .output()
        .expect("run bgpsentry")
}

/// The summary line of `replay --json`.
fn summary(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rfind(|l| l.contains("\"kind\":\"summary\""))
        .unwrap_or_else(|| {
            panic!(
                "no summary in {stdout:?}, stderr {:?}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).expect("summary is JSON")
}

/// Serves one canned HTTP response per connection, `n` times.
fn serve(n: usize, respond: impl Fn(&mut std::net::TcpStream) + Send + 'static) -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut s, _)) = l.accept() else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            respond(&mut s);
        }
    });
    format!("http://{addr}")
}

#[test]
fn replays_a_real_update_file_completely() {
    let f = format!("{DATA}/mrt/bgpkit/updates.bz2");
    let out = bgpsentry(&["replay", "--json", &f]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&out);
    assert_eq!(s["status"], "complete");
    assert_eq!(s["damaged"], 0);
    assert!(s["records"].as_u64().unwrap_or(0) > 0);
    // bgpdump -m prints 268 lines for this file (bgpkit-vs-bgpdump.md §4): every
    // one is an announcement or withdrawal of a unicast prefix.
    let routes = s["announcements"].as_u64().unwrap_or(0) + s["withdrawals"].as_u64().unwrap_or(0);
    assert_eq!(routes, 268);
}

#[test]
fn merging_is_independent_of_argument_order_for_counts_and_span() {
    let a = format!("{DATA}/mrt/incident-youtube-2008/updates.20080224.1201.bz2");
    let b = format!("{DATA}/mrt/incident-youtube-2008/updates.20080224.1218.bz2");
    let ab = summary(&bgpsentry(&["replay", "--json", &a, &b]));
    let ba = summary(&bgpsentry(&["replay", "--json", &b, &a]));
    for k in [
        "records",
        "messages",
        "announcements",
        "withdrawals",
        "peers",
        "prefixes",
        "first_ts",
        "last_ts",
    ] {
        assert_eq!(ab[k], ba[k], "{k}");
    }
    assert_eq!(ab["records"], 30_842 + 30_309);
    assert_eq!(ab["first_ts"], "2008-02-24T12:01:34.000000Z");
    assert_eq!(ab["last_ts"], "2008-02-24T12:33:20.000000Z");
}

#[test]
fn truncated_rib_is_partial_and_names_file_and_offset() {
    let f = format!("{DATA}/mrt/pyasn-ribs/rib.20080501.0644_firstMB.bz2");
    let out = bgpsentry(&["replay", "--json", &f]);
    assert_eq!(out.status.code(), Some(3), "partial exit code");
    let s = summary(&out);
    assert_eq!(s["status"], "partial");
    assert!(
        s["records"].as_u64().unwrap_or(0) > 10_000,
        "records before the cut are delivered"
    );
    let ex = &s["damage_examples"][0];
    assert_eq!(ex["input"], f.as_str());
    assert!(ex["offset"].as_u64().is_some());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rib.20080501.0644_firstMB.bz2"),
        "stderr names the file: {stderr}"
    );
}

#[test]
fn missing_path_fails_with_its_name() {
    let out = bgpsentry(&["replay", "/nonexistent/updates.bz2"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/updates.bz2"), "{stderr}");
}

#[test]
fn empty_file_and_garbage_are_failed_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.mrt");
    std::fs::write(&empty, b"").expect("write");
    let garbage = dir.path().join("garbage.gz");
    std::fs::write(&garbage, vec![0xa5u8; 10_000]).expect("write");
    // Empty is failed, as in `dump` (issue 19, item 7).
    let out = bgpsentry(&["replay", "--json", empty.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1));
    let s = summary(&out);
    assert_eq!(s["records"], 0);
    assert_eq!(s["status"], "failed");
    assert_eq!(s["damage_by_reason"]["empty input"], 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("empty input"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bgpsentry(&["replay", "--json", garbage.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1));
    let s = summary(&out);
    assert_eq!(s["status"], "failed");
    assert_eq!(s["damage_by_reason"]["garbage bytes skipped"], 1);
}

#[test]
fn directory_with_an_unreadable_entry_reads_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = format!("{DATA}/mrt/bgpkit/updates.bz2");
    std::fs::copy(&src, dir.path().join("a.bz2")).expect("copy to tempdir");
    // A dangling symlink cannot be opened, even by root.
    std::os::unix::fs::symlink("/nonexistent/target", dir.path().join("b.bz2")).expect("symlink");
    let out = bgpsentry(&["replay", "--json", dir.path().to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(3));
    let s = summary(&out);
    assert_eq!(s["inputs"], 2);
    assert_eq!(s["inputs_failed"], 1);
    assert!(
        s["input_errors"][0]
            .as_str()
            .unwrap_or("")
            .contains("b.bz2")
    );
    assert!(s["records"].as_u64().unwrap_or(0) > 0);
}

#[test]
fn url_404_fails_naming_the_url() {
    let base = serve(1, |s| {
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
    let url = format!("{base}/rrc00/updates.gz");
    let out = bgpsentry(&["replay", "--json", &url]);
    assert_eq!(out.status.code(), Some(1));
    let s = summary(&out);
    assert!(
        s["input_errors"][0]
            .as_str()
            .unwrap_or("")
            .contains("HTTP 404"),
        "{s}"
    );
}

#[test]
fn url_is_streamed_and_gives_the_same_result_as_the_file() {
    let f = format!("{DATA}/mrt/bgpkit/updates.bz2");
    let body = std::fs::read(&f).expect("read sample");
    let base = serve(1, move |s| {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        for chunk in body.chunks(1000) {
            let _ = s.write_all(chunk);
        }
    });
    let from_url = summary(&bgpsentry(&[
        "replay",
        "--json",
        &format!("{base}/updates.bz2"),
    ]));
    let from_file = summary(&bgpsentry(&["replay", "--json", &f]));
    for k in [
        "records",
        "announcements",
        "withdrawals",
        "peers",
        "prefixes",
        "first_ts",
        "last_ts",
        "status",
    ] {
        assert_eq!(from_url[k], from_file[k], "{k}");
    }
}

#[test]
fn stalled_url_gives_up_and_keeps_what_arrived() {
    let f = format!("{DATA}/mrt/ripe-bgpdump-testdata/updates.20020722.2238.gz");
    let body = std::fs::read(&f).unwrap_or_default();
    let base = serve(1, move |s| {
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&body[..body.len() / 2]);
        thread::sleep(Duration::from_secs(8));
    });
    let out = bgpsentry(&[
        "replay",
        "--json",
        "--stall-timeout",
        "1",
        &format!("{base}/u.gz"),
    ]);
    let s = summary(&out);
    assert_eq!(s["status"], "partial", "{s}");
    assert_eq!(out.status.code(), Some(3));
    assert!(s["records"].as_u64().unwrap_or(0) > 0);
}

/// Issue 19, item 6: a gzip of zeros and a file of 100,000 unsupported
/// records give a few lines of stderr stating the totals; the summary counts
/// every report.
#[test]
fn repeated_diagnostics_are_limited_and_totalled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zeros = dir.path().join("zeros.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&vec![0u8; 16 << 20]).expect("gzip");
    std::fs::write(&zeros, gz.finish().expect("gzip")).expect("write");
    let out = bgpsentry(&["replay", "--json", zeros.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.len() < 2000, "{} bytes of stderr", err.len());
    assert!(
        err.contains(&format!("{} bytes of garbage", 16 << 20)),
        "{err}"
    );

    let mut v = Vec::new();
    for i in 0..100_000u32 {
        v.extend_from_slice(&(1_203_878_877 + i / 1000).to_be_bytes());
        v.extend_from_slice(&[0, 11, 0, 0, 0, 0, 0, 0]);
    }
    let many = dir.path().join("ospf.mrt");
    std::fs::write(&many, v).expect("write");
    let out = bgpsentry(&["replay", "--json", many.to_str().unwrap_or_default()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().count() <= 12,
        "{} lines: {err:.3000}",
        err.lines().count()
    );
    assert_eq!(
        err.matches("unsupported record: MRT type 11").count(),
        10,
        "{err}"
    );
    assert!(
        err.contains("100000 reports of \"unsupported: MRT type 11 subtype 0\" in total, 10 shown"),
        "{err}"
    );
    assert_eq!(
        summary(&out)["damage_by_reason"]["unsupported: MRT type 11 subtype 0"],
        100_000
    );
}

/// The README's first `bgpsentry replay` example, as arguments, run from the
/// repository root (its paths are relative to it).
fn readme_replay_example() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let start = readme
        .find("bgpsentry replay --bootstrap")
        .expect("README has a replay example");
    let end = start + readme[start..].find("```").expect("closing fence");
    let cmd = readme[start..end].replace("\\\n", " ");
    cmd.split_whitespace().skip(1).map(str::to_string).collect()
}

#[test]
fn readme_example_lists_the_incident_first_and_counts_the_rest() {
    let args = readme_replay_example();
    let out = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(&args)
        .output()
        .expect("run bgpsentry");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    // Hijacks: the most confident first, 20 rows, the rest counted.
    let head = lines[0];
    let total: usize = head
        .strip_prefix("hijack events: ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("first line {head:?}"));
    assert!(total > 100, "{head}");
    assert!(
        head.ends_with("(by confidence, then start time; top 20 shown)"),
        "{head}"
    );
    assert!(
        lines[1].trim_start().starts_with("id score type"),
        "{}",
        lines[1]
    );
    let rows = &lines[2..22];
    let scores: Vec<i32> = rows
        .iter()
        .map(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("score")
        })
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "sorted by score: {scores:?}"
    );
    let youtube = rows
        .iter()
        .find(|l| l.contains("AS17557") && l.contains("208.65.153.0/24"))
        .unwrap_or_else(|| panic!("the YouTube hijack is in the top 20:\n{stdout}"));
    assert!(youtube.contains("36561"), "{youtube}");
    assert_eq!(
        lines[22],
        format!("  ... and {} more (use --json or --db)", total - 20)
    );
    assert!(
        lines[23].starts_with("legend: score = confidence"),
        "{}",
        lines[23]
    );
    assert!(lines[23].contains("more_specific(+2)"), "{}", lines[23]);
    // Leaks are listed the same way, with their own legend.
    let li = lines
        .iter()
        .position(|l| l.starts_with("leak events: "))
        .unwrap_or_else(|| panic!("leak events listed:\n{stdout}"));
    assert!(lines[li + 1].contains("leaker") && lines[li + 1].contains("segment"));
    let leak_rows = lines[li + 2..]
        .iter()
        .take_while(|l| !l.starts_with("legend:") && !l.starts_with("  ..."))
        .count();
    assert!(leak_rows > 0 && leak_rows <= 20, "{stdout}");
    assert!(
        lines[li + 2].contains('>'),
        "segment from>by>to: {}",
        lines[li + 2]
    );
    assert!(stdout.contains("type = RFC 7908 (1 hairpin"), "{stdout}");
    let leaks: usize = lines[li]
        .strip_prefix("leak events: ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", lines[li]));
    let events_line = lines
        .iter()
        .find(|l| l.starts_with("events  "))
        .expect("events line");
    assert!(
        events_line.contains(&format!(" {} (", total + leaks)),
        "every hijack and leak counted: {events_line}"
    );
}
