//! `orgsplit report`: the dry-run org-split report. One process does it all
//! once: read the snapshot, score the candidates, plan the split (the file
//! given, or the one scoring recommends) in memory, and render.

use std::path::Path;

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::model::Index;
use crate::report::{self, Inputs, Planned, RECOMMENDED, SplitOrigin, plan_and_score};
use crate::rules::derive::Context;
use crate::split::{self, SplitDocument};
use crate::{output, render};

pub fn run(args: ReportArgs) -> Result<u8> {
    if args.example.as_deref() == Some(crate::v1::fixture::NAME) {
        return v1_example(&args);
    }
    if let Some(path) = &args.snapshot
        && is_v1_snapshot(path)?
    {
        return v1_report(&args, path);
    }
    if args.target.is_some() {
        return Err(Error::Usage(
            "--target is for the report of a Coder v1 snapshot (its move to that v2 deployment)".into(),
        ));
    }
    // Inputs a person wrote are checked before the (large) snapshot is read.
    let catalogue = super::rules::load_catalogue(args.scoring.rules.as_deref())?;
    let given = args.split.as_deref().map(read_split).transpose()?;
    let mut snapshot = super::load_snapshot(args.snapshot.as_deref())?;
    super::api::override_deployment_url(&mut snapshot, args.deployment_url.as_deref())?;
    let scored = |ctx: &Context| super::score::score_with(ctx, &catalogue, &args.scoring, args.snapshot.is_none());
    // The snapshot's fingerprints (a pass over all of it) are made on a
    // second core while the rest is done; scoring and planning share one index.
    crate::cores::beside(
        || snapshot.fingerprints(),
        |fingerprints| {
            let index = Index::new(&snapshot);
            let planned = plan_and_score(&index, given, scored, || fingerprints.wait())?;
            write(&args, &planned)?;
            super::keep_until_exit(planned);
            super::keep_until_exit(index);
            Ok::<(), Error>(())
        },
    )?;
    super::keep_until_exit(snapshot);
    super::OK
}

/// Render the report, write it, and say what it holds.
fn write(args: &ReportArgs, planned: &Planned) -> Result<()> {
    let Planned { ctx, scoring, plan, origin, to_fill_in } = planned;
    let origin = *origin;
    let to_fill_in = to_fill_in.clone();
    let report = report::build(Inputs { ctx, scoring, plan, origin, to_fill_in });
    let text = match args.output {
        ReportFormat::Markdown => render::report_doc::markdown(&report),
        ReportFormat::Html => render::report_doc::html(&report),
        ReportFormat::Json => String::from_utf8_lossy(&crate::json::pretty(&report)?).into_owned(),
    };
    match &args.out {
        Some(path) => output::write_atomic(path, text.as_bytes())?,
        None => super::print(&text)?,
    }
    let s = &report.summary;
    let n = |n: usize, what: &str| report::picture::count(n, what);
    super::note(&format!(
        "{}{} of {} recommended as organizations; the split creates {}, re-creates {}, deprecates {}, and \
         moves {} of {}; {}, {}",
        args.out.as_ref().map_or(String::new(), |p| format!("wrote {}: ", p.display())),
        s.recommended_organizations,
        n(s.candidates, "candidate"),
        n(s.new_organizations, "organization"),
        n(s.templates_recreated, "template"),
        s.templates_deprecated,
        n(s.workspaces_to_migrate, "workspace"),
        n(s.users_to_migrate, "user"),
        n(s.risks, "risk"),
        n(s.warnings, "warning"),
    ));
    if origin == SplitOrigin::Recommended && !report.split.to_fill_in.is_empty() {
        super::note(&format!(
            "the report plans {RECOMMENDED}, whose {} {} still to be filled in (marked in the messages): \
             write it with `orgsplit score --emit-split split.toml`, fill {} in, and run \
             `orgsplit report --split split.toml`",
            report.split.to_fill_in.join(" and "),
            if report.split.to_fill_in.len() == 1 { "is" } else { "are" },
            if report.split.to_fill_in.len() == 1 { "it" } else { "them" },
        ));
    }
    super::keep_until_exit(report);
    Ok(())
}

/// Whether a snapshot file is a Coder v1 snapshot (`"coder_v1_snapshot"` near its start).
fn is_v1_snapshot(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut head = Vec::new();
    let file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    file.take(4096).read_to_end(&mut head).map_err(|e| Error::read(path, e))?;
    Ok(memchr::memmem::find(&head, b"\"coder_v1_snapshot\"").is_some())
}

/// `report V1-SNAPSHOT [--split V1-SPLIT] [--target V2-SNAPSHOT]`: a v1
/// deployment, who can do what there, and its move to v2 (the `v1-plan`
/// of it, in words).
fn v1_report(args: &ReportArgs, path: &Path) -> Result<u8> {
    if args.scoring.candidates.is_some() {
        return Err(Error::Usage("--candidates is for a v2 report; a v1 snapshot's report takes none".into()));
    }
    let v1 = super::access::load(Some(path))?;
    let target = args.target.as_deref().map(|p| super::load_snapshot(Some(p))).transpose()?;
    let split = args.split.as_deref().map(|p| super::v1_plan::read_split(p, &v1)).transpose()?;
    let inputs = crate::v1::plan::Inputs {
        v1: &v1,
        target: target.as_ref(),
        split: split.as_ref().map(|(s, d)| (s, d.clone())),
    };
    let plan = crate::v1::plan::plan(&inputs)?;
    v1_write(args, &v1, &plan, &format!("{}", path.display()))
}

/// `--example megaco-v1`: MegaCo on Coder v1, who can do what there, and
/// its move to a fresh v2 deployment (the `v1-plan` of it, in words).
fn v1_example(args: &ReportArgs) -> Result<u8> {
    let v2_only = [
        ("--split", args.split.is_some()),
        ("--candidates", args.scoring.candidates.is_some()),
        ("--target", args.target.is_some()),
    ];
    if let Some((flag, _)) = v2_only.iter().find(|(_, given)| *given) {
        return Err(Error::Usage(format!("{flag} is for a v2 report; `--example megaco-v1` takes none")));
    }
    let v1 = crate::v1::fixture::builtin()?;
    let plan = crate::v1::plan::plan(&crate::v1::plan::Inputs { v1: &v1, target: None, split: None })?;
    v1_write(args, &v1, &plan, "the built-in MegaCo v1 example")
}

fn v1_write(args: &ReportArgs, v1: &crate::v1::V1Snapshot, plan: &crate::v1::plan::V1Plan, what: &str) -> Result<u8> {
    let text = match args.output {
        ReportFormat::Markdown => crate::v1::render::report(v1, plan),
        ReportFormat::Json => String::from_utf8_lossy(&plan.to_json()?).into_owned(),
        ReportFormat::Html => {
            return Err(Error::Usage(
                "the v1 report is Markdown or JSON: use `-o markdown` (the default) or `-o json`".into(),
            ));
        }
    };
    match &args.out {
        Some(path) => output::write_atomic(path, text.as_bytes())?,
        None => super::print(&text)?,
    }
    super::note(&format!(
        "{}{what}: {} v1 organizations into {} v2 organizations, {} templates from images, {} workspaces to move",
        args.out.as_ref().map_or(String::new(), |p| format!("wrote {}: ", p.display())),
        v1.organizations.len(),
        plan.organizations.len(),
        plan.templates.len(),
        plan.workspaces.len()
    ));
    super::OK
}

fn read_split(path: &Path) -> Result<(SplitDocument, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::input(path, "the split file is not UTF-8 text"))?;
    let doc = split::load(text, path)?;
    Ok((doc, bytes))
}
