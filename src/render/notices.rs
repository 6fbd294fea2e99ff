//! Deprecation notices: per deprecated template (the exact message set on
//! it, and a longer notice for its users) and per affected user (their
//! workspaces, the new names, their script), in Markdown and plain text,
//! plus a CSV mailing list for mail merge. Deployment text is escaped for
//! Markdown and stripped of control characters in plain text.

use std::collections::BTreeMap;

use super::file_names::unique_stems;
use super::scripts::{UserMoves, script_name};
use super::{escape_markdown as md, plain};
use crate::error::Result;
use crate::plan::{DeprecationSpec, Plan, StepSpec};

/// A file to write: path relative to the notices folder, and its text.
pub type NoticeFile = (String, String);

/// Every notice file, sorted by path.
pub fn notices(plan: &Plan, users: &[UserMoves]) -> Result<Vec<NoticeFile>> {
    let mut files = Vec::new();
    let deprecations = deprecations(plan);
    let stems =
        unique_stems(&deprecations.iter().map(|(org, d)| format!("{org}--{}", d.template_name)).collect::<Vec<_>>());
    for ((org, d), stem) in deprecations.into_iter().zip(stems) {
        let stem = format!("templates/{stem}");
        let affected = plan.workspace_migrations.iter().filter(|m| m.old.template_id == d.template_id).count();
        files.push((format!("{stem}.message.txt"), format!("{}\n", d.message)));
        files.push((format!("{stem}.md"), template_notice(plan, org, d, affected, true)));
        files.push((format!("{stem}.txt"), template_notice(plan, org, d, affected, false)));
    }
    let mut list = super::sheet::Sheet::new();
    list.row(["email", "name", "username", "subject", "body_file", "markdown_file"])?;
    let names: BTreeMap<&str, &str> =
        plan.workspace_migrations.iter().map(|m| (m.owner.username.as_str(), m.owner.name.as_str())).collect();
    for u in users {
        let name = names.get(u.owner.as_str()).copied().unwrap_or_default();
        let stem = format!("users/{}", u.file);
        files.push((format!("{stem}.md"), user_notice(plan, u, name, true)));
        files.push((format!("{stem}.txt"), user_notice(plan, u, name, false)));
        list.row([
            plain(&u.email).as_str(),
            plain(name).as_str(),
            plain(&u.owner).as_str(),
            &subject(plan, u),
            &format!("{stem}.txt"),
            &format!("{stem}.md"),
        ])?;
    }
    files.push(("mailing-list.csv".into(), list.finish()?));
    files.sort();
    Ok(files)
}

/// The deprecation steps, with the org the old template lives in.
fn deprecations(plan: &Plan) -> Vec<(&str, &DeprecationSpec)> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.spec {
            StepSpec::Deprecation(d) => Some((s.org.as_deref().unwrap_or_default(), d)),
            _ => None,
        })
        .collect()
}

fn subject(plan: &Plan, u: &UserMoves) -> String {
    let mut orgs: Vec<&str> = u.items.iter().map(|m| m.new_org.as_str()).collect();
    orgs.sort();
    orgs.dedup();
    let when = if plan.migration.deadline.is_empty() {
        String::new()
    } else {
        format!(" by {}", plain(&plan.migration.deadline))
    };
    format!("Action needed{when}: your Coder workspaces move to {}", plain(&orgs.join(", ")))
}

/// Text for a format: escaped Markdown or plain text.
fn t(s: &str, markdown: bool) -> String {
    if markdown { md(s) } else { plain(s) }
}

fn code(s: &str, markdown: bool) -> String {
    if markdown { format!("`{}`", s.replace('`', "'")) } else { plain(s) }
}

fn template_notice(plan: &Plan, org: &str, d: &DeprecationSpec, affected: usize, markdown: bool) -> String {
    let h = |level: usize, s: String| {
        if markdown {
            format!("{} {s}\n\n", "#".repeat(level))
        } else {
            format!("{s}\n{}\n\n", "=".repeat(s.chars().count().min(72)))
        }
    };
    let title = if d.template_display_name.is_empty() { &d.template_name } else { &d.template_display_name };
    let mut out = h(1, format!("The template {} is deprecated", t(title, markdown)));
    out.push_str(&format!(
        "The template {} in the {} organization no longer accepts new workspaces. Workspaces already \
         made from it keep working until their owners have moved.\n\n",
        code(&d.template_name, markdown),
        t(org, markdown)
    ));
    out.push_str(&h(2, "The message shown on the template".into()));
    if markdown {
        // The message is plain text (as Coder shows it): escaped here, for Markdown.
        for line in d.message.lines() {
            out.push_str(&format!("> {}\n", md(line)));
        }
        out.push('\n');
    } else {
        out.push_str(&format!("{}\n\n", plain_lines(&d.message)));
    }
    out.push_str(&h(2, "Where it went".into()));
    for r in &d.replacements {
        let org_name = if r.org_display_name.is_empty() { &r.org } else { &r.org_display_name };
        out.push_str(&format!(
            "- the {} organization ({}), as the template {}\n",
            t(org_name, markdown),
            code(&r.org, markdown),
            code(&r.template, markdown)
        ));
    }
    if d.replacements.is_empty() {
        out.push_str("- it was not re-created: ask your platform team which template to use instead.\n");
    }
    out.push('\n');
    out.push_str(&h(2, what_to_do_title(plan, markdown)));
    out.push_str(&steps_to_move(plan, markdown, None));
    out.push_str(&format!("\n{affected} workspace(s) made from this template are moving.\n"));
    out
}

fn what_to_do_title(plan: &Plan, markdown: bool) -> String {
    if plan.migration.deadline.is_empty() {
        "What to do".into()
    } else {
        format!("What to do before {}", t(&plan.migration.deadline, markdown))
    }
}

/// The numbered steps every notice ends with.
fn steps_to_move(plan: &Plan, markdown: bool, script: Option<&str>) -> String {
    let run = match script {
        Some(s) => format!(
            "Run your migration script, first as a rehearsal, then for real: {} then {}. It creates your new \
             workspace, copies your home folder (without caches) and checks with checksums that every file \
             arrived. It never deletes anything, and it is safe to run again.",
            // `./` on a safe file name: bash reads the script as a file, never an option.
            code(&format!("bash ./{s} --dry-run"), markdown),
            code(&format!("bash ./{s}"), markdown)
        ),
        None => "Run the migration script you received from your platform team (or create the new workspace \
                 in the new organization and copy your files with rsync)."
            .into(),
    };
    let mut out = format!("1. {run}\n2. Open the new workspace and check your files and tools.\n");
    out.push_str("3. Only then stop using the old workspace; delete it yourself when you are sure.\n");
    if !plan.migration.wiki.is_empty() {
        out.push_str(&format!("\nThe migration guide: {}\n", t(&plan.migration.wiki, markdown)));
    }
    out
}

fn plain_lines(s: &str) -> String {
    s.lines().map(plain).collect::<Vec<_>>().join("\n")
}

fn user_notice(plan: &Plan, u: &UserMoves, name: &str, markdown: bool) -> String {
    let mut out = String::new();
    let hello = if name.is_empty() { t(&u.owner, markdown) } else { t(name, markdown) };
    if markdown {
        out.push_str("# Your Coder workspaces are moving to a new organization\n\n");
    } else {
        out.push_str("Your Coder workspaces are moving to a new organization\n\n");
    }
    out.push_str(&format!(
        "Hello {hello},\n\nYour team is getting its own organization on {}. Templates and workspaces cannot \
         move between organizations, so each of your workspaces below gets a new one in the new organization, \
         and your files need to be copied across.\n\n",
        t(&plan.deployment.url, markdown)
    ));
    if markdown {
        out.push_str("| your workspace | its template | new organization | new template | new workspace |\n");
        out.push_str("|---|---|---|---|---|\n");
        for m in &u.items {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                md(&m.old_workspace),
                md(&m.old_template),
                md(&m.new_org),
                md(&m.new_template),
                md(&m.new_workspace)
            ));
        }
    } else {
        for m in &u.items {
            out.push_str(&format!(
                "- {} (template {}) -> {} in organization {} (template {})\n",
                plain(&m.old_workspace),
                plain(&m.old_template),
                plain(&m.new_workspace),
                plain(&m.new_org),
                plain(&m.new_template)
            ));
        }
    }
    out.push('\n');
    out.push_str(&if markdown {
        format!("## {}\n\n", what_to_do_title(plan, true))
    } else {
        format!("{}:\n\n", what_to_do_title(plan, false))
    });
    out.push_str(&steps_to_move(plan, markdown, Some(&script_name(u))));
    out
}
