//! The scores and the plan a report is made of: the split given, planned
//! beside scoring, or else the one scoring recommends.

use std::path::Path;

use super::{DEADLINE_TO_FILL_IN, SplitOrigin, WIKI_TO_FILL_IN};
use crate::error::{Error, Result};
use crate::model::Index;
use crate::plan;
use crate::rules::{self, derive::Context};
use crate::split::{self, SplitDocument};

/// What the report calls the recommended split in messages and in the report.
pub const RECOMMENDED: &str = "the split recommended by `orgsplit score`";

/// The scores and the plan, and where the split came from.
pub struct Planned<'a> {
    pub ctx: Context<'a>,
    pub scoring: rules::Scoring,
    pub plan: plan::Plan,
    pub origin: SplitOrigin,
    pub to_fill_in: Vec<String>,
}

/// Score, and plan the split given or else the one scoring recommends. On two
/// cores planning a given split runs beside scoring. Errors are those of
/// doing it in order: scoring's first.
pub fn plan_and_score<'a>(
    index: &'a Index<'a>,
    given: Option<(SplitDocument, Vec<u8>)>,
    scored: impl FnOnce(&Context) -> Result<rules::Scoring>,
    fingerprints: impl FnOnce() -> plan::Fingerprints + Send,
) -> Result<Planned<'a>> {
    if let Some((doc, bytes)) = &given {
        let ((ctx, scoring), plan) = crate::cores::join(
            || {
                let ctx = Context::new(index);
                let scoring = scored(&ctx);
                (ctx, scoring)
            },
            || plan::plan_fingerprinted(index, doc, bytes, fingerprints),
        );
        let (scoring, plan) = (scoring?, plan?);
        return Ok(Planned { ctx, scoring, plan, origin: SplitOrigin::File, to_fill_in: Vec::new() });
    }
    let ctx = Context::new(index);
    let scoring = scored(&ctx)?;
    let (doc, bytes, to_fill_in) = recommended(&ctx, &scoring)?;
    let plan = plan::plan_fingerprinted(index, &doc, &bytes, fingerprints).map_err(|e| {
        Error::Refused(format!(
            "{RECOMMENDED} cannot be planned: {e}\nwrite it with `orgsplit score --emit-split split.toml`, \
             fix it, and give it with `--split split.toml`"
        ))
    })?;
    Ok(Planned { ctx, scoring, plan, origin: SplitOrigin::Recommended, to_fill_in })
}

/// The split scoring recommends, as `score --emit-split` writes it. It leaves
/// the migration wiki and deadline blank, which planning refuses in a
/// message that uses them: the message says plainly that they are still to be
/// filled in instead, and the report lists them.
fn recommended(ctx: &Context, scoring: &rules::Scoring) -> Result<(SplitDocument, Vec<u8>, Vec<String>)> {
    let mut split = rules::recommend_split(ctx, scoring);
    let m = &mut split.migration;
    let mut to_fill_in = Vec::new();
    let blank = [m.wiki.is_empty(), m.deadline.is_empty()];
    for (blank, field, marker, placeholder) in [
        (blank[0], "migration wiki", WIKI_TO_FILL_IN, "{wiki}"),
        (blank[1], "deadline", DEADLINE_TO_FILL_IN, "{deadline}"),
    ] {
        if blank {
            m.deprecation_message = m.deprecation_message.replace(placeholder, marker);
            to_fill_in.push(field.to_string());
        }
    }
    let text = rules::render_split(&split, scoring);
    let doc = split::load(&text, Path::new(RECOMMENDED))
        .map_err(|e| Error::Bug(format!("the recommended split does not read back: {e}")))?;
    Ok((doc, text.into_bytes(), to_fill_in))
}
