//! `orgsplit import --url` as a user runs it: the session token in no output
//! and no file, TLS verified (with `--ca-cert` for a private CA), and the
//! mistakes a user makes answered with a clear message.

use std::path::Path;

use orgsplit::model::Snapshot;

use crate::common::*;
use fake_coder::{FakeCoder, Fault};

fn megaco_fake() -> FakeCoder {
    FakeCoder::start(fake_coder::megaco())
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn import(fake_url: &str, token: Option<&str>, extra: &[&str], out: &Path) -> Run {
    let mut cmd = orgsplit();
    cmd.args(["import", "--url", fake_url]).args(extra).arg("--out").arg(out);
    if let Some(token) = token {
        cmd.env("CODER_SESSION_TOKEN", token);
    }
    let output = cmd.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into(),
        stderr: String::from_utf8_lossy(&output.stderr).into(),
    }
}

/// The token must not appear in anything a run leaves behind.
fn assert_secret_kept(token: &str, run: &Run, dir: &Path) {
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token), "the token leaked: {}", run.stderr);
    let secret_part = token.split('-').nth(1).unwrap();
    assert!(!run.stderr.contains(secret_part), "part of the token leaked: {}", run.stderr);
    for file in files_in(dir) {
        let bytes = std::fs::read(dir.join(&file)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(token) && !text.contains(secret_part), "the token is in {file}");
    }
}

#[test]
fn the_token_is_in_no_output_and_no_file_whatever_happens() {
    let fake = megaco_fake();
    let token = fake.token();
    let dir = tempfile::tempdir().unwrap();
    // A run through faults, which take the retry and error paths.
    fake.script("GET", "/api/v2/organizations", Fault::Status(503), 1);
    fake.script("GET", "/acl", Fault::CutBody, 2);
    fake.script("GET", "/api/v2/users?", Fault::Status(502), 1);
    let ok = import(&fake.url(), Some(&token), &[], &dir.path().join("s.json"));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_secret_kept(&token, &ok, dir.path());
    // A failing run: the server refuses an endpoint.
    fake.forbid("GET", "/workspaces");
    let refused = import(&fake.url(), Some(&token), &[], &dir.path().join("refused.json"));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("403 Forbidden"), "{}", refused.stderr);
    assert_secret_kept(&token, &refused, dir.path());
    // A token the server does not know.
    let wrong = "Wr0ngT0ken-d0esn0tw0rkatall123456";
    let unknown = import(&fake.url(), Some(wrong), &[], &dir.path().join("unknown.json"));
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("401 Unauthorized"), "{}", unknown.stderr);
    assert_secret_kept(wrong, &unknown, dir.path());
    assert_eq!(files_in(dir.path()), ["s.json"], "failed runs leave no file");
}

#[test]
fn a_missing_token_is_an_error_and_a_missing_url_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let run = import("https://coder.example.com", None, &[], &out);
    // The command line is right; the environment lacks the token: exit 1, not 64.
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: CODER_SESSION_TOKEN is not set: orgsplit reads the Coder session token"),
        "{}",
        run.stderr
    );
    let none = orgsplit().args(["import", "--out"]).arg(&out).output().unwrap();
    assert_eq!(none.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert!(stderr.contains("--from-dir DIR (an export folder) or --url URL"), "{stderr}");
    let both = orgsplit()
        .args(["import", "--from-dir", "x", "--url", "https://c.example.com", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&both.stderr)
            .contains("--from-dir reads an export folder and --url a live deployment: give one of them")
    );
    let creds = import("https://admin:hunter2@coder.example.com", Some("a-b"), &[], &out);
    assert_eq!(creds.code, 64);
    assert!(
        creds.stderr.contains("must not hold credentials") && !creds.stderr.contains("hunter2"),
        "{}",
        creds.stderr
    );
    assert!(!out.exists());
}

#[test]
fn coder_url_is_read_from_the_environment_like_the_coder_cli() {
    let fake = megaco_fake();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let run = orgsplit()
        .args(["import", "--out"])
        .arg(&out)
        .env("CODER_URL", fake.url())
        .env("CODER_SESSION_TOKEN", fake.token())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let s = Snapshot::from_json(&std::fs::read(&out).unwrap(), &out).unwrap();
    assert_eq!((s.source.kind.as_str(), s.source.location.as_str()), ("api", fake.url().as_str()));
}

#[test]
fn tls_is_verified_and_a_private_ca_can_be_trusted() {
    let tls = fixtures().join("tls");
    let fake = FakeCoder::with_tls(fake_coder::megaco(), &tls.join("server.pem"), &tls.join("server.key"));
    assert!(fake.url().starts_with("https://127.0.0.1:"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let token = fake.token();
    let untrusted = import(&fake.url(), Some(&token), &["--retries", "0"], &out);
    assert_eq!(untrusted.code, 1);
    assert!(untrusted.stderr.contains("TLS certificate is not trusted"), "{}", untrusted.stderr);
    assert!(untrusted.stderr.contains("pass its certificate with --ca-cert FILE"), "{}", untrusted.stderr);
    let other = tls.join("other-ca.pem");
    let wrong_ca = import(&fake.url(), Some(&token), &["--ca-cert", other.to_str().unwrap()], &out);
    assert_eq!(wrong_ca.code, 1, "a CA that did not sign the certificate does not help");
    assert_eq!(fake.requests(), 0, "no request got through the handshake");
    let ca = tls.join("ca.pem");
    let trusted = import(&fake.url(), Some(&token), &["--ca-cert", ca.to_str().unwrap()], &out);
    assert_eq!(trusted.code, 0, "{}", trusted.stderr);
    assert!(Snapshot::from_json(&std::fs::read(&out).unwrap(), &out).unwrap().users.len() > 900);
    let not_pem = import(&fake.url(), Some(&token), &["--ca-cert", tls.join("server.key").to_str().unwrap()], &out);
    assert_eq!(not_pem.code, 1);
    assert!(not_pem.stderr.contains("server.key") && not_pem.stderr.contains("PEM"), "{}", not_pem.stderr);
}

#[test]
fn a_deployment_that_cannot_have_organizations_is_told_plainly() {
    let mut snapshot = fake_coder::megaco();
    let features = &mut snapshot.entitlements.as_mut().unwrap().features;
    features.get_mut("multiple_organizations").unwrap().enabled = false;
    features.get_mut("multiple_organizations").unwrap().entitlement = "not_entitled".into();
    let fake = FakeCoder::start(snapshot);
    let dir = tempfile::tempdir().unwrap();
    let run = import(&fake.url(), Some(&fake.token()), &[], &dir.path().join("s.json"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "warning: this deployment cannot have more than one organization: its license does not \
                             include `multiple_organizations`"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn skip_acls_reads_no_acl() {
    let fake = megaco_fake();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let run = import(&fake.url(), Some(&fake.token()), &["--skip-acls"], &out);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("template ACLs were not read (--skip-acls)"), "{}", run.stderr);
    assert!(fake.log().iter().all(|r| !r.path.ends_with("/acl")));
    let s = Snapshot::from_json(&std::fs::read(&out).unwrap(), &out).unwrap();
    assert!(s.templates.iter().all(|t| t.acl.is_none()));
}
