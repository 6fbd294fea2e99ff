//! `orgsplit export terraform PLAN [--snapshot S] [--template-sources DIR] --out-dir DIR`:
//! the plan's organizations as a Terraform configuration for the coderd
//! provider, written as one folder (all or nothing).

use std::path::Path;

use crate::cli::{ExportCommand, ExportTerraformArgs};
use crate::error::{Error, Result};
use crate::output::FolderWriter;
use crate::plan::{self, TemplateSource};
use crate::render::terraform;

pub fn run(command: ExportCommand) -> Result<u8> {
    match command {
        ExportCommand::Terraform(args) => run_terraform(args),
    }
}

fn run_terraform(args: ExportTerraformArgs) -> Result<u8> {
    let plan = super::load_plan(&args.plan)?;
    let snapshot = super::load_snapshot(args.snapshot.as_deref())?;
    plan::check_fingerprint(&plan, &snapshot)?;
    let sources = match &args.template_sources {
        Some(dir) => Some(std::fs::canonicalize(dir).map_err(|e| Error::read(dir, e))?),
        None => None,
    };
    let resolve = |t: &TemplateSource| -> Result<Option<String>> {
        match &sources {
            Some(dir) => source_dir(dir, t).map(Some),
            None => Ok(None),
        }
    };
    let files = terraform::export(&plan, &snapshot, &resolve)?;
    let mut out = FolderWriter::new(&args.out_dir)?;
    for (name, text) in &files {
        out.add(name, text.as_bytes(), None)?;
    }
    out.commit()?;
    eprintln!(
        "wrote {} organization file(s), main.tf, README.md to {} (read README.md: Terraform is not the whole split)",
        files.keys().filter(|n| n.starts_with("org_")).count(),
        args.out_dir.display()
    );
    super::keep_until_exit(snapshot);
    super::OK
}

/// The folder of a template's source: `DIR/<org>/<template>` when there is
/// one (two orgs may have a template of the same name), else `DIR/<template>`.
fn source_dir(dir: &Path, t: &TemplateSource) -> Result<String> {
    let candidates = [dir.join(&t.org).join(&t.name), dir.join(&t.name)];
    match candidates.iter().find(|p| p.is_dir()) {
        Some(p) => Ok(p.display().to_string()),
        None => Err(Error::Usage(format!(
            "no source for template `{}` (of `{}`) in `{}`: expected `{}` or `{}` (what `coder templates pull` writes); \
             add it, or leave out `--template-sources` to set `var.template_sources` later",
            t.name,
            t.org,
            dir.display(),
            candidates[0].display(),
            candidates[1].display()
        ))),
    }
}
