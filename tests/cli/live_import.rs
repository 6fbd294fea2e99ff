//! `orgsplit import --url`: a live deployment (the fake Coder) -> snapshot.

use std::path::Path;

use orgsplit::import::live::{LiveOptions, import_live};
use orgsplit::import::{ImportOptions, import_dir};
use orgsplit::model::Snapshot;

use crate::common::*;
use fake_coder::{FakeCoder, Fault, Faults};

/// The MegaCo state, as the fake serves it.
fn megaco_fake() -> FakeCoder {
    FakeCoder::start(fake_coder::megaco())
}

fn live(fake: &FakeCoder, options: &LiveOptions) -> Snapshot {
    let (client, _) = fake.client();
    import_live(&client, options).unwrap()
}

/// Equal but for where the state was read from (a live import's address
/// is the one it read, an export's the one the deployment reports).
fn same_state(mut a: Snapshot, mut b: Snapshot) {
    for s in [&mut a, &mut b] {
        s.source.kind.clear();
        s.source.location.clear();
        s.source.deployment_url = None;
    }
    if a != b {
        let (a, b) =
            (String::from_utf8(a.to_json().unwrap()).unwrap(), String::from_utf8(b.to_json().unwrap()).unwrap());
        let diff = similar::TextDiff::from_lines(&a, &b).unified_diff().context_radius(2).to_string();
        panic!("snapshots differ:\n{}", &diff[..diff.len().min(4000)]);
    }
}

#[test]
fn megaco_live_equals_megaco_offline() {
    let fake = megaco_fake();
    let live = live(&fake, &LiveOptions { page_size: 100, ..LiveOptions::default() });
    let offline = import_dir(&megaco().join("export"), &ImportOptions::default()).unwrap();
    assert_eq!(live.source.kind, "api");
    assert_eq!(live.source.location, fake.url());
    // The address read from, not what the deployment says of itself.
    assert_eq!(live.source.deployment_url, Some(fake.url()));
    assert_eq!(offline.source.deployment_url.as_deref(), Some("https://coder.megaco.example"));
    assert!(live.warnings.is_empty(), "{:?}", live.warnings);
    same_state(live, offline);
}

#[test]
fn lists_are_paged_against_their_count_and_never_past_the_end() {
    let fake = megaco_fake();
    let s = live(&fake, &LiveOptions { page_size: 100, ..LiveOptions::default() });
    let log = fake.log();
    let pages = |prefix: &str| log.iter().filter(|r| r.path.starts_with(prefix)).count();
    let members = s.organization_members.len();
    assert_eq!(pages("/api/v2/users?"), s.users.len().div_ceil(100));
    assert_eq!(pages("/api/v2/workspaces?"), s.workspaces.len().div_ceil(100));
    assert_eq!(
        pages(&format!("/api/v2/organizations/{}/paginated-members", s.organizations[0].id)),
        members.div_ceil(100)
    );
    assert!(log.iter().all(|r| r.status < 400), "{:?}", log.iter().filter(|r| r.status >= 400).collect::<Vec<_>>());
    assert!(log.iter().all(|r| r.authenticated || r.path == "/api/v2/buildinfo"));
}

#[test]
fn ten_percent_of_requests_failing_gives_the_same_snapshot() {
    let options = LiveOptions { page_size: 100, concurrency: 4, ..LiveOptions::default() };
    let calm = live(&megaco_fake(), &options);
    let fake = FakeCoder::with_faults(fake_coder::megaco(), Faults::flaky(0.10, 7));
    // Every kind at least once, whatever the draw: a body cut short on a
    // users page and on a (large) ACL, a rate limit, each gateway error.
    fake.script("GET", "/api/v2/users?limit=100&offset=200", Fault::CutBody, 1);
    fake.script("GET", "/acl", Fault::CutBody, 2);
    fake.script("GET", "/api/v2/workspaces?", Fault::TooManyRequests { retry_after: 3 }, 1);
    for (path, status) in [("/api/v2/organizations", 503), ("/groups", 502), ("/templateversions/", 504)] {
        fake.script("GET", path, Fault::Status(status), 1);
    }
    let (client, waits) = fake.client();
    let stormy = import_live(&client, &options).unwrap();
    let log = fake.log();
    let faults: Vec<Fault> = log.iter().filter_map(|r| r.fault).collect();
    assert!(faults.len() * 10 >= log.len(), "{} faults in {} requests", faults.len(), log.len());
    for kind in [Fault::CutBody, Fault::Status(502), Fault::Status(503), Fault::Status(504)] {
        assert!(faults.contains(&kind), "{kind:?} in {faults:?}");
    }
    let retries = client.stats().retries.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(retries as usize, faults.len(), "each fault was retried");
    assert_eq!(waits.all().len(), faults.len());
    assert!(waits.all().iter().any(|w| *w >= std::time::Duration::from_secs(3)), "Retry-After was honoured");
    same_state(stormy, calm);
}

#[test]
fn the_cli_imports_a_live_deployment_byte_identical_twice() {
    let fake = megaco_fake();
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = dir.path().join(name);
        let assert = orgsplit()
            .args(["import", "--url", &fake.url(), "--concurrency", "16", "--page-size", "50", "--out"])
            .arg(&out)
            .env("CODER_SESSION_TOKEN", fake.token())
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains("wrote ") && stderr.contains(&format!("read {} in ", fake.url())), "{stderr}");
        assert!(!stderr.contains('\r') && !stderr.contains('\x1b'), "no progress bar without a terminal: {stderr:?}");
        std::fs::read(&out).unwrap()
    };
    let (first, second) = (run("a.json"), run("b.json"));
    assert!(first == second, "answers arrive in a different order each time; the snapshot must not change");
    let s = Snapshot::from_json(&first, Path::new("a.json")).unwrap();
    assert_eq!(s.users.len(), fake.snapshot().users.len());
}

#[test]
fn a_server_without_paginated_members_is_read_through_the_old_list() {
    let fake = megaco_fake();
    fake.script("GET", "/paginated-members", Fault::Status(404), 1);
    let offline = import_dir(&megaco().join("export"), &ImportOptions::default()).unwrap();
    let s = live(&fake, &LiveOptions::default());
    assert!(fake.log().iter().any(|r| r.path.ends_with("/members") && r.status == 200));
    same_state(s, offline);
}

#[test]
fn endpoints_outside_the_license_are_warnings_and_a_refusal_inside_it_is_an_error() {
    let mut snapshot = fake_coder::megaco();
    let features = &mut snapshot.entitlements.as_mut().unwrap().features;
    features.get_mut("external_provisioner_daemons").unwrap().enabled = false;
    let fake = FakeCoder::start(snapshot);
    let s = live(&fake, &LiveOptions::default());
    let warnings: Vec<&str> =
        s.warnings.iter().filter(|w| w.code == "endpoint-unavailable").map(|w| w.message.as_str()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("provisioner keys of organization `")
            && warnings[0].contains("does not include `external_provisioner_daemons`")
    );
    assert!(s.provisioner_keys.is_empty() && !s.provisioner_daemons.is_empty());
    // Licensed, but the token may not read them: an error, not a silent gap.
    let fake = megaco_fake();
    fake.forbid("GET", "/organizations/");
    let (client, _) = fake.client();
    let e = import_live(&client, &LiveOptions::default()).unwrap_err().to_string();
    assert!(e.contains("403 Forbidden: the token's account lacks the permission to"), "{e}");
}

#[test]
fn an_import_by_someone_not_owner_says_it_may_be_partial() {
    let fake = megaco_fake();
    let member =
        fake.snapshot().users.iter().find(|u| u.roles == ["member"] && u.is_active()).unwrap().username.clone();
    let (client, _) = fake.client_with(&fake.token_for(&member));
    let s = import_live(&client, &LiveOptions::default()).unwrap();
    let w = s.warnings.iter().find(|w| w.code == "not-owner").expect("a not-owner warning");
    assert!(
        w.message.starts_with(&format!("imported as `{member}`, who does not have the `owner` site role")),
        "{}",
        w.message
    );
}

#[test]
fn unset_idp_sync_settings_are_not_imported_as_empty_ones() {
    let mut snapshot = fake_coder::megaco();
    snapshot.idp_sync = Default::default();
    let fake = FakeCoder::start(snapshot);
    let s = live(&fake, &LiveOptions::default());
    assert_eq!(s.idp_sync, Default::default(), "the server answers defaults; nothing is configured");
    assert!(fake.log().iter().any(|r| r.path.ends_with("/settings/idpsync/groups") && r.status == 200));
}

#[test]
fn provisioner_daemons_beyond_the_servers_default_limit_are_read() {
    let mut snapshot = fake_coder::megaco();
    let org = snapshot.default_organization().unwrap().id.clone();
    for i in 0..70 {
        snapshot.provisioner_daemons.push(orgsplit::model::ProvisionerDaemon {
            id: fixtures::id("daemon", &i.to_string()),
            name: format!("extra-{i:02}"),
            organization_id: org.clone(),
            status: "idle".into(),
            ..Default::default()
        });
    }
    let fake = FakeCoder::start(snapshot.clone());
    let s = live(&fake, &LiveOptions::default());
    assert_eq!(s.provisioner_daemons.len(), snapshot.provisioner_daemons.len(), "not cut at the default 50");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_server_that_caps_its_pages_is_still_read_whole() {
    let fake = megaco_fake();
    fake.state_mut(|st| st.max_page = Some(64));
    let offline = import_dir(&megaco().join("export"), &ImportOptions::default()).unwrap();
    let s = live(&fake, &LiveOptions { page_size: 500, ..LiveOptions::default() });
    let users = fake.log().iter().filter(|r| r.path.starts_with("/api/v2/users?")).count();
    assert_eq!(users, s.users.len().div_ceil(64), "stepped by the 64 rows a page holds");
    same_state(s, offline);
}
