//! `orgsplit apply PLAN [--yes]`: read the deployment, check the plan fits
//! it, show what is left to do and ask (or `--yes`), carry out the steps,
//! print the ledger and the verification. Provisioner key secrets go to
//! the terminal only (`/dev/tty`), never to stdout, stderr or a file.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::api::{connect, deployment_url};
use crate::apply::{self, Console, NewKey, Options, RunOutcome};
use crate::cli::ApplyArgs;
use crate::coder::Secret;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::render::plain;

/// Set by the first Ctrl-C (or SIGTERM): the run stops between two steps.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn run(args: ApplyArgs) -> Result<u8> {
    let bytes = std::fs::read(&args.plan).map_err(|e| Error::read(&args.plan, e))?;
    let plan = Plan::from_json(&bytes, &args.plan)?;
    if !args.yes && !std::io::stdin().is_terminal() {
        return Err(Error::Refused(
            "apply changes a deployment, so it shows the changes and asks first, and there is no terminal to ask \
             on: review them with `orgsplit diff PLAN`, then run apply with --yes"
                .into(),
        ));
    }
    let url = address(deployment_url(args.url.as_deref()), &plan.deployment.url)?;
    let client = connect(&url, &args.api)?;
    let options = Options {
        build_timeout: Duration::from_secs(args.build_timeout),
        wait_for_provisioners: args.wait_for_provisioners.map(Duration::from_secs),
        variables: read_variables(args.variables.as_deref())?,
        attempts: args.api.retries + 1,
        progress: std::io::stderr().is_terminal(),
        interrupted: Some(&INTERRUPTED),
        ..Options::default()
    };
    let prepared = apply::prepare(&client, plan, &args.plan, &bytes, &options)?;
    if let Some(j) = &prepared.earlier {
        super::note(&format!(
            "resuming: `{}` records {} earlier run(s) of this plan; every step looks before it acts",
            prepared.journal_path.display(),
            j.runs()
        ));
    }
    for n in &prepared.notes {
        super::note(n);
    }
    if !args.yes {
        super::print(&prepared.diff)?;
        super::print(&format!("{}\n", crate::render::diff::summary_line(&prepared.plan)))?;
        if !confirmed(&client.base_url())? {
            return Err(Error::Refused("apply cancelled: nothing was changed".into()));
        }
    }
    install_interrupt_handler();
    let mut console = Terminal::new(options.progress, prepared.plan.steps.len());
    let report = apply::execute(&prepared, &client, &options, &mut console)?;
    console.bar.finish_and_clear();
    super::print(&crate::render::plain_text(&render(&report, &args.plan)))?;
    Ok(report.exit_code())
}

/// Where the token may go: only an address the admin gave on this run
/// (`--url` or `CODER_URL`), and only when it is the plan's deployment. A
/// plan file is data anyone could have edited: its URL alone never receives
/// the token. Decided before anything is sent anywhere.
fn address(given: Option<String>, planned: &str) -> Result<String> {
    // Both are shown in messages: no control character reaches the terminal.
    let shown = |s: &str| s.trim().escape_debug().to_string();
    let planned_shown = shown(planned);
    let Some(given) = given else {
        let which = if planned.is_empty() {
            "the deployment's URL".to_string()
        } else {
            format!("{planned_shown} (the plan's deployment) if that is where you mean to send the session token")
        };
        return Err(Error::Refused(format!(
            "say which deployment to change: pass --url {which}, or set CODER_URL; apply sends the session token only \
             to an address given on this run, never to one read from the plan"
        )));
    };
    crate::coder::check_url(&given)?;
    if planned.is_empty() {
        super::note(&format!(
            "the plan does not record its deployment's address: applying to {given}, the deployment its state is \
             checked against"
        ));
    } else if !crate::model::address::same_deployment(&given, planned) {
        return Err(Error::Refused(format!(
            "the plan is for `{planned_shown}`, but this run names `{given_shown}`: nothing was sent. Pass --url \
             {planned_shown} (or set CODER_URL to it); if both are the same deployment, plan again with \
             --deployment-url {given_shown}",
            given_shown = shown(&given)
        )));
    }
    Ok(given)
}

/// Ask on the terminal; only `yes` goes on.
fn confirmed(url: &str) -> Result<bool> {
    eprint!("\nApply these changes to {url}? Only `yes` goes on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| Error::read("standard input", e))?;
    Ok(answer.trim() == "yes")
}

/// The ledger, the verification, and what to do next.
fn render(report: &RunOutcome, plan: &Path) -> String {
    let mut out = report.ledger.render();
    if report.interrupted {
        out.push_str(&format!(
            "interrupted: run `orgsplit apply {}` again to resume (the journal is `{}`)\n",
            plan.display(),
            report.journal.display()
        ));
        return out;
    }
    if let Some(why) = &report.unverified {
        out.push_str(&format!("not verified: the deployment could not be read again ({why})\n"));
    }
    if let Some(v) = &report.verification {
        if v.pending_members + v.pending_group_members + v.pending_roles > 0 {
            out.push_str(&format!(
                "pending until the users log in (IdP sync): {} org membership(s), {} group membership(s), {} role(s)\n",
                v.pending_members, v.pending_group_members, v.pending_roles
            ));
        }
        if v.diff.is_empty() {
            out.push_str("verified: no drift (the deployment is what the plan expects)\n");
        } else {
            if report.ledger.complete() {
                out.push_str(&format!("drift: the deployment differs from what the plan expects:\n{}", v.diff));
            } else {
                // The steps listed above explain it: the start of the diff is enough.
                out.push_str(&format!(
                    "not done yet: the deployment differs from what the plan expects (the steps above that did not \
                     complete explain some or all of it):\n{}",
                    first_lines(&v.diff, 40)
                ));
            }
        }
    }
    if report.exit_code() != 0 {
        out.push_str(&format!("run `orgsplit apply {}` again once that is dealt with: it resumes\n", plan.display()));
    }
    out
}

/// The first `n` lines of `text`, and how many more there are.
fn first_lines(text: &str, n: usize) -> String {
    let total = text.lines().count();
    let mut out: String = text.lines().take(n).flat_map(|l| [l, "\n"]).collect();
    if total > n {
        out.push_str(&format!("... and {} more lines\n", total - n));
    }
    out
}

/// `["org/template"]` tables of `name = "value"`. Values are secrets: an
/// error never repeats the file's content.
fn read_variables(path: Option<&Path>) -> Result<BTreeMap<String, BTreeMap<String, Secret>>> {
    let Some(path) = path else { return Ok(BTreeMap::new()) };
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    let parsed: BTreeMap<String, BTreeMap<String, String>> = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].lines().count().max(1));
        Error::Input(
            crate::error::Diagnostic::new(path, "not a variables file")
                .at(line, 1)
                .help("write one table per new template, `[\"org/template\"]`, holding `name = \"value\"` strings"),
        )
    })?;
    Ok(parsed.into_iter().map(|(t, vars)| (t, vars.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())).collect())
}

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // A second Ctrl-C stops at once; a rerun resumes either way.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}

fn install_interrupt_handler() {
    let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic and resets the handlers,
    // both async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// The person at the terminal: progress on stderr, secrets on `/dev/tty`.
struct Terminal {
    bar: ProgressBar,
    tty: Option<File>,
}

impl Terminal {
    fn new(progress: bool, steps: usize) -> Terminal {
        let bar = if progress {
            ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} steps {wide_msg}") {
            bar.set_style(style);
        }
        // The controlling terminal, whatever stdout and stderr are redirected to.
        let tty = OpenOptions::new().write(true).open("/dev/tty").ok();
        Terminal { bar, tty }
    }
}

impl Console for Terminal {
    fn can_show_secret(&self) -> bool {
        self.tty.is_some()
    }

    fn show_secret(&mut self, key: &NewKey<'_>) -> std::io::Result<()> {
        let Some(tty) = self.tty.as_mut() else {
            return Err(std::io::Error::other("no terminal"));
        };
        let tags: Vec<String> = key.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let text = format!(
            "\nProvisioner key `{}` of organization `{}` (tags {}) is created. Its secret, shown this once and kept \
             nowhere: copy it now for the team that runs `{}`'s provisioners.\n\n    {}\n\nThey start a provisioner \
             with it (KEY set to the secret):\n\n    {}\n\n",
            plain(key.name),
            plain(key.org),
            if tags.is_empty() { "none".to_string() } else { plain(&tags.join(" ")) },
            plain(key.org),
            key.secret.expose(),
            plain(key.start_command)
        );
        let mut result = Ok(());
        self.bar.suspend(|| result = tty.write_all(text.as_bytes()).and_then(|_| tty.flush()));
        result
    }

    fn note(&mut self, message: &str) {
        self.bar.suspend(|| super::note(message));
    }

    fn progress(&mut self, done: usize, _total: usize, key: &str) {
        self.bar.set_position(done as u64);
        self.bar.set_message(plain(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{Item, Ledger, Status, Verification};

    #[test]
    fn variables_files_are_read_and_their_errors_never_repeat_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("vars.toml");
        std::fs::write(&good, "[\"raptix/raptix-eks\"]\ndb_password = \"hunter2\"\n").unwrap();
        let vars = read_variables(Some(&good)).unwrap();
        assert_eq!(vars["raptix/raptix-eks"]["db_password"].expose(), "hunter2");
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[\"raptix/raptix-eks\"]\n\ndb_password = hunter2\n").unwrap();
        let e = read_variables(Some(&bad)).unwrap_err().to_string();
        assert!(e.contains("bad.toml:3:1: not a variables file"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(read_variables(None).unwrap().is_empty());
    }

    #[test]
    fn the_report_says_what_is_left_and_how_to_go_on() {
        let report = |status: Status, diff: &str| RunOutcome {
            ledger: Ledger { items: vec![Item { key: "ml/organization/ml".into(), status }] },
            verification: Some(Verification { diff: diff.into(), pending_members: 2, ..Default::default() }),
            unverified: None,
            interrupted: false,
            journal: "plan.json.journal".into(),
        };
        let plan = Path::new("plan.json");
        let done = render(&report(Status::Done("created".into()), ""), plan);
        assert_eq!(
            done,
            "1 steps: 1 done\npending until the users log in (IdP sync): 2 org membership(s), 0 group membership(s), \
             0 role(s)\nverified: no drift (the deployment is what the plan expects)\n"
        );
        let failed = render(&report(Status::Failed("boom".into()), "-organization ml\n"), plan);
        assert!(failed.contains("not done yet: the deployment differs from what the plan expects"), "{failed}");
        assert!(
            failed.ends_with("run `orgsplit apply plan.json` again once that is dealt with: it resumes\n"),
            "{failed}"
        );
        let long: String = (0..50).map(|i| format!("-line {i}\n")).collect();
        let cut = render(&report(Status::Failed("boom".into()), &long), plan);
        assert!(cut.contains("-line 39\n... and 10 more lines\n") && !cut.contains("-line 40\n"), "{cut}");
        let drift = render(&report(Status::Done("created".into()), "-organization ml\n"), plan);
        assert!(
            drift.contains("drift: the deployment differs from what the plan expects:\n-organization ml\n"),
            "{drift}"
        );
    }
}
