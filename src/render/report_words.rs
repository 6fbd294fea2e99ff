//! Words both report renderers use: the summary's rows, where the split
//! puts a candidate, and whether that follows the verdict. Unescaped: each
//! renderer escapes for its format.

use crate::report::picture::{count, thousands};
use crate::report::{Agreement, Report, Verdict};

pub fn shared_word(s: crate::split::SharedTemplates) -> String {
    match s {
        crate::split::SharedTemplates::Duplicate => "duplicate".into(),
        crate::split::SharedTemplates::KeepInDefault => "keep-in-default".into(),
    }
}

/// The summary as (label, value) rows, shared with the HTML report.
pub fn summary_rows(r: &Report) -> Vec<(&'static str, String)> {
    let s = &r.summary;
    vec![
        ("Candidates scored", thousands(s.candidates)),
        ("Recommended as organizations", thousands(s.recommended_organizations)),
        (
            "Organizations in the split",
            format!("{} ({} new)", thousands(s.organizations), thousands(s.new_organizations)),
        ),
        ("Members of those organizations", thousands(s.members_placed)),
        ("Templates re-created", thousands(s.templates_recreated)),
        ("Templates deprecated", thousands(s.templates_deprecated)),
        ("Shared templates", thousands(s.shared_templates)),
        ("Users with workspaces to migrate", thousands(s.users_to_migrate)),
        ("Workspaces to migrate", thousands(s.workspaces_to_migrate)),
        (
            "Plan steps",
            format!(
                "{} to create, {} to update, {} unchanged, 0 to delete",
                thousands(s.steps_create),
                thousands(s.steps_update),
                thousands(s.steps_unchanged)
            ),
        ),
        (
            "Findings",
            format!("{}, {}, {}", count(s.risks, "risk"), count(s.warnings, "warning"), count(s.notes, "note")),
        ),
    ]
}

/// Where the split puts a candidate: "raptix (180)", "stays (5 in payments)", "stays".
pub fn placement(c: &Verdict) -> String {
    match c.placed_in.first() {
        Some(p) if p.members * 2 > c.members => format!("{} ({})", p.org, thousands(p.members)),
        Some(p) => format!("stays ({} in {})", thousands(p.members), p.org),
        None => "stays".into(),
    }
}

pub fn agreement_text(a: Agreement) -> &'static str {
    match a {
        Agreement::AsRecommended => "as recommended",
        Agreement::NotInSplit => "**recommended, but not in this split**",
        Agreement::OrgNotRecommended => "**gets an org against the verdict**",
    }
}
