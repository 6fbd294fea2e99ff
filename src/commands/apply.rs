//! `orgsplit apply PLAN [--yes]`: read the deployment, check the plan fits
//! it, show what is left to do and ask (or `--yes`), carry out the steps,
//! print the ledger and the verification. Provisioner key secrets go to
//! the terminal only (`/dev/tty`), never to stdout, stderr or a file.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::api::{connect, deployment_url};
use crate::apply::{self, Console, NewKey, Options};
use crate::cli::ApplyArgs;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::render::plain;

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
        variables: apply::read_variables(args.variables.as_deref())?,
        concurrency: usize::from(args.concurrency),
        attempts: args.api.retries + 1,
        progress: std::io::stderr().is_terminal(),
        interrupted: Some(apply::interrupt::flag()),
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
        if !confirmed("Apply these changes to", &client.base_url())? {
            return Err(Error::Refused("apply cancelled: nothing was changed".into()));
        }
    }
    apply::interrupt::install()?;
    let mut console = Terminal::new(options.progress, prepared.plan.steps.len());
    let report = apply::execute(&prepared, &client, &options, &mut console)?;
    console.bar.finish_and_clear();
    super::print(&crate::render::plain_text(&report.render(&args.plan)))?;
    Ok(report.exit_code())
}

/// Where the token may go: only an address the admin gave on this run
/// (`--url` or `CODER_URL`), and only when it is the plan's deployment. A
/// plan file is data anyone could have edited: its URL alone never receives
/// the token. Decided before anything is sent anywhere.
pub(super) fn address(given: Option<String>, planned: &str) -> Result<String> {
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
pub(super) fn confirmed(question: &str, url: &str) -> Result<bool> {
    eprint!("\n{question} {url}? Only `yes` goes on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| Error::read("standard input", e))?;
    Ok(answer.trim() == "yes")
}

/// The person at the terminal: progress on stderr, secrets on `/dev/tty`.
pub(super) struct Terminal {
    pub(super) bar: ProgressBar,
    tty: Option<File>,
}

impl Terminal {
    pub(super) fn new(progress: bool, steps: usize) -> Terminal {
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
