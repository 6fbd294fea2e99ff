//! `orgsplit diff PLAN [--snapshot S] [--access]`: what a plan changes, as a
//! unified diff of the deployment before and after (or, with `--access`, who
//! gains and loses what), then the summary line. Exits 0 when nothing would
//! change and 2 when something would (terraform's `-detailed-exitcode`).

use crate::cli::{DiffArgs, DiffFormat};
use crate::error::{Error, Result, exit};
use crate::model::Snapshot;
use crate::plan::{self, Plan};
use crate::render;

pub fn run(args: DiffArgs) -> Result<u8> {
    if args.output == DiffFormat::Json && !args.access {
        return Err(Error::Usage(
            "`-o json` is for the access diff: add `--access` (the state diff is a unified diff, text only)".into(),
        ));
    }
    // Independent work goes on two cores: reading the plan beside the
    // snapshot, then checking the fingerprint beside rendering the before side.
    let (before, plan) = crate::cores::join(
        || super::load_snapshot(args.snapshot.as_deref()),
        || -> Result<Plan> {
            let bytes = super::read_input(&args.plan)?;
            Plan::from_json(&bytes, &args.plan)
        },
    );
    let (plan, before) = (plan?, before?);
    let color = use_color();
    // The before side is rendered first, so the snapshot can then become the
    // after-state without a copy. The process ends soon after: states are
    // not freed (millions of small strings, one by one).
    let (body, changed) = if args.access {
        let was = beside_the_check(&plan, &before, || render::access::view(&before))?;
        let after = plan::apply(before, &plan)?;
        let mut now = render::access::view(&after);
        // Workspaces the plan moves leave their shares behind.
        render::access::move_workspaces(&mut now, &after, &plan);
        super::keep_until_exit(after);
        if args.output == DiffFormat::Json {
            let summary = render::diff::summary_line(&plan);
            let changed = !render::access::unchanged(&was, &now);
            super::print(&render::access::render_json(&was, &now, &summary))?;
            let code = if changed || plan.has_changes() { exit::CHANGES } else { exit::OK };
            super::keep_until_exit(plan);
            return Ok(code);
        }
        let text = render::access::render(&was, &now, color);
        let changed = !text.is_empty();
        (text, changed)
    } else {
        let was = beside_the_check(&plan, &before, || render::readable::readable(&before))?;
        let after = plan::apply(before, &plan)?;
        let now = render::readable::readable(&after);
        super::keep_until_exit(after);
        (render::diff::unified(&was, &now, color), was != now)
    };
    super::print(&body)?;
    super::print(&format!("{}\n", render::diff::summary_line(&plan)))?;
    let code = if changed || plan.has_changes() { exit::CHANGES } else { exit::OK };
    super::keep_until_exit(plan);
    Ok(code)
}

/// Run `work` while checking the plan was made from `snapshot`; a refusal wins.
fn beside_the_check<T: Send>(plan: &Plan, snapshot: &Snapshot, work: impl FnOnce() -> T + Send) -> Result<T> {
    let (checked, done) = crate::cores::join(|| plan::check_fingerprint(plan, snapshot), work);
    checked.map(|()| done)
}

/// Colour as anstream (clap's own choice) decides for standard output: on a
/// terminal that is not `TERM=dumb`, never with `NO_COLOR` set to anything
/// but the empty string (no-color.org), always with `CLICOLOR_FORCE`.
fn use_color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}
