//! What `orgsplit plan` says on stderr once the plan is made: a few risks
//! and warnings of each kind (the plan holds them all), and its counts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::plan::{Plan, Severity};

/// Findings shown per code; the rest are counted.
const SHOWN: usize = 3;

/// The lines about risks and warnings (each ending in a newline), plain text.
pub fn findings(plan: &Plan) -> String {
    let mut out = String::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for f in plan.findings.iter().filter(|f| f.severity >= Severity::Warning) {
        let n = seen.entry(f.code.as_str()).or_default();
        *n += 1;
        if *n <= SHOWN {
            let level = if f.severity == Severity::Risk { "risk" } else { "warning" };
            let _ = writeln!(out, "{level}: [{}] {}", f.code, super::plain_text(&f.message));
        }
    }
    for (code, n) in seen.iter().filter(|(_, n)| **n > SHOWN) {
        let _ = writeln!(out, "... and {} more `{code}` findings", n - SHOWN);
    }
    out
}

/// The closing note: what the plan creates, updates and moves.
pub fn counts(plan: &Plan) -> String {
    let s = &plan.summary;
    let count = |sev: Severity| plan.findings.iter().filter(|f| f.severity == sev).count();
    format!(
        "{} to create, {} to update, {} unchanged, {} workspaces to migrate, 0 to delete; {} risks, {} warnings, {} notes \
         (see `findings` in the plan; `orgsplit diff PLAN` shows the changes)",
        s.create,
        s.update,
        s.no_op,
        s.workspaces_to_migrate,
        count(Severity::Risk),
        count(Severity::Warning),
        count(Severity::Info),
    )
}
