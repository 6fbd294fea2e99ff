//! The dry-run report as Markdown: the summary and the decisions first
//! (verdicts, organizations, shared templates, deprecation messages,
//! risks), then the long lists (migrations, members), then the picture as
//! DOT. Every name from the deployment is escaped; messages and commands
//! are shown exactly, in code.

use std::fmt::Write;

use super::graph;
use super::report_words::{agreement_text, placement, shared_word, summary_rows};
use crate::plan::{Finding, Severity};
use crate::report::picture::{count, thousands};
use crate::report::{Agreement, Report, SplitOrigin};

/// Affected objects listed per finding before "and N more".
const AFFECTS_SHOWN: usize = 20;

/// Text from the deployment, safe in Markdown prose and table cells.
pub fn md(s: &str) -> String {
    super::escape_markdown(s).replace('&', "\\&")
}

/// Text whose `backticked` parts are names (the planner's and scorer's
/// messages): those become code spans, the rest is escaped. Unpaired
/// backticks leave the whole escaped.
pub fn md_ticks(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return md(s);
    }
    parts.iter().enumerate().map(|(i, p)| if i % 2 == 1 { code(p) } else { md(p) }).collect()
}

/// `text` as a code span, exactly (a fence longer than any backtick run inside).
pub fn code(s: &str) -> String {
    let s = super::plain(s);
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn longest_run(s: &str, c: char) -> usize {
    s.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

/// A pipe table of cells that are already escaped.
fn table(out: &mut String, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    header(&mut out, r);
    summary(&mut out, r);
    picture(&mut out, r);
    candidates(&mut out, r);
    organizations(&mut out, r);
    shared(&mut out, r);
    deprecations(&mut out, r);
    findings(&mut out, r);
    migrations(&mut out, r);
    members(&mut out, r);
    let _ =
        writeln!(out, "## The picture as DOT\n\nRender it with Graphviz (`dot -Tsvg`); `-o html` draws it without.\n");
    let dot = graph::dot(&r.picture);
    let fence = "`".repeat(longest_run(&dot, '`').max(2) + 1);
    let _ = writeln!(out, "{fence}dot\n{dot}{fence}");
    // Every name is escaped where it goes in; this is the backstop that no
    // control character from the deployment reaches a terminal.
    super::plain_text(&out).into_owned()
}

fn header(out: &mut String, r: &Report) {
    let d = &r.deployment;
    out.push_str("# Dry-run org split report\n\n");
    out.push_str("Nothing has been changed: this report only says what the split would do.\n\n");
    let url = if d.url.is_empty() { "(URL unknown)".to_string() } else { code(&d.url) };
    let version = if d.version.is_empty() { String::new() } else { format!(", Coder {}", code(&d.version)) };
    let _ = writeln!(out, "- **Deployment:** {url}{version}");
    let taken = d.taken_at.as_deref().map_or(String::new(), |t| format!(", taken {}", code(t)));
    let _ = writeln!(
        out,
        "- **Snapshot:** {} {}{taken}; fingerprint {}",
        md(&d.source_kind),
        code(&d.source_location),
        code(&d.fingerprint)
    );
    let s = &r.split;
    let what = match s.origin {
        SplitOrigin::File => format!("the split file {}", code(&s.file)),
        // Our own words, with their own code span.
        SplitOrigin::Recommended => s.file.clone(),
    };
    let _ = writeln!(out, "- **Split:** {what} ({})", code(&s.sha256));
    let _ = writeln!(
        out,
        "- **Migration:** wiki {}, deadline {}, shared templates {}\n",
        if s.wiki.is_empty() { "not set".into() } else { code(&s.wiki) },
        if s.deadline.is_empty() { "not set".into() } else { code(&s.deadline) },
        code(&shared_word(s.shared_templates)),
    );
    if s.origin == SplitOrigin::Recommended {
        let _ = writeln!(
            out,
            "> **Draft.** This report plans the split scoring recommends: one organization per candidate whose \
             verdict is an organization.{} Write it with `orgsplit score --emit-split split.toml`, review it, \
             fill in what is missing, and run `orgsplit report --split split.toml`.\n",
            if s.to_fill_in.is_empty() {
                String::new()
            } else {
                format!(
                    " **To be filled in:** {}; the deprecation messages below show where.",
                    s.to_fill_in.join(" and ")
                )
            }
        );
    }
}

fn summary(out: &mut String, r: &Report) {
    out.push_str("## Summary\n\n");
    table(out, &["", ""], summary_rows(r).into_iter().map(|(k, v)| vec![k.to_string(), v]));
}

fn picture(out: &mut String, r: &Report) {
    out.push_str("## The split at a glance\n\n");
    out.push_str("Edges that cross organizations (the HTML report draws them; the DOT is at the end):\n\n");
    for e in &r.picture.edges {
        let _ = writeln!(
            out,
            "- {} → {}: {}",
            md(&r.picture.describe(&e.from)),
            md(&r.picture.describe(&e.to)),
            md(&e.label)
        );
    }
    if r.picture.edges.is_empty() {
        out.push_str("- none\n");
    }
    for o in &r.picture.omitted {
        let _ = writeln!(out, "\n_{}_", md(o));
    }
    out.push('\n');
}

fn candidates(out: &mut String, r: &Report) {
    out.push_str("## Candidates and verdicts\n\n");
    let rows = r.candidates.iter().map(|c| {
        let case = c.case.as_ref().map_or("none".to_string(), |t| {
            let t = if c.case_applies { md(t) } else { format!("none (closest: {})", md(t)) };
            format!("{t} ({}/{})", c.met, c.total)
        });
        let placed = md(&placement(c));
        vec![
            md(&c.name),
            thousands(c.members),
            md(&c.recommendation_title),
            case,
            format!("{placed}: {}", agreement_text(c.agreement).replace("**", "")),
        ]
    });
    table(out, &["candidate", "members", "recommendation", "case of the page", "in this split"], rows);
    out.push_str("Why:\n\n");
    for c in &r.candidates {
        let mut why = format!("- **{}**: {}", md(&c.name), md(&c.recommendation_title));
        if !c.reasons.is_empty() {
            let _ = write!(why, "; because: {}", md(&c.reasons.join("; ")));
        }
        if !c.missing.is_empty() {
            let _ = write!(why, "; not met: {}", md(&c.missing.join("; ")));
        }
        if !c.warnings.is_empty() {
            let _ = write!(why, "; warnings: {}", md(&c.warnings.join("; ")));
        }
        for n in &c.notes {
            let _ = write!(why, "; note: {}", md_ticks(n));
        }
        if c.agreement != Agreement::AsRecommended {
            let _ = write!(why, "; {}", agreement_text(c.agreement));
        }
        let _ = writeln!(out, "{why}");
    }
    out.push_str("\n`orgsplit score` shows every fact behind these verdicts, with its evidence.\n\n");
}

fn organizations(out: &mut String, r: &Report) {
    out.push_str("## Organizations of the split\n\n");
    for o in &r.organizations {
        let _ = writeln!(out, "### {} ({})\n", md(&o.name), if o.exists { "exists" } else { "new" });
        if o.display_name != o.name || !o.description.is_empty() {
            let _ = writeln!(
                out,
                "{}{}\n",
                md(&o.display_name),
                if o.description.is_empty() { String::new() } else { format!(": {}", md(&o.description)) }
            );
        }
        let _ = writeln!(
            out,
            "- **Members:** {} ({} added through the API, {} placed by IdP sync at their next login)",
            thousands(o.members),
            thousands(o.members_by_api),
            thousands(o.members_by_idp_sync)
        );
        if !o.candidates.is_empty() {
            let _ = writeln!(out, "- **Candidates:** {}", md(&o.candidates.join(", ")));
        }
        for (role, users) in &o.roles {
            let _ = writeln!(out, "- **{}:** {}", md(role), md(&users.join(", ")));
        }
        if let Some(k) = &o.provisioner_key {
            let tags: Vec<String> = k.tags.iter().map(|(a, b)| format!("{a}={b}")).collect();
            let _ = writeln!(
                out,
                "- **Provisioner key:** {}{}; create it with {}, then start a provisioner where the team's \
                 infrastructure is with {}",
                code(&k.name),
                if tags.is_empty() { String::new() } else { format!(" (tags {})", code(&tags.join(" "))) },
                code(&k.create_command),
                code(&k.start_command)
            );
        } else {
            out.push_str("- **Provisioner key:** none (the split opts out)\n");
        }
        if !o.custom_roles.is_empty() {
            let _ = writeln!(out, "- **Custom roles:** {}", md(&o.custom_roles.join(", ")));
        }
        if !o.workspace_proxies.is_empty() {
            let _ = writeln!(out, "- **Workspace proxies its users need:** {}", md(&o.workspace_proxies.join(", ")));
        }
        let _ = writeln!(
            out,
            "- **To migrate:** {} of {}\n",
            count(o.workspaces_to_migrate, "workspace"),
            count(o.users_to_migrate, "user")
        );
        let groups = o
            .groups
            .iter()
            .map(|g| vec![md(&g.name), thousands(g.members), g.copied_from.as_deref().map_or("(new)".into(), md)]);
        if !o.groups.is_empty() {
            table(out, &["group", "members", "copied from"], groups);
        }
        let templates = o.templates.iter().map(|t| {
            let tags: Vec<String> = t.provisioner_tags.iter().map(|(a, b)| format!("{a}={b}")).collect();
            vec![
                md(&t.name),
                md(&t.recreated_from),
                md(&t.action),
                md(&tags.join(" ")),
                thousands(t.workspaces_to_migrate),
            ]
        });
        if !o.templates.is_empty() {
            table(
                out,
                &["template", "re-created from", "step", "provisioner tags", "workspaces to migrate"],
                templates,
            );
        }
    }
}

fn shared(out: &mut String, r: &Report) {
    out.push_str("## Shared templates\n\n");
    if r.shared_templates.is_empty() {
        out.push_str("No template that is re-created has users going to different places.\n\n");
        return;
    }
    let rows = r.shared_templates.iter().map(|t| {
        let dest: Vec<String> = t
            .destinations
            .iter()
            .map(|d| format!("{} {}", d.org.as_deref().map_or("in no org of the split".into(), md), thousands(d.users)))
            .collect();
        vec![
            md(&format!("{}/{}", t.org, t.template)),
            md(&t.copies.join(", ")),
            if t.deprecated { "yes".into() } else { "**no**".into() },
            thousands(t.users),
            dest.join(", "),
        ]
    });
    table(out, &["template", "re-created in", "deprecated", "users", "where its users go"], rows);
    for t in &r.shared_templates {
        for f in &t.findings {
            let _ = writeln!(out, "- {}", md_ticks(f));
        }
    }
    out.push('\n');
}

fn deprecations(out: &mut String, r: &Report) {
    out.push_str("## Templates to deprecate\n\n");
    if r.deprecations.is_empty() {
        out.push_str("None.\n\n");
    }
    for d in &r.deprecations {
        let _ = writeln!(out, "### {}/{}\n", md(&d.org), md(&d.template));
        let _ = writeln!(
            out,
            "Users go to {}; {} to migrate. The message set on the template, exactly:\n",
            md(&d.replacements.join(", ")),
            count(d.workspaces_to_migrate, "workspace")
        );
        // Plain text shown as it is: a fence longer than any backtick run in
        // it keeps it literal, and control characters never reach a terminal.
        let message = super::plain_text(&d.message);
        let fence = "`".repeat(longest_run(&message, '`').max(2) + 1);
        let _ = writeln!(out, "{fence}text\n{message}\n{fence}\n");
    }
}

fn findings(out: &mut String, r: &Report) {
    out.push_str("## Risks found while planning\n\n");
    for (sev, title) in [(Severity::Risk, "Risks"), (Severity::Warning, "Warnings"), (Severity::Info, "Notes")] {
        let list: Vec<&Finding> = r.findings_of(sev).collect();
        let _ = writeln!(out, "### {title} ({})\n", list.len());
        if list.is_empty() {
            out.push_str("None.\n\n");
        }
        for f in list {
            let _ = write!(out, "- **{}** {}", md(&f.code), md_ticks(&f.message));
            if let Some(h) = &f.help {
                let _ = write!(out, " _What to do:_ {}", md_ticks(h));
            }
            let names: Vec<String> =
                f.affects.iter().take(AFFECTS_SHOWN).map(|a| format!("{} {}", a.kind, md(&a.name))).collect();
            if !names.is_empty() {
                let more = f.affects.len().saturating_sub(AFFECTS_SHOWN);
                let more = if more > 0 { format!(" and {more} more (all in `-o json`)") } else { String::new() };
                let _ = write!(out, " _Affects:_ {}{more}", names.join(", "));
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

fn migrations(out: &mut String, r: &Report) {
    out.push_str("## Users and workspaces to migrate\n\n");
    if r.migrations.is_empty() {
        out.push_str("None.\n\n");
    }
    for m in &r.migrations {
        let n: usize = m.users.iter().map(|u| u.workspaces.len()).sum();
        let _ = writeln!(out, "### {} ({}, {})\n", md(&m.org), count(m.users.len(), "user"), count(n, "workspace"));
        let rows = m.users.iter().flat_map(|u| {
            u.workspaces.iter().map(move |w| {
                vec![
                    md(&u.username),
                    md(&u.status),
                    md(&w.old_workspace),
                    md(&w.old_template),
                    md(&w.new_workspace),
                    md(&w.new_template),
                    md(w.name_note.as_deref().unwrap_or(if w.state == "pending" {
                        ""
                    } else {
                        "the new workspace exists"
                    })),
                ]
            })
        });
        table(out, &["user", "status", "workspace", "template", "new workspace", "new template", "note"], rows);
    }
}

fn members(out: &mut String, r: &Report) {
    out.push_str("## Members of each organization\n\n");
    for o in &r.organizations {
        let names: Vec<String> = o.member_usernames.iter().map(|u| md(u)).collect();
        let _ = writeln!(out, "- **{}** ({}): {}", md(&o.name), thousands(names.len()), names.join(", "));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks_and_names_cannot_inject() {
        assert_eq!(code("coder provisioner start"), "`coder provisioner start`");
        assert_eq!(code("a `b` c"), "``a `b` c``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(md("<img src=x> & [a](b) *c*"), "\\<img src=x\\> \\& \\[a\\](b) \\*c\\*");
        assert_eq!(md_ticks("`a<b` goes to `x`"), "`a<b` goes to `x`");
        assert_eq!(md_ticks("odd ` tick <"), "odd \\` tick \\<");
    }

    #[test]
    fn tables_are_pipe_tables() {
        let mut out = String::new();
        table(&mut out, &["a", "b"], vec![vec!["1".into(), md("x|y")]]);
        assert_eq!(out, "| a | b |\n|---|---|\n| 1 | x\\|y |\n\n");
    }
}
