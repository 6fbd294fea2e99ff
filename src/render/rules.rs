//! The rule catalogue as text: `rules list` (one row per rule) and
//! `rules explain` (the page's case, the verdict, each condition and the
//! facts it tests, with what they mean).

use std::fmt::Write;

use super::{Format, heading, table};
use crate::error::Result;
use crate::rules::Catalogue;
use crate::rules::facts;
use crate::rules::rule::{Rule, RuleKind};

pub fn list(catalogue: &Catalogue, format: Format) -> Result<String> {
    if format == Format::Json {
        return json(&catalogue.rules);
    }
    let rows = catalogue
        .rules
        .iter()
        .map(|r| {
            let origin = match catalogue.overridden.get(&r.id) {
                Some(was) => format!("{} (overrides {was})", r.defined_at),
                None => r.defined_at.clone(),
            };
            vec![r.id.clone(), kind(r).into(), r.verdict.map_or("-", |v| v.id()).into(), r.title.clone(), origin]
        })
        .collect();
    let mut out = table(format, &["id", "kind", "verdict", "title", "defined at"], rows);
    out.push('\n');
    Ok(out)
}

pub fn explain(rule: &Rule, catalogue: &Catalogue, format: Format) -> Result<String> {
    if format == Format::Json {
        return json(rule);
    }
    let mut out = heading(format, &format!("{} ({})", rule.title, rule.id));
    let _ = writeln!(out, "\nKind: {}", kind(rule));
    if let Some(v) = rule.verdict {
        let _ = writeln!(out, "Verdict: {} (`{}`)", v.title(), v.id());
    }
    let _ = writeln!(out, "The page's case: \"{}\"", rule.case);
    let _ = writeln!(out, "Rationale: {}", rule.rationale);
    let _ = writeln!(out, "Reference: {}", rule.reference);
    let _ = writeln!(out, "Defined at: {}", rule.defined_at);
    if let Some(was) = catalogue.overridden.get(&rule.id) {
        let _ = writeln!(out, "Overrides the built-in rule at {was}");
    }
    let _ = writeln!(
        out,
        "\nIt applies when every required condition holds; supporting conditions add to its score \
         (conditions met, of all). Among the cases that apply, the one with most conditions met wins."
    );
    let rows = rule
        .conditions
        .iter()
        .map(|c| {
            let tests = c.any.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or ");
            vec![if c.required { "required" } else { "supporting" }.into(), tests, c.reason.clone()]
        })
        .collect();
    out.push('\n');
    out.push_str(&table(format, &["", "test", "reason"], rows));
    out.push_str("\n\n");
    let mut used: Vec<&str> = rule.conditions.iter().flat_map(|c| c.any.iter().map(|t| t.fact.as_str())).collect();
    used.sort_unstable();
    used.dedup();
    let rows = used
        .iter()
        .filter_map(|f| facts::lookup(f))
        .map(|d| {
            let how = if d.derived { "derived (or declared)" } else { "declared only" };
            vec![d.name.into(), d.kind.describe().into(), how.into(), d.means.into()]
        })
        .collect();
    out.push_str(&table(format, &["fact", "type", "from", "meaning"], rows));
    out.push('\n');
    let _ = writeln!(out, "\n{}", crate::rules::derive::DEDICATION);
    let _ = writeln!(out, "\n{}", crate::rules::score::REGION_FIRST);
    let _ = writeln!(out, "\n{}", crate::rules::overlaps::DEFINITION);
    let _ = writeln!(out, "\n{}", crate::rules::overlaps::RELATION);
    Ok(out)
}

fn kind(r: &Rule) -> &'static str {
    match r.kind {
        RuleKind::Case => "case",
        RuleKind::Warning => "warning",
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    crate::json::pretty(value).map(|b| String::from_utf8_lossy(&b).into_owned())
}
