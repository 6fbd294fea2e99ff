//! `orgsplit score`: which candidate teams should get an organization, by
//! the best-practice page's cases, with the reasons; `--emit-split` also
//! writes the recommended split as a draft split file.

use std::path::Path;

use crate::cli::{ScoreArgs, ScoringArgs};
use crate::error::{Error, Result};
use crate::model::Index;
use crate::rules::{self, By, CandidatesFile, derive::Context};
use crate::{output, render};

pub fn run(args: ScoreArgs) -> Result<u8> {
    // Rules first: broken rule files are reported before anything is read or scored.
    let catalogue = super::rules::load_catalogue(args.scoring.rules.as_deref())?;
    let snapshot = super::load_snapshot(args.snapshot.as_deref())?;
    let index = Index::new(&snapshot);
    let ctx = Context::new(&index);
    let report = score_with(&ctx, &catalogue, &args.scoring, args.snapshot.is_none())?;
    if let Some(path) = &args.emit_split {
        let split = rules::recommend_split(&ctx, &report);
        output::write_atomic(path, rules::render_split(&split, &report).as_bytes())?;
        super::note(&format!(
            "wrote a draft split file with {} organizations to {}",
            split.organizations.len(),
            path.display()
        ));
    }
    super::print(&render::score::render(&report, args.output.into())?)?;
    super::OK
}

/// Score as `--by`, `--candidates` and `--rules` say; `report` scores the
/// same way. `builtin` says the snapshot is the built-in example, whose own
/// candidates file is then used.
pub(super) fn score_with(
    ctx: &Context,
    catalogue: &rules::Catalogue,
    args: &ScoringArgs,
    builtin: bool,
) -> Result<rules::Scoring> {
    let file = candidates_file(args.candidates.as_deref(), builtin, &args.by)?;
    rules::find_and_score(ctx, catalogue, &args.by, file)
}

/// The candidates file's path (for messages) and text: `--candidates FILE`,
/// or for the built-in example its own `candidates.toml`.
fn candidates_file(candidates: Option<&Path>, builtin: bool, by: &By) -> Result<Option<CandidatesFile>> {
    if let Some(path) = candidates {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        return Ok(Some(CandidatesFile { path: path.display().to_string(), text }));
    }
    // The built-in file names MegaCo's groups: it fits the built-in example scored by groups only.
    if !builtin || *by != By::Groups {
        return Ok(None);
    }
    let name = "fixtures/megaco/candidates.toml";
    let Some(bytes) = crate::fixture::builtin_file("candidates.toml") else { return Ok(None) };
    super::note(&format!("using the built-in example's candidates file `{name}` (declared facts no export shows)"));
    Ok(Some(CandidatesFile { path: name.to_string(), text: String::from_utf8_lossy(bytes).into_owned() }))
}
