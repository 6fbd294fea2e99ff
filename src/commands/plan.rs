//! `orgsplit plan`: snapshot + split file -> a plan to review (JSON).

use crate::cli::PlanArgs;
use crate::error::{Error, Result};
use crate::plan::{self, Severity};
use crate::split;

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
        Some(path) => plan.write_json(path)?,
        None => super::print(&String::from_utf8_lossy(&plan.to_json()?))?,
    }
    // Risks and warnings, at most a few of each kind: the plan holds them all.
    const SHOWN: usize = 3;
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for f in plan.findings.iter().filter(|f| f.severity >= Severity::Warning) {
        let n = seen.entry(f.code.as_str()).or_default();
        *n += 1;
        if *n <= SHOWN {
            let level = if f.severity == Severity::Risk { "risk" } else { "warning" };
            eprintln!("{level}: [{}] {}", f.code, crate::render::plain_text(&f.message));
        }
    }
    for (code, n) in seen.iter().filter(|(_, n)| **n > SHOWN) {
        eprintln!("... and {} more `{code}` findings", n - SHOWN);
    }
    let s = &plan.summary;
    let count = |sev: Severity| plan.findings.iter().filter(|f| f.severity == sev).count();
    super::note(&format!(
        "{}{} to create, {} to update, {} unchanged, {} workspaces to migrate, 0 to delete; {} risks, {} warnings, {} notes \
         (see `findings` in the plan; `orgsplit diff PLAN` shows the changes)",
        out.as_ref().map_or(String::new(), |p| format!("wrote {}: ", p.display())),
        s.create,
        s.update,
        s.no_op,
        s.workspaces_to_migrate,
        count(Severity::Risk),
        count(Severity::Warning),
        count(Severity::Info),
    ));
    // The process ends now: freeing a large deployment's millions of strings
    // one by one would only make the command slower.
    std::mem::forget(plan);
    std::mem::forget(snapshot);
    super::OK
}
