//! Against a real Coder server: the harness in tests/real-coder (a `go test -c` binary
//! that starts coderd from Coder's own test packages, with PostgreSQL and a Premium
//! license). `cargo test real_coder` selects these tests.
//!
//! The harness binary is taken from $ORGSPLIT_REAL_CODER_HARNESS, else
//! tests/real-coder/realcoder-harness. When it is missing the tests say so and pass,
//! except under CI=true, where they fail.

use crate::common::{orgsplit, read_json, root};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

struct Harness {
    child: Child,
    url: String,
    token: String,
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Closing stdin tells the harness to stop; then reap it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn harness_path() -> PathBuf {
    std::env::var_os("ORGSPLIT_REAL_CODER_HARNESS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("tests/real-coder/realcoder-harness"))
}

/// Starts the harness, or returns None (after saying why) when it is not built here.
fn start() -> Option<Harness> {
    let bin = harness_path();
    if !bin.is_file() {
        let why =
            format!("real Coder harness not built: {} is missing (see tests/real-coder/README.md)", bin.display());
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipping: {why}");
        return None;
    }
    let mut child = Command::new(&bin)
        .args(["-test.run", "^TestServe$", "-test.timeout", "0"])
        .env("ORGSPLIT_REAL_CODER", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let ready = loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with('{') => break line,
            Some(Ok(_)) => continue,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the harness stopped before printing its URL: {other:?}");
            }
        }
    };
    let v: serde_json::Value = serde_json::from_str(&ready).expect("the harness's ready line is JSON");
    let url = v["url"].as_str().expect("url").to_string();
    let token = v["token"].as_str().expect("token").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "binds 127.0.0.1 only: {url}");
    // Keep reading stdout so the harness never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Some(Harness { child, url, token })
}

#[test]
fn real_coder_import_names_the_owner_and_the_default_org() {
    let Some(h) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    orgsplit()
        .args(["import", "--url", &h.url, "-o"])
        .arg(&out)
        .env("CODER_SESSION_TOKEN", &h.token)
        .assert()
        .success();
    let s = read_json(&out);
    let users: Vec<&str> = s["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert!(users.contains(&"testuser"), "the first owner is in the snapshot: {users:?}");
    let orgs = s["organizations"].as_array().unwrap();
    let default: Vec<&serde_json::Value> = orgs.iter().filter(|o| o["is_default"] == true).collect();
    assert_eq!(default.len(), 1, "exactly one default org: {orgs:?}");
    assert!(!default[0]["name"].as_str().unwrap().is_empty());
}
