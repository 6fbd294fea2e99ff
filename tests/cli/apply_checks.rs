//! What apply refuses, and the single failures it reports without giving
//! up on the rest: stale plans and journals, preflight, builds nobody picks
//! up, sensitive variables, a key whose secret was lost, Ctrl-C.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use orgsplit::apply::{Status, journal};
use orgsplit::coder::Secret;
use orgsplit::error::Error;

use crate::apply_support::*;
use crate::common::files_in;
use fake_coder::state::Variable;
use fake_coder::{FakeCoder, Fault};

fn small_plan(dir: &Path) -> (FakeCoder, std::path::PathBuf) {
    let (snapshot, split) = small();
    (FakeCoder::start(snapshot.clone()), write_plan(dir, &snapshot, &split))
}

fn refusal(r: orgsplit::error::Result<orgsplit::apply::RunOutcome>) -> String {
    match r {
        Err(e @ Error::Refused(_)) => e.to_string(),
        Err(e) => panic!("not a refusal: {e}"),
        Ok(r) => panic!("not refused: {}", r.ledger.render()),
    }
}

fn writes(fake: &FakeCoder) -> Vec<String> {
    fake.log().iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect()
}

#[test]
fn a_stale_plan_is_refused_naming_what_changed_before_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    fake.state_mut(|st| {
        st.s.groups.iter_mut().find(|g| g.name == "team-0000").unwrap().display_name = "Renamed".into()
    });
    let e = refusal(run(&fake, &path, &options(), &mut Admin::new(&fake)));
    assert!(e.contains("the plan was made from another state of the deployment (changed since: groups)"), "{e}");
    assert_eq!(writes(&fake), Vec::<String>::new());
    assert_eq!(files_in(dir.path()), ["plan.json"], "no journal before the first change");
}

/// A live deployment does not stand still between plan and apply: users sign
/// in, go dormant, workspaces start and stop, templates get used. None of
/// that makes the plan stale.
#[test]
fn activity_between_plan_and_apply_does_not_make_the_plan_stale() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    fake.state_mut(|st| {
        for u in &mut st.s.users {
            u.last_seen_at = Some("2030-01-01T00:00:00Z".into());
        }
        if let Some(u) = st.s.users.iter_mut().find(|u| u.status == "active") {
            u.status = "dormant".into();
        }
        for t in &mut st.s.templates {
            t.active_user_count += 3;
            t.updated_at = Some("2030-01-01T00:00:00Z".into());
        }
        for w in st.s.workspaces.iter_mut().filter(|w| !w.is_deleted_or_deleting()) {
            w.last_used_at = Some("2030-01-01T00:00:00Z".into());
            w.latest_build.build_number += 1;
            w.latest_build.transition = if w.latest_build.transition == "start" { "stop" } else { "start" }.into();
        }
    });
    let report = run(&fake, &path, &options(), &mut Admin::new(&fake)).expect("not refused");
    assert_eq!(report.exit_code(), 0, "{}", report.ledger.render());
}

#[test]
fn preflight_refuses_a_caller_who_is_not_owner_and_a_license_without_organizations() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    fake.state_mut(|st| {
        let features = &mut st.s.entitlements.as_mut().unwrap().features;
        features.get_mut("multiple_organizations").unwrap().enabled = false;
        features.remove("custom_roles");
    });
    let member = fake.snapshot().users.iter().find(|u| !u.roles.iter().any(|r| r == "owner")).unwrap().username.clone();
    let (client, _) = fake.client_with(&fake.token_for(&member));
    let bytes = std::fs::read(&path).unwrap();
    let plan = read_plan(&path);
    let e = match orgsplit::apply::prepare(&client, plan, &path, &bytes, &options()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("not refused"),
    };
    assert!(e.starts_with("apply stopped before changing anything:\n  - "), "{e}");
    assert!(e.contains(&format!("the token's account `{member}` does not have the `owner` site role")), "{e}");
    assert!(e.contains("the license does not include `custom_roles`, which 1 step(s) need (`team-0001/custom-role/provisioner-admin`)"), "{e}");
    assert!(e.contains("the license does not include `multiple_organizations`"), "{e}");
    assert_eq!(writes(&fake), Vec::<String>::new());
}

#[test]
fn a_rerun_after_other_changes_is_refused_and_a_journal_of_another_plan_too() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    let mut o = options();
    o.stop_at = Some(std::sync::Arc::new(|c: &orgsplit::apply::Checkpoint| c.index == 5));
    assert!(matches!(run(&fake, &path, &o, &mut Admin::new(&fake)), Err(Error::Interrupted(_))));
    // Someone renames a group meanwhile: the plan does not explain that.
    fake.state_mut(|st| st.s.groups.iter_mut().find(|g| g.name == "team-0000").unwrap().name = "intruders".into());
    let e = refusal(run(&fake, &path, &options(), &mut Admin::new(&fake)));
    assert!(e.starts_with("the deployment changed since apply started, in ways the plan does not explain:"), "{e}");
    assert!(e.contains("+  group intruders"), "{e}");
    assert!(e.contains("move `") && e.contains("plan.json.journal` aside and apply the new plan"), "{e}");
    // Another plan at the same path is not what the journal recorded.
    let mut other = read_plan(&path);
    other.migration.wiki = "https://elsewhere.example.com".into();
    std::fs::write(&path, other.to_json().unwrap()).unwrap();
    let e = refusal(run(&fake, &path, &options(), &mut Admin::new(&fake)));
    assert!(e.contains("records an apply of another plan") && e.contains("never delete it"), "{e}");
}

/// A daemon that looks right to apply but cannot take the job (no `owner`
/// tag): the build stays pending, reported as such; once a real provisioner
/// runs, a rerun waits for the same version rather than pushing another.
#[test]
fn a_build_nobody_picks_up_says_so_and_a_rerun_waits_for_the_same_version() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    let mut admin = Admin::new(&fake);
    admin.start = false;
    admin.start_half_broken = true;
    let first = run(&fake, &path, &options(), &mut admin).unwrap();
    let status = first.ledger.status("team-0001/template/team-0001-0").unwrap();
    assert!(matches!(status, Status::Failed(_)), "{status:?}");
    assert!(status.detail().starts_with("no provisioner picked up the job: the version stayed pending"), "{status:?}");
    assert_eq!(
        first.ledger.status("coder/deprecation/team-0001-0"),
        Some(&Status::Skipped("`team-0001/template/team-0001-0` failed".into()))
    );
    assert!(fake.snapshot().templates.iter().all(|t| !t.deprecated));
    assert_eq!(first.exit_code(), 3);
    fake.start_provisioner(&admin.secrets[0]).unwrap();
    let second = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
    assert_eq!(second.exit_code(), 0, "{}", second.ledger.render());
    assert_eq!(succeeded(&fake, "POST", "/api/v2/organizations/*/templateversions"), 2, "one version per template");
}

#[test]
fn sensitive_variables_need_the_admins_input_and_are_written_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    let source = fake.snapshot().templates.iter().find(|t| t.name == "team-0001-0").unwrap().active_version_id.clone();
    let var = |name: &str, value: &str, sensitive: bool| Variable {
        name: name.into(),
        value: value.into(),
        sensitive,
        ..Default::default()
    };
    fake.state_mut(|st| {
        st.variables
            .insert(source.clone(), vec![var("region", "eu-west-1", false), var("db_password", "old-s3cret", true)]);
    });
    let first = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
    let why = first.ledger.status("team-0001/template/team-0001-0").unwrap().detail().to_string();
    assert!(
        why.starts_with(
            "needs your input: the API hides the value of sensitive variable(s) `db_password` of `coder/team-0001-0`"
        ),
        "{why}"
    );
    assert!(why.contains("--variables FILE under [\"team-0001/team-0001-0\"]"), "{why}");
    assert!(first.ledger.status("team-0001/template/team-0001-1").unwrap().is_done(), "the other template goes on");

    let mut o = options();
    let given = [("db_password".to_string(), Secret::new("new-s3cret"))].into_iter().collect();
    o.variables.insert("team-0001/team-0001-0".into(), given);
    let second = run(&fake, &path, &o, &mut Admin::new(&fake)).unwrap();
    assert_eq!(second.exit_code(), 0, "{}", second.ledger.render());
    let s = fake.snapshot();
    let new = s
        .templates
        .iter()
        .find(|t| t.name == "team-0001-0" && t.organization_id != s.default_organization().unwrap().id)
        .unwrap();
    let values = fake.state(|st| {
        st.variables[&new.active_version_id].iter().map(|v| format!("{}={}", v.name, v.value)).collect::<Vec<_>>()
    });
    assert_eq!(values, ["region=eu-west-1", "db_password=new-s3cret"]);
    for f in files_in(dir.path()) {
        let text = std::fs::read_to_string(dir.path().join(&f)).unwrap();
        assert!(!text.contains("s3cret"), "a variable value is in {f}");
    }
}

#[test]
fn a_key_whose_secret_was_lost_is_reported_and_not_made_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    fake.script("POST", "/provisionerkeys", Fault::CutBody, 1);
    let report = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
    let why = report.ledger.status("team-0001/provisioner-key/team-0001-provisioner").unwrap();
    assert!(matches!(why, Status::Failed(_)), "{why:?}");
    assert!(why.detail().contains("Coder never shows a secret again: delete the key (`coder provisioner keys delete --org team-0001 -- team-0001-provisioner`) and run apply again"), "{why:?}");
    assert_eq!(fake.snapshot().provisioner_keys.len(), 1);
    assert_eq!(report.exit_code(), 3);
    no_deletes(&fake);
}

/// Ctrl-C: the run stops between two steps, says so (exit 130), and a rerun resumes.
#[test]
fn an_interrupted_run_stops_between_steps_and_a_rerun_resumes() {
    static CTRL_C: AtomicBool = AtomicBool::new(false);
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    let mut o = options();
    o.interrupted = Some(&CTRL_C);
    let mut admin = Admin::new(&fake);
    admin.interrupt_at = Some((10, &CTRL_C));
    let report = run(&fake, &path, &o, &mut admin).unwrap();
    assert!(report.interrupted && report.verification.is_none());
    // Steps in flight when Ctrl-C came (up to `concurrency`) finish and are recorded; no new one starts.
    let (ran, total) = (report.ledger.items.len(), read_plan(&path).steps.len());
    assert_eq!(report.exit_code(), 130, "{}", report.ledger.render());
    assert!((11..total).contains(&ran), "{ran} of {total} steps: {}", report.ledger.render());
    let recorded = journal::read(&dir.path().join("plan.json.journal")).unwrap().unwrap();
    let steps = recorded.events.iter().filter(|e| matches!(e, journal::Event::Step { .. })).count();
    assert_eq!(steps, ran, "every step that ran is in the journal");
    let read = journal::read(&dir.path().join("plan.json.journal")).unwrap().unwrap();
    assert!(
        matches!(read.events.last(), Some(journal::Event::RunEnded { interrupted: true, .. })),
        "{:?}",
        read.events.last()
    );
    CTRL_C.store(false, Ordering::SeqCst);
    let again = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
    assert_eq!(again.exit_code(), 0, "{}", again.ledger.render());
}

/// When the deployment cannot be read again at the end, the run still
/// reports what it did, and says it could not verify (exit 3).
#[test]
fn a_verification_that_cannot_read_the_deployment_still_reports_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path) = small_plan(dir.path());
    let (client, _) = fake.client();
    let bytes = std::fs::read(&path).unwrap();
    let mut prepared = orgsplit::apply::prepare(&client, read_plan(&path), &path, &bytes, &options()).unwrap();
    fake.script("GET", "/api/v2/users?", Fault::Status(500), 1);
    let report = orgsplit::apply::execute(&mut prepared, &client, &options(), &mut Admin::new(&fake)).unwrap();
    assert!(report.ledger.complete(), "{}", report.ledger.render());
    assert!(report.verification.is_none());
    assert!(
        report.unverified.as_deref().is_some_and(|e| e.contains("500 Internal Server Error")),
        "{:?}",
        report.unverified
    );
    assert_eq!(report.exit_code(), 3);
}
