//! Scoring from the inputs a person gives: the candidates found by `--by`,
//! changed by a candidates file, then scored. `score` and `report` both
//! score this way.

use super::{By, Catalogue, Scoring, candfile, candidates, derive::Context};
use crate::error::{Error, Result};

/// A candidates file: where it is (for messages) and its text.
pub struct CandidatesFile {
    pub path: String,
    pub text: String,
}

/// Find the candidates (`by`, then the candidates file) and score them.
pub fn find_and_score(ctx: &Context, catalogue: &Catalogue, by: &By, file: Option<CandidatesFile>) -> Result<Scoring> {
    let (derived, empty) =
        candidates::derive(ctx.index, by).map_err(|e| Error::Usage(format!("`--by {}`: {e}", by.spelled())))?;
    let mut notes: Vec<String> = Vec::new();
    if !empty.is_empty() {
        notes.push(format!("left out {} with no members: {}", empty.len(), empty.join(", ")));
    }
    for (id, was) in &catalogue.overridden {
        notes.push(format!("rule `{id}` is overridden by a file of `--rules` (the built-in one is at {was})"));
    }
    if *by == By::None && file.is_none() {
        return Err(Error::Usage("`--by none` takes the candidates from `--candidates FILE`: give one".into()));
    }
    let candidates = match file {
        Some(CandidatesFile { path, text }) => {
            let (c, more) = candfile::apply(&path, &text, ctx.index, catalogue, derived)?;
            notes.extend(more);
            c
        }
        None => derived,
    };
    Ok(super::score(ctx, candidates, catalogue, &by.describe(), notes))
}
