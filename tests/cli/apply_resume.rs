//! Killing apply and running it again: after every step in turn (the small
//! deployment's ~35 steps, and while a template version builds), at a few
//! points of MegaCo's ~550, and once for real with SIGKILL. Every rerun must
//! reach the state an uninterrupted run reaches, with nothing made twice.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use orgsplit::apply::{Checkpoint, Point, StopAt};
use orgsplit::error::Error;
use orgsplit::plan::StepSpec;

use crate::apply_support::*;
use fake_coder::{FakeCoder, megaco};

fn stop_at(index: usize, point: Point) -> Option<StopAt> {
    Some(Arc::new(move |c: &Checkpoint| c.index == index && c.point == point))
}

/// Run until the checkpoint (as if killed there), then run again to the end.
fn kill_then_rerun(
    snapshot: &orgsplit::model::Snapshot,
    plan: &Path,
    kill: Option<StopAt>,
) -> (FakeCoder, orgsplit::apply::RunOutcome) {
    let fake = FakeCoder::start(snapshot.clone());
    let mut o = options();
    o.stop_at = kill;
    match run(&fake, plan, &o, &mut Admin::new(&fake)) {
        Err(Error::Interrupted(_)) => {}
        Err(e) => panic!("{e}"),
        Ok(r) => panic!("not stopped: {}", r.ledger.render()),
    }
    let report = run(&fake, plan, &options(), &mut Admin::new(&fake)).unwrap();
    (fake, report)
}

fn small_reference(plan: &Path) -> EndState {
    static REF: OnceLock<EndState> = OnceLock::new();
    REF.get_or_init(|| {
        let (snapshot, _) = small();
        let fake = FakeCoder::start(snapshot);
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("plan.json");
        std::fs::copy(plan, &copy).unwrap();
        let report = run(&fake, &copy, &options(), &mut Admin::new(&fake)).unwrap();
        assert_eq!(report.exit_code(), 0, "{}", report.ledger.render());
        end_state_of(&fake)
    })
    .clone()
}

/// The whole matrix on the small deployment: killed after each of its steps
/// (and after each template version is created, before its build), a rerun
/// resumes from the journal and ends where an uninterrupted run ends.
#[test]
fn killing_apply_after_each_step_in_turn_and_rerunning_converges() {
    let (snapshot, split) = small();
    let dir = tempfile::tempdir().unwrap();
    let path = write_plan(dir.path(), &snapshot, &split);
    let plan = read_plan(&path);
    let reference = small_reference(&path);
    let mut kills: Vec<(usize, Point)> = (0..plan.steps.len()).map(|i| (i, Point::StepRecorded)).collect();
    kills.extend(
        plan.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.spec, StepSpec::Template(_)))
            .map(|(i, _)| (i, Point::VersionCreated)),
    );
    assert!(kills.len() >= 30, "{}", kills.len());
    for (i, point) in kills {
        let _ = std::fs::remove_file(dir.path().join("plan.json.journal"));
        let (fake, report) = kill_then_rerun(&snapshot, &path, stop_at(i, point));
        let at = format!("killed at {point:?} of step {i} `{}`", plan.steps[i].key);
        assert_eq!(report.exit_code(), 0, "{at}\n{}", report.ledger.render());
        assert_eq!(end_state_of(&fake), reference, "{at}");
        assert_eq!(orphan_versions(&fake), Vec::<String>::new(), "{at}: a version made twice");
        let journal = std::fs::read_to_string(dir.path().join("plan.json.journal")).unwrap();
        assert_eq!(journal.matches("\"event\":\"run-started\"").count(), 2, "{at}: the rerun resumed the journal");
        no_deletes(&fake);
    }
}

/// MegaCo, killed twice at points of different kinds (after a provisioner
/// key is made and its secret shown; after a template version is created,
/// before its build), each rerun resuming the journal; the last run ends
/// where a run without a kill ends. (A kill after each of MegaCo's 549 steps
/// would cost two MegaCo runs each: the full matrix runs on the small
/// deployment above, whose steps are of the same kinds.)
#[test]
fn megaco_killed_twice_converges_to_the_uninterrupted_end_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_plan(dir.path(), &megaco(), &split_text("split.toml"));
    let plan = read_plan(&path);
    let find = |f: &dyn Fn(&StepSpec) -> bool| plan.steps.iter().position(|s| f(&s.spec)).unwrap();
    let key = find(&|s| matches!(s, StepSpec::ProvisionerKey(_)));
    let template = find(&|s| matches!(s, StepSpec::Template(_)));
    let fake = FakeCoder::start(megaco());
    for (i, point) in [(key, Point::StepRecorded), (template, Point::VersionCreated)] {
        let mut o = options();
        o.stop_at = stop_at(i, point);
        let stopped = run(&fake, &path, &o, &mut Admin::new(&fake));
        assert!(matches!(stopped, Err(Error::Interrupted(_))), "step {i}: {:?}", stopped.map(|r| r.ledger.render()));
    }
    let report = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
    done_but_the_idp_risk(&report, &plan);
    assert_eq!(end_state_of(&fake), megaco_calm_end_state());
    assert_eq!(orphan_versions(&fake), Vec::<String>::new());
}

/// MegaCo killed while many steps are in flight (concurrency 16): the kill
/// comes when a step's outcome is recorded with at least four others
/// started and not yet recorded, whose outcomes the kill loses (they may
/// have acted on the server, or not). The rerun resumes and ends where an
/// uninterrupted run ends, with nothing made twice.
#[test]
fn megaco_killed_with_many_steps_in_flight_converges() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_plan(dir.path(), &megaco(), &split_text("split.toml"));
    let plan = read_plan(&path);
    let fake = FakeCoder::start(megaco());
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut o = options();
    o.concurrency = 16;
    let seen = busy.clone();
    // The 100th recorded outcome that has four or more steps in flight beside it.
    o.stop_at = Some(Arc::new(move |c: &Checkpoint| {
        c.point == Point::StepRecorded
            && c.in_flight >= 4
            && seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 100
    }));
    let stopped = run(&fake, &path, &o, &mut Admin::new(&fake));
    assert!(matches!(stopped, Err(Error::Interrupted(_))), "{:?}", stopped.map(|r| r.ledger.render()));
    assert!(busy.load(std::sync::atomic::Ordering::SeqCst) > 100);
    let mut again = options();
    again.concurrency = 16;
    let report = run(&fake, &path, &again, &mut Admin::new(&fake)).unwrap();
    done_but_the_idp_risk(&report, &plan);
    assert_eq!(end_state_of(&fake), megaco_calm_end_state());
    assert_eq!(orphan_versions(&fake), Vec::<String>::new());
    no_deletes(&fake);
}

/// Two templates of one new org with the same source (so the same uploaded
/// file), and a version of that org made from that file for something else
/// (another template's try: a rerun's steps run at once, and on v2.36.1,
/// where the harness's templates all come from one echo tarball, one took
/// the other's new version and failed with coderd's 400 "already part of a
/// template"). The rerun's lookup for a version an earlier try made takes
/// only one made for its own template: each template gets its own, and the
/// stranger's version stays unlinked.
#[test]
fn a_template_never_takes_a_version_made_for_another_of_the_same_source() {
    use orgsplit::coder::requests::CreateTemplateVersionRequest;
    let (mut snapshot, split) = small();
    let dir = tempfile::tempdir().unwrap();
    let path = write_plan(dir.path(), &snapshot, &split);
    let plan = read_plan(&path);
    let templates: Vec<(usize, String, std::collections::BTreeMap<String, String>)> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.org.as_deref() == Some("team-0001"))
        .filter_map(|(i, s)| match &s.spec {
            StepSpec::Template(t) => Some((i, t.source.name.clone(), t.provisioner_tags.clone())),
            _ => None,
        })
        .collect();
    assert!(templates.len() >= 2, "two templates move to team-0001: {templates:?}");
    let version_of = |name: &str| snapshot.templates.iter().find(|t| t.name == name).unwrap().active_version_id.clone();
    let (a, b) = (version_of(&templates[0].1), version_of(&templates[1].1));
    let file = snapshot.template_versions.iter().find(|v| v.id == a).unwrap().job.file_id.clone();
    snapshot.template_versions.iter_mut().find(|v| v.id == b).unwrap().job.file_id = file.clone();
    let path = write_plan(dir.path(), &snapshot, &split);

    // A first run stopped once the org exists (before its templates, which
    // need it), so the rerun looks for versions an earlier try made.
    let fake = FakeCoder::start(snapshot.clone());
    let mut o = options();
    let org_step = plan.steps.iter().position(|s| s.key == "team-0001/organization/team-0001").unwrap();
    o.stop_at = stop_at(org_step, Point::StepRecorded);
    assert!(matches!(run(&fake, &path, &o, &mut Admin::new(&fake)), Err(Error::Interrupted(_))));
    let (client, _) = fake.client();
    let org = client.find_organization("team-0001").unwrap().expect("made by the first run");
    let (bytes, content_type) = client.download_file(&file).unwrap();
    let uploaded = client.upload_file(bytes, &content_type).unwrap();
    let mut req = CreateTemplateVersionRequest::from_file(&uploaded, templates[0].2.clone());
    req.message = "orgsplit: re-created from coder/some-other-template".into();
    let stranger = client.create_template_version(&org.id, &req).unwrap().id;
    client.wait_for_template_version(&stranger, Duration::from_secs(5), Duration::from_millis(1)).unwrap();

    let report = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
    assert_eq!(report.exit_code(), 0, "{}", report.ledger.render());
    let s = fake.snapshot();
    assert!(s.template_versions.iter().find(|v| v.id == stranger).unwrap().template_id.is_empty(), "left alone");
    let made: Vec<&str> =
        s.templates.iter().filter(|t| t.organization_id == org.id).map(|t| t.active_version_id.as_str()).collect();
    assert!(made.len() >= 2 && !made.contains(&stranger.as_str()), "{made:?}");
}
