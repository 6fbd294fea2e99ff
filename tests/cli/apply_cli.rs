//! `orgsplit apply` as a program: it refuses to change anything unasked
//! without a terminal, survives a real SIGKILL (a rerun resumes and
//! converges), and never shows or writes the session token.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orgsplit::model::Snapshot;

use crate::apply_support::*;
use crate::common::files_in;
use fake_coder::{FakeCoder, Faults};

/// The binary with a clean environment, the token in it, no terminal at all
/// (its own session: not even `/dev/tty`), output to files in `out`.
fn apply_cmd(fake: &FakeCoder, plan: &Path, out: &Path, run: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("orgsplit"));
    cmd.arg("apply").arg(plan).args(["--url", &fake.url()]).args(extra);
    cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).env("NO_COLOR", "1");
    cmd.env("CODER_SESSION_TOKEN", fake.token());
    cmd.stdin(Stdio::null());
    cmd.stdout(std::fs::File::create(out.join(format!("{run}.out"))).unwrap());
    cmd.stderr(std::fs::File::create(out.join(format!("{run}.err"))).unwrap());
    // SAFETY: setsid is async-signal-safe; it only detaches from the terminal.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    cmd
}

/// The plan, made for the deployment at the fake's address (apply sends the
/// token only to the plan's deployment, named on the command line).
fn write_plan_for(fake: &FakeCoder, dir: &Path, snapshot: &Snapshot, split: &str) -> std::path::PathBuf {
    let mut s = snapshot.clone();
    s.source.deployment_url = Some(fake.url());
    write_plan(dir, &s, split)
}

fn read(out: &Path, name: &str) -> String {
    std::fs::read_to_string(out.join(name)).unwrap()
}

/// The token, and its secret half, in none of these folders' files.
fn token_nowhere(token: &str, dirs: &[&Path]) {
    let secret = token.split('-').nth(1).unwrap();
    for dir in dirs {
        for f in files_in(dir) {
            let text = String::from_utf8_lossy(&std::fs::read(dir.join(&f)).unwrap()).into_owned();
            assert!(!text.contains(token) && !text.contains(secret), "the session token is in {f}");
        }
    }
}

#[test]
fn without_a_terminal_and_without_yes_apply_refuses() {
    let (snapshot, split) = small();
    let fake = FakeCoder::start(snapshot.clone());
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let plan = write_plan_for(&fake, dir.path(), &snapshot, &split);
    let status = apply_cmd(&fake, &plan, out.path(), "run", &[]).status().unwrap();
    assert_eq!(status.code(), Some(1));
    let err = read(out.path(), "run.err");
    assert!(
        err.contains(
            "there is no terminal to ask on: review them with `orgsplit diff PLAN`, then run apply with --yes"
        ),
        "{err}"
    );
    assert_eq!(fake.requests(), 0, "nothing was even read");
    assert_eq!(files_in(dir.path()), ["plan.json"]);
}

/// A real SIGKILL halfway, then what the admin does without a terminal
/// (create the key with the coder CLI, start a provisioner), then a rerun:
/// it resumes and ends where a run in one go ends.
#[test]
fn a_sigkill_halfway_then_a_rerun_converges_and_the_token_is_nowhere() {
    let (snapshot, split) = small();
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let fake =
        FakeCoder::with_faults(snapshot.clone(), Faults { latency: Duration::from_millis(25), ..Faults::default() });
    let plan = write_plan_for(&fake, dir.path(), &snapshot, &split);

    let mut child = apply_cmd(&fake, &plan, out.path(), "killed", &["--yes"]).spawn().unwrap();
    let journal = dir.path().join("plan.json.journal");
    let deadline = Instant::now() + Duration::from_secs(120);
    // Kill once a dozen steps are recorded (the run has about 35).
    while std::fs::read_to_string(&journal).map_or(0, |j| j.matches("\"event\":\"step\"").count()) < 12 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "apply ended before it could be killed: {}",
            read(out.path(), "killed.err")
        );
        assert!(Instant::now() < deadline, "apply made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));

    // No terminal, so apply made no key; the admin does, and starts a provisioner.
    let first = read(&dir.path().join(""), "plan.json.journal");
    assert!(
        first.contains("\"step\":\"team-0001/provisioner-key/team-0001-provisioner\",\"status\":\"waiting\""),
        "{first}"
    );
    let tags = [("team".to_string(), "team-0001".to_string())].into();
    fake.admin_creates_key_and_starts_provisioner("team-0001", "team-0001-provisioner", &tags);
    fake.set_faults(Faults::default());

    let status = apply_cmd(&fake, &plan, out.path(), "rerun", &["--yes"]).status().unwrap();
    let (stdout, stderr) = (read(out.path(), "rerun.out"), read(out.path(), "rerun.err"));
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("note: resuming: `") && stderr.contains("records 1 earlier run(s) of this plan"),
        "{stderr}"
    );
    assert!(stdout.ends_with("verified: no drift (the deployment is what the plan expects)\n"), "{stdout}");

    let calm = FakeCoder::start(snapshot);
    let calm_dir = tempfile::tempdir().unwrap();
    let calm_plan = calm_dir.path().join("plan.json");
    std::fs::copy(&plan, &calm_plan).unwrap();
    assert_eq!(run(&calm, &calm_plan, &options(), &mut Admin::new(&calm)).unwrap().exit_code(), 0);
    assert_eq!(end_state(&fake), end_state(&calm));
    assert_eq!(orphan_versions(&fake), Vec::<String>::new());
    no_deletes(&fake);
    token_nowhere(&fake.token(), &[dir.path(), out.path()]);
}

/// A run the server refuses to let create anything: the ledger shows the
/// server's words and what was skipped because of it, the exit code says
/// something is left, and the token is in no output and no file.
#[test]
fn a_refused_step_is_reported_with_the_servers_words_and_never_the_token() {
    let (snapshot, split) = small();
    let fake = FakeCoder::start(snapshot.clone());
    fake.forbid("POST", "/organizations");
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let plan = write_plan_for(&fake, dir.path(), &snapshot, &split);
    let status = apply_cmd(&fake, &plan, out.path(), "run", &["--yes"]).status().unwrap();
    let stdout = read(out.path(), "run.out");
    assert_eq!(status.code(), Some(3), "{stdout}");
    assert!(stdout.starts_with("1 failed:\n  team-0001/organization/team-0001: POST http://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains("403 Forbidden: the token's account lacks the permission to create organizations"),
        "{stdout}"
    );
    assert!(
        stdout.contains("team-0001/provisioner-key/team-0001-provisioner: `team-0001/organization/team-0001` failed"),
        "{stdout}"
    );
    assert!(stdout.contains("not done yet: the deployment differs from what the plan expects"), "{stdout}");
    assert!(
        stdout
            .ends_with(&format!("run `orgsplit apply {}` again once that is dealt with: it resumes\n", plan.display())),
        "{stdout}"
    );
    let journal = read(dir.path(), "plan.json.journal");
    assert!(journal.contains("\"status\":\"failed\",\"detail\":\"POST http://127.0.0.1:"), "{journal}");
    token_nowhere(&fake.token(), &[dir.path(), out.path()]);
}

/// Ctrl-C (a real SIGINT): apply stops between two steps, records that in
/// the journal, prints what it did and how to resume, and exits 130.
#[test]
fn a_sigint_stops_between_steps_with_exit_130() {
    let (snapshot, split) = small();
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let fake =
        FakeCoder::with_faults(snapshot.clone(), Faults { latency: Duration::from_millis(25), ..Faults::default() });
    let plan = write_plan_for(&fake, dir.path(), &snapshot, &split);
    let mut child = apply_cmd(&fake, &plan, out.path(), "run", &["--yes"]).spawn().unwrap();
    let journal = dir.path().join("plan.json.journal");
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(&journal).map_or(0, |j| j.matches("\"event\":\"step\"").count()) < 5 {
        assert!(child.try_wait().unwrap().is_none(), "apply ended first: {}", read(out.path(), "run.err"));
        assert!(Instant::now() < deadline, "apply made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    // SAFETY: a signal to the child we started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let stdout = read(out.path(), "run.out");
    assert!(
        stdout.contains(&format!("interrupted: run `orgsplit apply {}` again to resume", plan.display())),
        "{stdout}"
    );
    let last = read(dir.path(), "plan.json.journal").lines().last().unwrap().to_string();
    assert!(
        last.starts_with("{\"event\":\"run-ended\",\"run\":1,")
            && last.ends_with("\"drift\":null,\"interrupted\":true}"),
        "{last}"
    );
}
