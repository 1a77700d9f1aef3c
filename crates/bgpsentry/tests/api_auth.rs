//! Authentication and exposure rules: bearer tokens (constant-time
//! compare), open only on loopback without tokens, and the real binary
//! refusing a public address without tokens unless `--insecure-public`.

mod api_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use api_support::*;
use bgpsentry::api::cmd::check_exposure;
use bgpsentry::api::{Clock, Tokens};

const H: &str = "/client/v4/radar/bgp/hijacks/events";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_guard_the_api() {
    let srv = start(
        |_| {},
        &["first-token-aaaaaaaaaaaa", "second-token-bbbbbbbbbbb"],
        Clock::Wall,
    )
    .await;
    assert_eq!(srv.get(H).await.0, 401);
    assert_eq!(srv.get_with(H, Some("wrong")).await.0, 401);
    assert_eq!(
        srv.get_with(H, Some("first-token-aaaaaaaaaaa")).await.0,
        401,
        "a prefix is not enough"
    );
    assert_eq!(
        srv.get_with(H, Some("first-token-aaaaaaaaaaaa")).await.0,
        200
    );
    assert_eq!(
        srv.get_with(H, Some("second-token-bbbbbbbbbbb")).await.0,
        200
    );
    assert_eq!(srv.get_with(&format!("{H}/1"), None).await.0, 401);
    assert_eq!(srv.get_with("/metrics", None).await.0, 401);
    let (s, body) = srv.get(H).await;
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        (s, &v["success"], &v["errors"][0]["code"]),
        (
            401,
            &serde_json::Value::Bool(false),
            &serde_json::json!(10000)
        )
    );
    // Health and the API description stay open for probes.
    assert_eq!(srv.get("/healthz").await.0, 200);
    assert_eq!(srv.get("/openapi.json").await.0, 200);
    // Scheme is case-insensitive.
    let resp = reqwest::Client::new()
        .get(format!("{}{H}", srv.base))
        .header("Authorization", "bearer first-token-aaaaaaaaaaaa")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status().as_u16(), 200);
}

#[test]
fn exposure_rules() {
    let open = Tokens::default();
    let locked = Tokens::new(["a-long-enough-token-123"]);
    let lo4 = "127.0.0.1:8080".parse().expect("addr");
    let lo6 = "[::1]:8080".parse().expect("addr");
    let any = "0.0.0.0:8080".parse().expect("addr");
    let public = "192.0.2.10:8080".parse().expect("addr");
    assert!(check_exposure(&lo4, &open, false).is_ok());
    assert!(check_exposure(&lo6, &open, false).is_ok());
    assert!(check_exposure(&any, &open, false).is_err());
    assert!(check_exposure(&public, &open, false).is_err());
    assert!(check_exposure(&public, &locked, false).is_ok());
    assert!(check_exposure(&any, &open, true).is_ok());
}

#[test]
fn binary_refuses_public_address_without_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("e.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args(["serve", "--db"])
        .arg(&db)
        .args(["--listen", "0.0.0.0:0"])
        .env_remove("BGPSENTRY_API_TOKENS")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to serve without tokens"), "{err}");
}

#[test]
fn binary_serves_with_tokens_from_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("e.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args(["serve", "--db"])
        .arg(&db)
        .args(["--listen", "127.0.0.1:0"])
        .env(
            "BGPSENTRY_API_TOKENS",
            "env-token-one-xxxxxxxx, env-token-two-yyyyyyyy",
        )
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut addr = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        if let Some(a) = line.strip_prefix("bgpsentry: listening on ") {
            addr = Some(a.trim().to_string());
            break;
        }
    }
    let base = addr.expect("server announced its address");
    let client = reqwest::blocking::Client::new();
    let status = |tok: Option<&str>| {
        let mut r = client.get(format!("{base}{H}?per_page=1"));
        if let Some(t) = tok {
            r = r.bearer_auth(t);
        }
        r.send().expect("request").status().as_u16()
    };
    let results = (status(None), status(Some("env-token-two-yyyyyyyy")));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(results, (401, 200));
}
