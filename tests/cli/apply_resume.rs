//! Killing apply and running it again: after every step in turn (the small
//! deployment's ~35 steps, and while a template version builds), at a few
//! points of MegaCo's ~550, and once for real with SIGKILL. Every rerun must
//! reach the state an uninterrupted run reaches, with nothing made twice.

use std::path::Path;
use std::sync::{Arc, OnceLock};

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
