//! `orgsplit import --url` of a Coder v1 deployment, against a fake v1 on
//! 127.0.0.1 (crates/fake-coder/src/v1.rs) serving MegaCo v1's export bodies:
//! the same snapshot as the offline import of those bodies, whatever the
//! release's routes and list shapes; the token in v1's header and only to
//! the named address; and clear errors.

use std::path::Path;

use fake_coder::v1::{Era, FakeV1};
use orgsplit::v1::V1Snapshot;

use crate::common::*;

struct Run {
    code: i32,
    stderr: String,
    snap: Option<V1Snapshot>,
}

/// MegaCo v1's export, plus the tag list of one image (which the committed
/// export does not have), as files.
fn files() -> Vec<(String, Vec<u8>)> {
    let mut files = fixtures::megaco_v1_files();
    let images: serde_json::Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n.ends_with("images-default.json")).unwrap().1).unwrap();
    let image = images[0]["id"].as_str().unwrap().to_string();
    let tags = serde_json::json!([
        {"image_id": image, "tag": "ubuntu", "latest_hash": "sha256:1586", "created_at": "2021-06-01T04:00:00Z"},
        {"image_id": image, "tag": "focal", "latest_hash": "sha256:9a0b", "decommissioned": true}
    ]);
    files.push((format!("export/tags-{image}.json"), serde_json::to_vec(&tags).unwrap()));
    files
}

fn fake(era: Era, page: Option<usize>) -> FakeV1 {
    FakeV1::start(&files(), era, page)
}

fn import(url: &str, token: &str, extra: &[&str], dir: &Path) -> Run {
    let out = dir.join("live.json");
    let _ = std::fs::remove_file(&out);
    let output = orgsplit()
        .args(["import", "--url", url])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .env("CODER_SESSION_TOKEN", token)
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    let snap = (code == 0).then(|| V1Snapshot::from_json(&std::fs::read(&out).unwrap(), &out).unwrap());
    Run { code, stderr: String::from_utf8_lossy(&output.stderr).into(), snap }
}

/// The offline import of the same bodies (written to a folder).
fn offline(dir: &Path) -> V1Snapshot {
    let folder = dir.join("same-bodies");
    for (name, bytes) in files() {
        let path = folder.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let (_, snap) = crate::v1::import_v1(&folder.join("export"), dir);
    assert!(snap.images.iter().any(|i| i.tags.len() == 2), "the tag list is read");
    snap
}

fn same_state(mut live: V1Snapshot, mut offline: V1Snapshot) {
    live.source = Default::default();
    offline.source = Default::default();
    live.warnings.sort_by(|a, b| (&a.code, &a.message).cmp(&(&b.code, &b.message)));
    offline.warnings.sort_by(|a, b| (&a.code, &a.message).cmp(&(&b.code, &b.message)));
    assert_eq!(live, offline);
}

#[test]
fn live_v1_import_is_the_offline_import_of_the_same_bodies_in_every_era_and_list_shape() {
    let dir = tempfile::tempdir().unwrap();
    let want = offline(dir.path());
    assert!(!want.workspaces.is_empty() && !want.devurls.is_empty() && !want.providers.is_empty());
    for (era, page) in [(Era::Workspaces, None), (Era::Environments, Some(3)), (Era::Private, Some(2))] {
        let v1 = fake(era, page);
        let run = import(&v1.url(), &v1.token(), &["--coder-v1", "--page-size", "2"], dir.path());
        assert_eq!(run.code, 0, "{era:?}: {}", run.stderr);
        let snap = run.snap.unwrap();
        assert_eq!(snap.source.kind, "live");
        assert_eq!(snap.source.location, v1.url());
        assert!(snap.source.server_version.is_some(), "the coder-version header is kept");
        same_state(snap, want.clone());
        let log = v1.log();
        assert!(log.iter().all(|r| r.authenticated), "{era:?}: every request carried Session-Token");
        if page.is_some() {
            let pages = log.iter().filter(|r| r.path.contains("after=")).count();
            assert!(pages >= 2, "{era:?}: pages were followed ({pages})");
        }
        if era != Era::Workspaces {
            // Workspaces were asked for first and environments read after the 404.
            assert!(log.iter().any(|r| r.path.ends_with("/workspaces") && r.status == 404), "{era:?}");
        }
    }
}

#[test]
fn a_v1_deployment_is_recognised_without_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = fake(Era::Workspaces, None);
    let run = import(&v1.url(), &v1.token(), &[], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("answers as a Coder v1 deployment"), "{}", run.stderr);
    same_state(run.snap.unwrap(), offline(dir.path()));
}

#[test]
fn the_token_goes_to_the_named_address_only_and_never_to_output() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, elsewhere) = (fake(Era::Workspaces, None), fake(Era::Workspaces, None));
    v1.redirect_to(&elsewhere.url());
    let run = import(&v1.url(), &v1.token(), &["--coder-v1"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("the server sends orgsplit to {}/api/v0/users/me", elsewhere.url())));
    assert!(run.stderr.contains(&format!("use --url {}", elsewhere.url())), "{}", run.stderr);
    assert!(elsewhere.log().is_empty(), "the token never went to the other server");
    // Detection does not follow it either.
    let run = import(&v1.url(), &v1.token(), &[], dir.path());
    assert_eq!(run.code, 1);
    assert!(elsewhere.log().is_empty());
    let ok = import(&elsewhere.url(), &elsewhere.token(), &["--coder-v1"], dir.path());
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let secret = elsewhere.token();
    assert!(!ok.stderr.contains(&secret) && !run.stderr.contains(&secret));
    assert!(!std::fs::read_to_string(dir.path().join("live.json")).unwrap().contains(&secret));
}

#[test]
fn a_wrong_token_says_how_to_make_a_v1_one() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = fake(Era::Workspaces, None);
    let run = import(&v1.url(), "5ed15061-wrongwrongwrong", &["--coder-v1"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("/api/v0/users/me: 401 Unauthorized: the Coder v1 server did not accept"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("coder tokens create orgsplit"), "{}", run.stderr);
    assert!(run.stderr.contains("The server said: authentication required"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrongwrongwrong"));
}

#[test]
fn answers_that_are_not_v1_bodies_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = fake(Era::Workspaces, None);
    v1.answer("/api/v0/orgs", 200, b"<html>Sign in</html>");
    let run = import(&v1.url(), &v1.token(), &["--coder-v1"], dir.path());
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("GET ")
            && run.stderr.contains("/api/v0/orgs: the answer is not what this endpoint returns"),
        "{}",
        run.stderr
    );

    let v1 = fake(Era::Workspaces, None);
    v1.answer(
        "/api/v0/workspaces",
        200,
        br#"[{"id":"w","name":"dev","user_id":"u","organization_id":"o","image_id":"i","cpu_cores":"two"}]"#,
    );
    let run = import(&v1.url(), &v1.token(), &["--coder-v1"], dir.path());
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("/api/v0/workspaces: item 1 is a v1 workspace but invalid type: string \"two\""),
        "{}",
        run.stderr
    );

    let v1 = fake(Era::Workspaces, None);
    v1.answer("/api/v0/users", 500, br#"{"error":{"msg":"database is down","code":"internal"}}"#);
    let run = import(&v1.url(), &v1.token(), &["--coder-v1", "--retries", "0"], dir.path());
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("500 Internal Server Error")
            && run.stderr.contains("The server said: database is down (internal)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_server_that_is_not_v1_is_told_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = fake(Era::Workspaces, None);
    v1.answer("/api/v0/users/me", 200, br#"{"message":"hello"}"#);
    let run = import(&v1.url(), &v1.token(), &["--coder-v1"], dir.path());
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("does not answer as a Coder v1 deployment"), "{}", run.stderr);
    let run = import(&v1.url(), &v1.token(), &["--coder-v1", "--people", "p.csv"], dir.path());
    assert_eq!(run.code, 64, "{}", run.stderr);
    assert!(run.stderr.contains("--people is for a v2 deployment"), "{}", run.stderr);
    let v1 = fake(Era::Workspaces, None);
    let run = import(&v1.url(), &v1.token(), &["--people", "p.csv"], dir.path());
    assert_eq!(run.code, 64, "{}", run.stderr);
    assert!(
        run.stderr.contains("--people is for a v2 deployment; this URL is a Coder v1 deployment"),
        "{}",
        run.stderr
    );
}

#[test]
fn tls_is_verified_and_a_private_ca_can_be_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let tls = fixtures().join("tls");
    let v1 = FakeV1::with_tls(&files(), &tls.join("server.pem"), &tls.join("server.key"));
    assert!(v1.url().starts_with("https://127.0.0.1:"));
    let untrusted = import(&v1.url(), &v1.token(), &["--coder-v1", "--retries", "0"], dir.path());
    assert_eq!(untrusted.code, 1);
    assert!(untrusted.stderr.contains("TLS certificate is not trusted"), "{}", untrusted.stderr);
    assert!(v1.log().is_empty(), "no request got through the handshake");
    let ca = tls.join("ca.pem");
    let trusted = import(&v1.url(), &v1.token(), &["--coder-v1", "--ca-cert", ca.to_str().unwrap()], dir.path());
    assert_eq!(trusted.code, 0, "{}", trusted.stderr);
    same_state(trusted.snap.unwrap(), offline(dir.path()));
}

#[test]
fn a_token_that_is_no_site_admins_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = fake(Era::Workspaces, None);
    v1.answer(
        "/api/v0/users/me",
        200,
        br#"{"id":"x","username":"jo-okafor","email":"jo@megaco.example","roles":["site-member"]}"#,
    );
    let run = import(&v1.url(), &v1.token(), &["--coder-v1"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let snap = run.snap.unwrap();
    let w = snap.warnings.iter().find(|w| w.code == "not-site-admin").expect("a warning");
    assert!(w.message.contains("`jo-okafor`") && w.message.contains("may be missing"), "{}", w.message);
    assert!(run.stderr.contains("not-site-admin"), "{}", run.stderr);
}

#[test]
fn coder_v1_without_an_address_or_with_a_folder_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let run = orgsplit().args(["import", "--coder-v1", "--out"]).arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--coder-v1 reads a live v1 deployment: give its address"));
    let run = orgsplit()
        .args(["import", "--coder-v1", "--from-dir"])
        .arg(crate::v1::megaco_v1().join("export"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(64), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(!out.exists());
}

#[test]
fn a_release_before_1_14_is_read_under_api_without_providers() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = fake(Era::Legacy, None);
    let run = import(&v1.url(), &v1.token(), &["--coder-v1"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let snap = run.snap.unwrap();
    assert_eq!(snap.source.server_version.as_deref(), Some("1.13.1"));
    assert!(snap.providers.is_empty());
    let w = snap.warnings.iter().find(|w| w.code == "endpoint-unavailable").expect("providers not read, said");
    assert!(w.message.starts_with("workspace providers not read: `GET /api/private/resource-pools`"), "{}", w.message);
    let want = offline(dir.path());
    assert_eq!(snap.workspaces, want.workspaces);
    assert_eq!(
        (snap.users.len(), snap.organizations.len(), snap.images.len()),
        (want.users.len(), want.organizations.len(), want.images.len())
    );
    let log = v1.log();
    assert!(log.iter().any(|r| r.path == "/api/users/me" && r.status == 200), "probed down to /api");
}
