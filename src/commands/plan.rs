//! `orgsplit plan`: snapshot + split file -> a plan to review (JSON).

use crate::cli::PlanArgs;
use crate::error::{Error, Result};
use crate::{output, plan, render, split};

pub fn run(mut args: PlanArgs) -> Result<u8> {
    let out = super::out_file(args.out.take(), args.output.take())?;
    let mut snapshot = super::load_snapshot(args.snapshot.as_deref())?;
    super::api::override_deployment_url(&mut snapshot, args.deployment_url.as_deref())?;
    let bytes = std::fs::read(&args.split).map_err(|e| Error::read(&args.split, e))?;
    let text =
        String::from_utf8(bytes.clone()).map_err(|_| Error::input(&args.split, "the split file is not UTF-8 text"))?;
    let doc = split::load(&text, &args.split)?;
    let mut plan = plan::plan(&snapshot, &doc, &bytes)?;
    match &out {
        Some(path) => output::write_atomic_parts(path, &plan.to_json_parts()?.parts())?,
        None => super::print(&String::from_utf8_lossy(&plan.to_json()?))?,
    }
    eprint!("{}", render::plan_summary::findings(&plan));
    let wrote = out.as_ref().map_or(String::new(), |p| format!("wrote {}: ", p.display()));
    super::note(&format!("{wrote}{}", render::plan_summary::counts(&plan)));
    super::keep_until_exit(plan);
    super::keep_until_exit(snapshot);
    super::OK
}
