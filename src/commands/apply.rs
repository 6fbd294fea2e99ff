//! `orgsplit apply PLAN [--yes]`: read the deployment, check the plan fits
//! it, show what is left to do and ask (or `--yes`), carry out the steps,
//! print the ledger and the verification. Provisioner key secrets go to
//! the terminal only (`/dev/tty`), never to stdout, stderr or a file.

use std::io::IsTerminal;
use std::time::Duration;

use super::api::{connect, deployment_url};
use super::terminal::{Terminal, confirmed};
use crate::apply::{self, Options};
use crate::cli::ApplyArgs;
use crate::error::{Error, Result};
use crate::plan::Plan;

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
    let mut prepared = apply::prepare(&client, plan, &args.plan, &bytes, &options)?;
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
    let report = apply::execute(&mut prepared, &client, &options, &mut console)?;
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
