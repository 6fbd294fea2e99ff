//! The scoring report as a terminal table, Markdown or JSON: a summary row
//! per candidate, then per candidate the recommendation, the case that fits
//! and the page's words for it, each condition met or not with the fact's
//! value and evidence, other cases that fit, warnings, suppressions and conflicts.

use std::fmt::Write;

use super::{Format, escape_markdown_cell, heading, plain, plain_text, plural, table};
use crate::error::Result;
use crate::rules::facts::{Facts, Origin};
use crate::rules::score::{Match, Status};
use crate::rules::{Scored, Scoring};

pub fn render(report: &Scoring, format: Format) -> Result<String> {
    if format == Format::Json {
        return crate::json::pretty(report).map(|b| String::from_utf8_lossy(&b).into_owned());
    }
    let mut out = String::new();
    if format == Format::Markdown {
        out.push_str("# Which teams should get an organization?\n\n");
    }
    let _ = writeln!(
        out,
        "{} from {}, scored against {} of Coder's \"Organizations - best practices\" page.",
        plural(report.candidates.len(), "candidate", "candidates"),
        report.candidates_from,
        plural(report.rules.len(), "rule", "rules"),
    );
    for n in &report.notes {
        let _ = writeln!(out, "Note: {n}.");
    }
    out.push('\n');
    out.push_str(&heading(format, "Summary"));
    let rows = report
        .candidates
        .iter()
        .map(|s| {
            let (case, score) = match (&s.decision.best, &s.decision.nearest) {
                (Some(b), _) => (b.title.clone(), format!("{}/{}", b.met, b.total)),
                (None, Some(n)) => (format!("none (closest: {})", n.title), format!("{}/{}", n.met, n.total)),
                (None, None) => ("none".into(), String::new()),
            };
            let warnings = s.decision.warnings.iter().map(|w| w.rule.clone()).collect::<Vec<_>>().join(", ");
            let recommendation = match (&s.merged_into, &s.relation) {
                (Some(j), Some(r)) => format!("In `{j}`'s organization ({})", r.label()),
                (Some(j), None) => format!("In `{j}`'s organization"),
                (None, Some(r)) => format!("{} ({})", s.decision.recommendation.title(), r.label()),
                (None, None) => s.decision.recommendation.title().to_string(),
            };
            vec![s.candidate.name.clone(), s.members.to_string(), recommendation, case, score, warnings]
        })
        .collect();
    out.push_str(&table(
        format,
        &["candidate", "members", "recommendation", "best-matching case", "score", "warnings"],
        rows,
    ));
    out.push('\n');
    for s in &report.candidates {
        out.push('\n');
        candidate(&mut out, s, format);
    }
    // Names and evidence come from the deployment and go to a terminal: no
    // control character of theirs gets through, whichever line holds it.
    Ok(plain_text(&out).into_owned())
}

/// Line prefixes: terminal text indents; Markdown nests lists, so lines do not run together.
#[derive(Clone, Copy)]
struct Pen {
    top: &'static str,
    item: &'static str,
    detail: &'static str,
}

const TERMINAL: Pen = Pen { top: "", item: "  ", detail: "              " };
const MARKDOWN: Pen = Pen { top: "- ", item: "  - ", detail: "    - " };

fn candidate(out: &mut String, s: &Scored, format: Format) {
    let md = format == Format::Markdown;
    let c = &s.candidate;
    let title = plain(&format!("{} ({}, {} members, from {})", c.name, c.display_name, s.members, c.source));
    if md {
        let _ = writeln!(out, "### {}\n", escape_markdown_cell(&title));
    } else {
        let _ = writeln!(out, "{title}\n{}", "-".repeat(title.chars().count()));
    }
    let p = if md { MARKDOWN } else { TERMINAL };
    let (top, item) = (p.top, p.item);
    let _ = writeln!(out, "{top}Recommendation: {}", s.decision.recommendation.title());
    if let Some(r) = &s.relation {
        let _ = writeln!(out, "{top}No organization of its own: {}", r.label());
    }
    for n in &s.decision.notes {
        let _ = writeln!(out, "{item}why review: {n}");
    }
    match (&s.decision.best, &s.decision.nearest) {
        (Some(best), _) => {
            let _ = writeln!(out, "{top}Case: {} ({} of {} conditions met)", best.title, best.met, best.total);
            explain(out, best, &s.facts, p);
        }
        (None, Some(nearest)) => {
            let _ =
                writeln!(out, "{top}No case of the page applies: no clear case, so no organization is recommended.");
            let _ = writeln!(
                out,
                "Closest: {} ({} of {} conditions met; the missing ones are below)",
                nearest.title, nearest.met, nearest.total
            );
            explain(out, nearest, &s.facts, p);
        }
        (None, None) => {
            let _ = writeln!(out, "{top}No case of the page applies: no clear case (every case rule is suppressed).");
        }
    }
    for a in &s.decision.also {
        let _ = writeln!(out, "{top}Also fits: {} ({} of {})", a.title, a.met, a.total);
    }
    for w in &s.decision.warnings {
        let _ = writeln!(out, "{top}Warning: {}", w.title);
        let _ = writeln!(out, "{item}the page: {}", w.rationale);
        for cond in &w.conditions {
            let _ = writeln!(out, "{item}{}: {}", cond.reason, tests(cond, &s.facts));
        }
    }
    for sup in &c.suppressed {
        let _ = writeln!(out, "{top}Suppressed: rule `{}`, because \"{}\" ({})", sup.rule, sup.because, sup.at);
    }
    for c in &s.contradictions {
        let _ = writeln!(out, "{top}Contradiction: {}", c.line());
    }
    conflicts(out, s, p);
}

fn explain(out: &mut String, m: &Match, facts: &Facts, p: Pen) {
    let item = p.item;
    let _ = writeln!(out, "{item}the page: \"{}\"", m.case);
    let _ = writeln!(out, "{item}why: {}", m.rationale);
    let _ = writeln!(out, "{item}see {}", m.reference);
    for cond in &m.conditions {
        let mark = match cond.status {
            Status::Met => "[met]    ",
            Status::NotMet => "[not met]",
            Status::Unknown => "[unknown]",
        };
        let kind = if cond.required { "" } else { " (supporting)" };
        let _ = writeln!(out, "{item}{mark} {}{kind}: {}", cond.reason, tests(cond, facts));
        for t in &cond.tests {
            let Some(f) = facts.get(&t.fact) else { continue };
            if let Some(why) = &f.unknown {
                let _ = writeln!(out, "{}{}: {why}", p.detail, t.fact);
            }
            for e in f.evidence.iter().take(4) {
                let at = e.at.as_ref().map(|a| format!(" ({a})")).unwrap_or_default();
                let _ = writeln!(out, "{}{}: {}{at}", p.detail, t.fact, e.text);
            }
        }
    }
}

/// `own_cloud_accounts >= 1 (is 1)`, `acquired == true (is true, declared)`, `... (unknown)`.
fn tests(cond: &crate::rules::score::ConditionResult, facts: &Facts) -> String {
    cond.tests
        .iter()
        .map(|t| {
            let declared = facts.get(&t.fact).is_some_and(|f| f.origin == Origin::Declared);
            let value = match &t.value {
                Some(v) => format!("is {v}{}", if declared { ", declared" } else { "" }),
                None => "unknown".into(),
            };
            format!("{} ({value})", t.test)
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn conflicts(out: &mut String, s: &Scored, p: Pen) {
    let item = p.item;
    let c = &s.conflicts;
    if c.shared_templates.is_empty() && c.overlapping_candidates.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}Conflicts:", p.top);
    let others = |o: &[crate::rules::Overlap]| {
        let mut parts: Vec<String> = o.iter().take(5).map(|o| format!("{} {}", o.candidate, o.users)).collect();
        if o.len() > 5 {
            parts.push(format!("and {} more", o.len() - 5));
        }
        parts.join(", ")
    };
    for t in &c.shared_templates {
        if t.dedicated_to.contains(&s.candidate.name) {
            let _ = writeln!(
                out,
                "{item}its template `{}` is also used by (or granted to) {} people outside it ({})",
                t.template,
                t.outside_users,
                others(&t.other_candidates)
            );
        } else {
            let _ = writeln!(
                out,
                "{item}{} of its members use (or are granted) `{}`, the template of {}",
                t.members,
                t.template,
                t.dedicated_to.join(", ")
            );
        }
    }
    if !c.overlapping_candidates.is_empty() {
        let _ = writeln!(out, "{item}members also in other candidates: {}", others(&c.overlapping_candidates));
    }
}
