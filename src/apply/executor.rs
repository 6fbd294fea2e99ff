//! Running the steps: each as soon as the steps it depends on are done, up
//! to `concurrency` at once on worker threads, each retried (looking first)
//! when its requests failed in a way worth another try. The scheduler (this
//! thread) records every outcome in the journal and syncs it before any step
//! that depends on it starts; outcomes that arrive together share one sync
//! (a sync costs a few milliseconds on a disk, a step tens: grouping keeps
//! the guarantee and most of the time). A failing step does not stop the
//! others: steps that depend on it are skipped, with the reason. Template
//! steps of an org with no provisioner yet wait; with
//! `wait_for_provisioners`, apply waits for their daemons and runs them
//! (and what depends on them) in a second pass. How many steps are in
//! flight follows the server's signals (`pace.rs`).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::context::{Ctx, Shared, lock};
use super::journal::{Event, Header, Journal};
use super::ledger::{Item, Ledger, Status};
use super::pace::{Pace, Verdict};
use super::{Console, Options, Point, Prepared, RunOutcome, steps, template, verify};
use crate::coder::{ApiError, Client, ErrorKind};
use crate::error::{Error, Result};
use crate::plan::{Action, Step, StepSpec};

/// Carry out a prepared plan, then verify the deployment against it.
pub fn execute(
    prepared: &mut Prepared,
    client: &Client,
    options: &Options,
    console: &mut (dyn Console + Send),
) -> Result<RunOutcome> {
    let mut journal = match &prepared.earlier {
        Some(_) => Journal::open(&prepared.journal_path)?,
        None => {
            // The deployment as found, before the first change: what `revert` restores.
            let before_sha256 =
                write_before(&prepared.before, &super::journal::beside(&prepared.plan_path, ".before"))?;
            let header = Header {
                orgsplit_apply_journal: super::journal::FORMAT_VERSION,
                plan: prepared.plan_path.display().to_string(),
                plan_sha256: prepared.plan_sha256.clone(),
                deployment: client.base_url(),
                started_from: prepared.plan.snapshot.fingerprint.clone(),
                expected_sha256: verify::sha256(prepared.expected_text.as_bytes()),
                before_sha256: Some(before_sha256),
            };
            Journal::create(&prepared.journal_path, &prepared.expected_path, &header, &prepared.expected_text)?
        }
    };
    let run = prepared.earlier.as_ref().map_or(0, |j| j.runs()) + 1;
    journal.append(&Event::RunStarted { run, by: prepared.me.username.clone() })?;
    let plan = &prepared.plan;
    let shared = Shared::new(client, prepared, options, console, &mut journal);
    let mut statuses: Vec<Option<Status>> = vec![None; plan.steps.len()];
    let mut interrupted = false;
    let requests_before = client.stats().requests.load(Ordering::Relaxed);
    for pass in 1..=2 {
        let todo: Vec<usize> = match pass {
            1 => (0..plan.steps.len()).collect(),
            _ => match waiting_for_provisioners(&mut Ctx::new(&shared, 0, ""), &statuses)? {
                Some(todo) => todo,
                None => break,
            },
        };
        for &i in &todo {
            statuses[i] = None;
        }
        if run_pass(&shared, &mut statuses, &todo)? {
            interrupted = true;
            break;
        }
    }
    let ledger = Ledger {
        items: plan
            .steps
            .iter()
            .zip(statuses)
            .filter_map(|(s, st)| st.map(|status| Item { key: s.key.clone(), status }))
            .collect(),
    };
    drop(shared);
    let requests = super::budget::Requests {
        made: client.stats().requests.load(Ordering::Relaxed) - requests_before,
        minimum: super::budget::minimum(plan, &prepared.before),
    };
    // Verification reads the whole deployment again; the state read at the
    // start is not needed any more, and at 50,000 users it is a large share
    // of the memory (freed here, the new read reuses it).
    drop(std::mem::take(&mut prepared.before));
    // A verification that cannot read the deployment does not hide what the run did.
    let (verification, unverified) = match interrupted {
        true => (None, None),
        false => match verify::verify(prepared, client, options) {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    journal.append(&Event::RunEnded {
        run,
        summary: ledger.summary(),
        drift: verification.as_ref().map(|v| !v.diff.is_empty()),
        interrupted,
    })?;
    Ok(RunOutcome { ledger, verification, unverified, interrupted, journal: prepared.journal_path.clone(), requests })
}

/// Write the state as found (its canonical document) to `path`, streamed, and
/// return the digest of the file's bytes. `to_json` would hold a copy of the
/// state and the whole document at once: two snapshots' worth at scale.
fn write_before(before: &crate::model::Snapshot, path: &std::path::Path) -> Result<String> {
    let copy;
    let canonical = match before.is_canonical() {
        true => before,
        false => {
            copy = {
                let mut c = before.clone();
                c.canonicalize();
                c
            };
            &copy
        }
    };
    crate::output::write_atomic_json(path, canonical)?;
    verify::sha256_of_file(path)
}

/// What a worker hands back: the step, its outcome, and whether the run
/// must stop (a test's checkpoint, or the journal could not be written).
struct Finished {
    index: usize,
    status: Status,
    stop: bool,
    fatal: Option<Error>,
}

/// Run the steps `todo` (their statuses `None`; the others settled), each
/// once the steps before it in the plan that it depends on have settled.
/// `Ok(true)` when interrupted.
fn run_pass(shared: &Shared<'_>, statuses: &mut [Option<Status>], todo: &[usize]) -> Result<bool> {
    let plan = shared.plan;
    let total = plan.steps.len();
    let index: HashMap<&str, usize> = plan.steps.iter().enumerate().map(|(i, s)| (s.key.as_str(), i)).collect();
    // What each step waits for, and who waits for it: only steps earlier in
    // the plan and still to run count (a later one is `blocked`'s to judge).
    let mut unsettled = vec![0usize; total];
    let mut dependents: HashMap<usize, Vec<usize>> = HashMap::new();
    for &i in todo {
        for d in &plan.steps[i].depends_on {
            if let Some(&j) = index.get(d.as_str())
                && j < i
                && statuses[j].is_none()
            {
                unsettled[i] += 1;
                dependents.entry(j).or_default().push(i);
            }
        }
    }
    let workers = shared.options.concurrency.max(1).min(todo.len().max(1));
    let mut pace = Pace::new(workers, shared.client.stats());
    let (job_tx, job_rx) = mpsc::channel::<usize>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<Finished>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (job_rx, done_tx) = (&job_rx, done_tx.clone());
            scope.spawn(move || {
                loop {
                    let next = job_rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(i) = next else { break };
                    let step = &plan.steps[i];
                    let mut ctx = Ctx::new(shared, i, &step.key);
                    let status = attempt(&mut ctx, step);
                    let finished = Finished { index: i, status, stop: ctx.stopped(), fatal: ctx.fatal.take() };
                    if done_tx.send(finished).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut ready: BTreeSet<usize> = BTreeSet::new();
        let mut settled: Vec<(usize, Status)> = Vec::new();
        for &i in todo {
            if unsettled[i] == 0 {
                match blocked(&plan.steps[i], statuses, &index) {
                    Some(status) => settled.push((i, status)),
                    None => {
                        ready.insert(i);
                    }
                }
            }
        }
        let mut in_flight = 0usize;
        let mut done = total - todo.len();
        let mut interrupted = false;
        let result: Result<bool> = loop {
            // Record what settled (one sync for all of it), then release what waited for it.
            if !settled.is_empty() {
                let mut recorded = Vec::new();
                {
                    let mut journal = lock(&shared.journal);
                    while let Some((i, status)) = settled.pop() {
                        if matches!(status, Status::Done(_) | Status::Failed(_) | Status::Waiting(_)) {
                            let event = Event::Step {
                                step: plan.steps[i].key.clone(),
                                status: status.word().into(),
                                detail: status.detail().into(),
                            };
                            journal.write(&event)?;
                        }
                        statuses[i] = Some(status);
                        recorded.push(i);
                        for &k in dependents.get(&i).map_or(&[][..], Vec::as_slice) {
                            unsettled[k] -= 1;
                            if unsettled[k] == 0 {
                                match blocked(&plan.steps[k], statuses, &index) {
                                    Some(status) => settled.push((k, status)),
                                    None => {
                                        ready.insert(k);
                                    }
                                }
                            }
                        }
                    }
                    journal.sync()?;
                }
                recorded.sort_unstable();
                done += recorded.len();
                shared.in_flight.store(in_flight, Ordering::SeqCst);
                if recorded.iter().any(|&i| shared.stop_here(i, &plan.steps[i].key, Point::StepRecorded)) {
                    break Err(Error::Interrupted("stopped at a test checkpoint".into()));
                }
                if let Some(&last) = recorded.last() {
                    lock(&shared.console).progress(done, total, &plan.steps[last].key);
                }
            }
            interrupted |= shared.interrupted();
            // Start what may start.
            while !interrupted && in_flight < pace.limit() {
                let Some(i) = ready.pop_first() else { break };
                lock(&shared.console).progress(done, total, &plan.steps[i].key);
                if job_tx.send(i).is_err() {
                    break;
                }
                in_flight += 1;
            }
            if in_flight == 0 {
                break Ok(interrupted);
            }
            // Wait for one step to end, then take whatever else has ended.
            let Ok(first) = done_rx.recv() else {
                break Err(Error::Bug("apply's workers stopped before their steps ended".into()));
            };
            let mut batch = vec![first];
            batch.extend(done_rx.try_iter());
            in_flight -= batch.len();
            let finished = batch.len();
            let mut stop = None;
            for f in batch {
                if f.stop {
                    stop.get_or_insert(
                        f.fatal.unwrap_or_else(|| Error::Interrupted("stopped at a test checkpoint".into())),
                    );
                } else {
                    settled.push((f.index, f.status));
                }
            }
            if let Some(e) = stop {
                break Err(e);
            }
            if let Verdict::Hold(wait) = pace.after(finished, shared.client.stats()) {
                lock(&shared.console).note(&format!(
                    "the server is rate limiting: {} step(s) at once from now on, after a pause of {}s",
                    pace.limit(),
                    wait.as_secs()
                ));
                shared.client.pause(wait);
            }
        };
        // No more steps: the workers end once those in flight are done
        // (their outcomes, after a stop, go unrecorded, as after a kill).
        drop(job_tx);
        result
    })
}

/// Why a step cannot run yet, judging by the steps it depends on.
fn blocked(step: &Step, statuses: &[Option<Status>], index: &HashMap<&str, usize>) -> Option<Status> {
    if step.action == Action::NoOp {
        return Some(Status::Done(format!("nothing to do ({})", step.changes.join("; "))));
    }
    for d in &step.depends_on {
        let Some(&i) = index.get(d.as_str()) else {
            return Some(Status::Failed(format!("it depends on `{d}`, which is not in the plan")));
        };
        match &statuses[i] {
            // A member IdP sync places at login is as good as there: what
            // depends on it (a template grant) does not need them in the org yet.
            Some(Status::Done(_) | Status::Pending(_)) => {}
            Some(Status::Waiting(_)) => return Some(Status::Waiting(format!("waits for `{d}`"))),
            Some(Status::Failed(_)) => return Some(Status::Skipped(format!("`{d}` failed"))),
            Some(Status::Skipped(_)) => return Some(Status::Skipped(format!("`{d}` was skipped"))),
            None => return Some(Status::Skipped(format!("`{d}` has not run (it comes later in the plan)"))),
        }
    }
    None
}

/// Carry out one step, trying again (it looks first) after a lost answer,
/// a rate limit or a gateway error.
fn attempt(ctx: &mut Ctx<'_, '_>, step: &Step) -> Status {
    let mut delay = Duration::from_secs(1);
    for n in 1..=ctx.options.attempts.max(1) {
        ctx.first_try = n == 1;
        match dispatch(ctx, step) {
            Ok(status) => return status,
            Err(e) if transient(&e) && n < ctx.options.attempts && !ctx.interrupted() => {
                ctx.client.pause(delay);
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Status::Failed(e.to_string()),
        }
    }
    Status::Failed("no attempts were made".into())
}

fn transient(e: &ApiError) -> bool {
    e.maybe_applied
        || matches!(e.status(), Some(429 | 502 | 503 | 504))
        || matches!(e.kind.as_ref(), ErrorKind::Transport(_) | ErrorKind::RetryAfterTooLong { .. })
}

fn dispatch(ctx: &mut Ctx<'_, '_>, step: &Step) -> steps::Outcome {
    let org = step.org.clone().unwrap_or_default();
    match &step.spec {
        StepSpec::Organization(s) => steps::organization(ctx, s),
        StepSpec::ProvisionerKey(s) => steps::provisioner_key(ctx, &org, s),
        StepSpec::CustomRole(s) => steps::custom_role(ctx, &org, s),
        StepSpec::OrganizationSync(s) => steps::organization_sync(ctx, s),
        StepSpec::Member(s) => steps::member(ctx, &org, s),
        StepSpec::Group(s) => steps::group(ctx, &org, s),
        StepSpec::GroupSync(s) => steps::group_sync(ctx, &org, s),
        StepSpec::RoleSync(s) => steps::role_sync(ctx, &org, s),
        StepSpec::Template(s) => template::template(ctx, &org, s),
        StepSpec::Deprecation(s) => template::deprecation(ctx, s),
    }
}

/// After the first pass: when asked to, wait for the provisioners that
/// template steps wait for, and say which steps to run again (the waiting
/// ones, in plan order). `None` when there is nothing to wait for.
fn waiting_for_provisioners(ctx: &mut Ctx<'_, '_>, statuses: &[Option<Status>]) -> Result<Option<Vec<usize>>> {
    let Some(limit) = ctx.options.wait_for_provisioners else { return Ok(None) };
    let waiting: Vec<usize> =
        (0..statuses.len()).filter(|i| matches!(statuses[*i], Some(Status::Waiting(_)))).collect();
    let mut wanted: BTreeSet<(String, Vec<(String, String)>)> = BTreeSet::new();
    for &i in &waiting {
        if let (Some(org), StepSpec::Template(t)) = (&ctx.plan.steps[i].org, &ctx.plan.steps[i].spec) {
            wanted.insert((org.clone(), t.provisioner_tags.clone().into_iter().collect()));
        }
    }
    if wanted.is_empty() {
        return Ok(None);
    }
    let names: BTreeSet<&str> = wanted.iter().map(|(o, _)| o.as_str()).collect();
    ctx.note(&format!(
        "waiting up to {}s for provisioners serving {} (start them with the keys shown above)",
        limit.as_secs(),
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    ));
    let mut waited = Duration::ZERO;
    loop {
        let mut missing = 0;
        for (org, tags) in &wanted {
            let tags = tags.iter().cloned().collect();
            let seen = match ctx.org_id(org) {
                Ok(Some(id)) => ctx.has_provisioner(&id, &tags, true).unwrap_or(false),
                _ => false,
            };
            missing += usize::from(!seen);
        }
        if missing == 0 || waited >= limit || ctx.interrupted() {
            break;
        }
        ctx.client.pause(ctx.options.poll_every);
        waited += ctx.options.poll_every;
    }
    Ok(Some(waiting))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{OrganizationSpec, StepSpec};

    fn step(key: &str, action: Action, deps: &[&str]) -> Step {
        Step {
            key: key.into(),
            org: Some("ml".into()),
            name: key.into(),
            action,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            changes: vec!["exists as wanted".into()],
            spec: StepSpec::Organization(OrganizationSpec::default()),
        }
    }

    #[test]
    fn a_step_runs_only_when_what_it_depends_on_is_done_or_waits_for_a_login() {
        let index: HashMap<&str, usize> = [("a", 0), ("b", 1)].into();
        let have = |a: Option<Status>| blocked(&step("c", Action::Create, &["a"]), &[a, None], &index);
        assert_eq!(have(Some(Status::Done("x".into()))), None);
        assert_eq!(have(Some(Status::Pending("x".into()))), None, "a member IdP sync places later");
        assert_eq!(have(Some(Status::Waiting("x".into()))), Some(Status::Waiting("waits for `a`".into())));
        assert_eq!(have(Some(Status::Failed("x".into()))), Some(Status::Skipped("`a` failed".into())));
        assert_eq!(have(Some(Status::Skipped("x".into()))), Some(Status::Skipped("`a` was skipped".into())));
        let later = blocked(&step("c", Action::Create, &["b"]), &[None, None], &index);
        assert!(matches!(later, Some(Status::Skipped(why)) if why.contains("comes later in the plan")));
        let unknown = blocked(&step("c", Action::Create, &["zz"]), &[None, None], &index);
        assert_eq!(unknown, Some(Status::Failed("it depends on `zz`, which is not in the plan".into())));
        let noop = blocked(&step("c", Action::NoOp, &["a"]), &[None, None], &index);
        assert_eq!(noop, Some(Status::Done("nothing to do (exists as wanted)".into())));
    }

    #[test]
    fn lost_answers_and_gateway_errors_are_worth_another_try_refusals_are_not() {
        let error = |kind: ErrorKind, maybe_applied: bool| ApiError {
            method: "POST".into(),
            path: "/api/v2/organizations".into(),
            base: "http://x".into(),
            kind: Box::new(kind),
            attempts: 1,
            maybe_applied,
        };
        let status = |s: u16| ErrorKind::Status { status: s, body: None, text: None };
        for (kind, maybe_applied, want) in [
            (status(503), false, true),
            (status(429), false, true),
            (status(400), true, true),
            (ErrorKind::Transport("reset".into()), false, true),
            (status(400), false, false),
            (status(403), false, false),
            (status(409), false, false),
            (ErrorKind::Decode("bad".into()), false, false),
        ] {
            assert_eq!(transient(&error(kind.clone(), maybe_applied)), want, "{kind:?} {maybe_applied}");
        }
    }
}
