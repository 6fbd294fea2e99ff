//! `orgsplit revert PLAN [--yes]`: read apply's journal and the state it
//! started from, read the deployment, show what will be undone and ask (or
//! `--yes`), undo it, and print the ledger, the leftovers with the commands
//! that remove them, and the verification.

use std::io::IsTerminal;

use super::api::{connect, deployment_url};
use super::apply::address;
use super::terminal::{Terminal, confirmed};
use crate::apply::revert::{self, RevertOptions};
use crate::cli::RevertArgs;
use crate::error::{Error, Result};
use crate::plan::Plan;

pub fn run(args: RevertArgs) -> Result<u8> {
    let bytes = std::fs::read(&args.plan).map_err(|e| Error::read(&args.plan, e))?;
    let plan = Plan::from_json(&bytes, &args.plan)?;
    if !args.yes && !std::io::stdin().is_terminal() {
        return Err(Error::Refused(
            "revert changes a deployment, so it shows what it will undo and asks first, and there is no terminal to \
             ask on: run it with --yes"
                .into(),
        ));
    }
    let url = address(deployment_url(args.url.as_deref()), &plan.deployment.url)?;
    let client = connect(&url, &args.api)?;
    let options = RevertOptions {
        progress: std::io::stderr().is_terminal(),
        interrupted: Some(crate::apply::interrupt::flag()),
        stop_after: None,
        concurrency: usize::from(args.concurrency),
    };
    let prepared = revert::prepare(&client, plan, &args.plan, &bytes, &options)?;
    if let Some(n) = prepared.earlier_runs {
        super::note(&format!(
            "resuming: `{}` records {n} earlier run(s) of this revert; each undo is worked out from the deployment now",
            prepared.journal_path.display()
        ));
    }
    if !args.yes {
        let todo = prepared.todo();
        let mut text = format!("{} change(s) to undo:\n", todo.len());
        for t in &todo {
            text.push_str(&format!("  {t}\n"));
        }
        text.push_str(&revert::render_leftovers(&prepared.leftovers));
        super::print(&crate::render::plain_text(&text))?;
        if !confirmed("Undo these changes on", &client.base_url())? {
            return Err(Error::Refused("revert cancelled: nothing was changed".into()));
        }
    }
    crate::apply::interrupt::install()?;
    let mut console = Terminal::new(options.progress, prepared.todo().len());
    let outcome = revert::execute(&prepared, &client, &options, &mut console)?;
    console.bar.finish_and_clear();
    super::print(&crate::render::plain_text(&outcome.render()))?;
    Ok(outcome.exit_code())
}
