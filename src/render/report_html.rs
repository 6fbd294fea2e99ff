//! The dry-run report as one self-contained HTML page: inline CSS, the
//! picture as inline SVG, no script and no request to anywhere (links to
//! the wiki and Coder's docs are only followed when clicked). Every name
//! from the deployment is escaped; long lists fold into `<details>`. The
//! page is also well-formed XML, which the tests use to read it back.

use std::fmt::Write;

use super::escape_html as esc;
use super::graph;
use super::report_words::{agreement_text, placement, shared_word, summary_rows};
use crate::plan::Severity;
use crate::report::picture::{count, thousands};
use crate::report::{Agreement, Report, SplitOrigin};

/// Lists longer than this start folded.
const OPEN_UP_TO: usize = 25;

const CSS: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #111827; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
h3 { margin: 22px 0 6px; }
table { border-collapse: collapse; margin: 8px 0 14px; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f9fafb; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
code { background: #f3f4f6; padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
pre { background: #f3f4f6; padding: 10px; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.draft { background: #fef3c7; border: 1px solid #f59e0b; padding: 10px 14px; border-radius: 6px; }
.meta { color: #4b5563; } .muted { color: #6b7280; }
.picture { overflow: auto; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px; }
.picture svg { max-width: 100%; height: auto; }
.risk { color: #b91c1c; font-weight: 600; } .warning { color: #b45309; font-weight: 600; } .info { color: #1d4ed8; }
.off { color: #b91c1c; font-weight: 600; }
mark { background: #fde68a; }
nav a { margin-right: 12px; }
";

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let title =
        if r.deployment.url.is_empty() { r.deployment.source_location.clone() } else { r.deployment.url.clone() };
    let _ = writeln!(out, "<title>Dry-run org split report: {}</title>", esc(&title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>\n<main>");
    header(&mut out, r);
    section(&mut out, "summary", "Summary");
    out.push_str("<table>");
    for (k, v) in summary_rows(r) {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    out.push_str("</table>\n</section>\n");
    picture(&mut out, r);
    candidates(&mut out, r);
    organizations(&mut out, r);
    shared(&mut out, r);
    deprecations(&mut out, r);
    findings(&mut out, r);
    migrations(&mut out, r);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn section(out: &mut String, id: &str, title: &str) {
    let _ = writeln!(out, "<section id=\"{id}\">\n<h2>{}</h2>", esc(title));
}

/// Escaped text whose `backticked` parts (names, in the planner's and
/// scorer's messages) become `<code>`; unpaired backticks stay as they are.
fn ticks(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return esc(s);
    }
    parts.iter().enumerate().map(|(i, p)| if i % 2 == 1 { code(p) } else { esc(p) }).collect()
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", esc(s))
}

/// A list that folds when long.
fn details(out: &mut String, summary: &str, n: usize, body: &str) {
    let open = if n <= OPEN_UP_TO { " open=\"open\"" } else { "" };
    let _ = writeln!(out, "<details{open}><summary>{}</summary>\n{body}</details>", esc(summary));
}

fn header(out: &mut String, r: &Report) {
    let d = &r.deployment;
    out.push_str("<h1>Dry-run org split report</h1>\n");
    out.push_str("<p class=\"meta\">Nothing has been changed: this report only says what the split would do.</p>\n<ul class=\"meta\">");
    let url = if d.url.is_empty() { "(URL unknown)".into() } else { code(&d.url) };
    let version = if d.version.is_empty() { String::new() } else { format!(", Coder {}", code(&d.version)) };
    let _ = write!(out, "<li><b>Deployment:</b> {url}{version}</li>");
    let taken = d.taken_at.as_deref().map_or(String::new(), |t| format!(", taken {}", code(t)));
    let _ = write!(
        out,
        "<li><b>Snapshot:</b> {} {}{taken}; fingerprint {}</li>",
        esc(&d.source_kind),
        code(&d.source_location),
        code(&d.fingerprint)
    );
    let s = &r.split;
    let what = match s.origin {
        SplitOrigin::File => format!("the split file {}", code(&s.file)),
        SplitOrigin::Recommended => esc(&s.file).replace("`orgsplit score`", "<code>orgsplit score</code>"),
    };
    let _ = write!(out, "<li><b>Split:</b> {what} ({})</li>", code(&s.sha256));
    let unset = |v: &str| if v.is_empty() { "<span class=\"off\">not set</span>".to_string() } else { code(v) };
    let _ = writeln!(
        out,
        "<li><b>Migration:</b> wiki {}, deadline {}, shared templates {}</li></ul>",
        unset(&s.wiki),
        unset(&s.deadline),
        code(&shared_word(s.shared_templates))
    );
    if s.origin == SplitOrigin::Recommended {
        let fill = if s.to_fill_in.is_empty() {
            String::new()
        } else {
            format!(
                " <b>To be filled in:</b> {}; the deprecation messages below show where, <mark>marked</mark>.",
                esc(&s.to_fill_in.join(" and "))
            )
        };
        let _ = writeln!(
            out,
            "<p class=\"draft\"><b>Draft.</b> This report plans the split scoring recommends: one organization per \
             candidate whose verdict is an organization.{fill} Write it with <code>orgsplit score --emit-split \
             split.toml</code>, review it, fill in what is missing, and run <code>orgsplit report --split \
             split.toml</code>.</p>"
        );
    }
    out.push_str(
        "<nav><a href=\"#summary\">Summary</a><a href=\"#picture\">Picture</a><a href=\"#candidates\">Verdicts</a>\
         <a href=\"#organizations\">Organizations</a><a href=\"#shared\">Shared templates</a>\
         <a href=\"#deprecations\">Deprecations</a><a href=\"#findings\">Risks</a><a href=\"#migrations\">Migrations</a></nav>\n",
    );
}

fn picture(out: &mut String, r: &Report) {
    section(out, "picture", "The split at a glance");
    out.push_str("<div class=\"picture\">\n");
    out.push_str(&graph::svg(&r.picture));
    out.push_str("</div>\n");
    for o in &r.picture.omitted {
        let _ = writeln!(out, "<p class=\"muted\">{}</p>", esc(o));
    }
    let dot = graph::dot(&r.picture);
    details(out, "The picture as DOT (for Graphviz)", usize::MAX, &format!("<pre>{}</pre>\n", esc(&dot)));
    out.push_str("</section>\n");
}

fn candidates(out: &mut String, r: &Report) {
    section(out, "candidates", "Candidates and verdicts");
    out.push_str("<table><tr><th>candidate</th><th>members</th><th>recommendation</th><th>case of the page</th><th>why</th><th>in this split</th></tr>\n");
    for c in &r.candidates {
        let case = c.case.as_ref().map_or("none".to_string(), |t| {
            let t = if c.case_applies { esc(t) } else { format!("none (closest: {})", esc(t)) };
            format!("{t} ({}/{})", c.met, c.total)
        });
        let mut why = String::new();
        for reason in &c.reasons {
            let _ = write!(why, "✔ {}<br/>", esc(reason));
        }
        for m in &c.missing {
            let _ = write!(why, "✘ {}<br/>", esc(m));
        }
        for w in &c.warnings {
            let _ = write!(why, "<span class=\"warning\">warning:</span> {}<br/>", esc(w));
        }
        for n in &c.notes {
            let _ = write!(why, "<span class=\"muted\">note: {}</span><br/>", ticks(n));
        }
        let placed = esc(&placement(c));
        let class = if c.agreement == Agreement::AsRecommended { "" } else { " class=\"off\"" };
        let _ = writeln!(
            out,
            "<tr><td>{}<br/><span class=\"muted\">{}</span></td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{why}</td><td>{placed}<br/><span{class}>{}</span></td></tr>",
            code(&c.name),
            ticks(&c.source),
            thousands(c.members),
            esc(&c.recommendation_title),
            case,
            esc(&agreement_text(c.agreement).replace("**", ""))
        );
    }
    out.push_str("</table>\n<p class=\"muted\"><code>orgsplit score</code> shows every fact behind these verdicts, with its evidence.</p>\n</section>\n");
}

fn organizations(out: &mut String, r: &Report) {
    section(out, "organizations", "Organizations of the split");
    for o in &r.organizations {
        let _ = writeln!(
            out,
            "<h3>{} <span class=\"muted\">({})</span></h3>",
            code(&o.name),
            if o.exists { "exists" } else { "new" }
        );
        let _ = writeln!(
            out,
            "<p>{}{}</p><ul>",
            esc(&o.display_name),
            if o.description.is_empty() { String::new() } else { format!(": {}", esc(&o.description)) }
        );
        let _ = write!(
            out,
            "<li><b>Members:</b> {} ({} added through the API, {} placed by IdP sync at their next login)</li>",
            thousands(o.members),
            thousands(o.members_by_api),
            thousands(o.members_by_idp_sync)
        );
        if !o.candidates.is_empty() {
            let _ = write!(out, "<li><b>Candidates:</b> {}</li>", esc(&o.candidates.join(", ")));
        }
        for (role, users) in &o.roles {
            let _ = write!(out, "<li><b>{}:</b> {}</li>", esc(role), esc(&users.join(", ")));
        }
        match &o.provisioner_key {
            Some(k) => {
                let tags: Vec<String> = k.tags.iter().map(|(a, b)| format!("{a}={b}")).collect();
                let _ = write!(
                    out,
                    "<li><b>Provisioner key:</b> {}{}; create it with {}, then start a provisioner where the team's infrastructure is with {}</li>",
                    code(&k.name),
                    if tags.is_empty() { String::new() } else { format!(" (tags {})", code(&tags.join(" "))) },
                    code(&k.create_command),
                    code(&k.start_command)
                );
            }
            None => out.push_str("<li><b>Provisioner key:</b> none (the split opts out)</li>"),
        }
        if !o.custom_roles.is_empty() {
            let _ = write!(out, "<li><b>Custom roles:</b> {}</li>", esc(&o.custom_roles.join(", ")));
        }
        if !o.workspace_proxies.is_empty() {
            let _ = write!(
                out,
                "<li><b>Workspace proxies its users need:</b> {}</li>",
                esc(&o.workspace_proxies.join(", "))
            );
        }
        let _ = writeln!(
            out,
            "<li><b>To migrate:</b> {} of {}</li></ul>",
            count(o.workspaces_to_migrate, "workspace"),
            count(o.users_to_migrate, "user")
        );
        if !o.groups.is_empty() {
            out.push_str("<table><tr><th>group</th><th>members</th><th>copied from</th></tr>");
            for g in &o.groups {
                let from = g.copied_from.as_deref().map_or("(new)".into(), code);
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td>{from}</td></tr>",
                    code(&g.name),
                    thousands(g.members)
                );
            }
            out.push_str("</table>\n");
        }
        if !o.templates.is_empty() {
            out.push_str("<table><tr><th>template</th><th>re-created from</th><th>step</th><th>provisioner tags</th><th>workspaces to migrate</th></tr>");
            for t in &o.templates {
                let tags: Vec<String> = t.provisioner_tags.iter().map(|(a, b)| format!("{a}={b}")).collect();
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                    code(&t.name),
                    code(&t.recreated_from),
                    esc(&t.action),
                    esc(&tags.join(" ")),
                    thousands(t.workspaces_to_migrate)
                );
            }
            out.push_str("</table>\n");
        }
        let names: Vec<String> = o.member_usernames.iter().map(|u| esc(u)).collect();
        details(
            out,
            &format!("{} members", thousands(names.len())),
            names.len(),
            &format!("<p>{}</p>\n", names.join(", ")),
        );
    }
    out.push_str("</section>\n");
}

fn shared(out: &mut String, r: &Report) {
    section(out, "shared", "Shared templates");
    if r.shared_templates.is_empty() {
        out.push_str("<p>No template that is re-created has users going to different places.</p>\n</section>\n");
        return;
    }
    out.push_str("<table><tr><th>template</th><th>re-created in</th><th>deprecated</th><th>users</th><th>where its users go</th><th>what the plan says</th></tr>\n");
    for t in &r.shared_templates {
        let dest: Vec<String> = t
            .destinations
            .iter()
            .map(|d| {
                format!("{} {}", d.org.as_deref().map_or("in no org of the split".into(), code), thousands(d.users))
            })
            .collect();
        let said: Vec<String> = t.findings.iter().map(|f| ticks(f)).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            code(&format!("{}/{}", t.org, t.template)),
            esc(&t.copies.join(", ")),
            if t.deprecated { "yes" } else { "<span class=\"off\">no</span>" },
            thousands(t.users),
            dest.join("<br/>"),
            said.join("<br/>")
        );
    }
    out.push_str("</table>\n</section>\n");
}

fn deprecations(out: &mut String, r: &Report) {
    section(out, "deprecations", "Templates to deprecate");
    if r.deprecations.is_empty() {
        out.push_str("<p>None.</p>\n");
    }
    for d in &r.deprecations {
        let _ = writeln!(
            out,
            "<h3>{}</h3>\n<p>Users go to {}; {} to migrate. The message set on the template, exactly:</p>",
            code(&format!("{}/{}", d.org, d.template)),
            esc(&d.replacements.join(", ")),
            count(d.workspaces_to_migrate, "workspace")
        );
        let mut message = esc(&d.message);
        for marker in [crate::report::WIKI_TO_FILL_IN, crate::report::DEADLINE_TO_FILL_IN] {
            let m = esc(marker);
            message = message.replace(&m, &format!("<mark>{m}</mark>"));
        }
        let _ = writeln!(out, "<pre>{message}</pre>");
    }
    out.push_str("</section>\n");
}

fn findings(out: &mut String, r: &Report) {
    section(out, "findings", "Risks found while planning");
    for (sev, title, class) in [
        (Severity::Risk, "Risks", "risk"),
        (Severity::Warning, "Warnings", "warning"),
        (Severity::Info, "Notes", "info"),
    ] {
        let list: Vec<_> = r.findings_of(sev).collect();
        let _ = writeln!(out, "<h3>{title} ({})</h3>", list.len());
        if list.is_empty() {
            out.push_str("<p>None.</p>\n");
            continue;
        }
        out.push_str("<ul>\n");
        for f in list {
            let _ = write!(out, "<li><span class=\"{class}\">{}</span> {}", code(&f.code), ticks(&f.message));
            if let Some(h) = &f.help {
                let _ = write!(out, "<br/><i>What to do:</i> {}", ticks(h));
            }
            if !f.affects.is_empty() {
                let names: Vec<String> =
                    f.affects.iter().map(|a| format!("{} {}", esc(&a.kind), code(&a.name))).collect();
                let mut body = String::new();
                let _ = writeln!(body, "<p>{}</p>", names.join(", "));
                details(out, &format!("affects {}", f.affects.len()), names.len().min(OPEN_UP_TO + 1), &body);
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn migrations(out: &mut String, r: &Report) {
    section(out, "migrations", "Users and workspaces to migrate");
    if r.migrations.is_empty() {
        out.push_str("<p>None.</p>\n");
    }
    for m in &r.migrations {
        let n: usize = m.users.iter().map(|u| u.workspaces.len()).sum();
        let mut body = String::from(
            "<table><tr><th>user</th><th>status</th><th>workspace</th><th>template</th><th>new workspace</th><th>new template</th><th>note</th></tr>\n",
        );
        for u in &m.users {
            for w in &u.workspaces {
                let note = w.name_note.as_deref().unwrap_or(if w.state == "pending" {
                    ""
                } else {
                    "the new workspace exists"
                });
                let _ = writeln!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&u.username),
                    esc(&u.status),
                    esc(&w.old_workspace),
                    esc(&w.old_template),
                    esc(&w.new_workspace),
                    esc(&w.new_template),
                    esc(note)
                );
            }
        }
        body.push_str("</table>\n");
        let _ = writeln!(out, "<h3>{}</h3>", code(&m.org));
        details(out, &format!("{}, {}", count(m.users.len(), "user"), count(n, "workspace")), n, &body);
    }
    out.push_str("</section>\n");
}
