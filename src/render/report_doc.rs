//! The dry-run report as one [`Doc`], rendered as Markdown or HTML: the
//! summary and the decisions first (verdicts, organizations, shared
//! templates, deprecation messages, risks), then the long lists
//! (migrations, members), then the picture as DOT. Nothing here escapes:
//! the backends do, each for its markup.

use super::doc::{self, Block, Doc, Span, class, code, em, heading, list, para, strong, table, text, ticks};
use super::graph;
use super::report_words::{agreement_text, placement, shared_word, summary_rows};
use crate::plan::{Finding, Severity};
use crate::report::picture::{count, thousands};
use crate::report::{Agreement, Report, SplitOrigin, Summary};

/// Affected objects listed per finding before "and N more".
const AFFECTS_SHOWN: usize = 20;

/// Lists longer than this start folded in HTML.
const OPEN_UP_TO: usize = 25;

pub fn markdown(r: &Report) -> String {
    doc::markdown::render(&build(r))
}

pub fn html(r: &Report) -> String {
    doc::html::render(&build(r))
}

pub fn build(r: &Report) -> Doc {
    let d = &r.deployment;
    let title = if d.url.is_empty() { d.source_location.clone() } else { d.url.clone() };
    let mut blocks = header(r);
    blocks.push(section("summary", "Summary", summary(r)));
    blocks.push(section("picture", "The split at a glance", picture(r)));
    blocks.push(section("candidates", "Candidates and verdicts", candidates(r)));
    blocks.push(section("organizations", "Organizations of the split", organizations(r)));
    blocks.push(section("shared", "Shared templates", shared(r)));
    blocks.push(section("deprecations", "Templates to deprecate", deprecations(r)));
    blocks.push(section("findings", "Risks found while planning", findings(r)));
    blocks.push(section("migrations", "Users and workspaces to migrate", migrations(r)));
    blocks.push(section("members", "Members of each organization", members(r)));
    blocks.push(section("dot", "The picture as DOT", dot(r)));
    Doc { title: format!("Dry-run org split report: {title}"), blocks }
}

fn section(id: &'static str, title: &str, body: Vec<Block>) -> Block {
    Block::Section { id, title: title.into(), body }
}

fn header(r: &Report) -> Vec<Block> {
    let d = &r.deployment;
    let mut deployment = vec![strong("Deployment:"), text(" ")];
    deployment.push(if d.url.is_empty() { text("(URL unknown)") } else { code(&d.url) });
    if !d.version.is_empty() {
        deployment.extend([text(", Coder "), code(&d.version)]);
    }
    let mut snapshot = vec![strong("Snapshot:"), text(format!(" {} ", d.source_kind)), code(&d.source_location)];
    if let Some(t) = &d.taken_at {
        snapshot.extend([text(", taken "), code(t)]);
    }
    snapshot.extend([text("; fingerprint "), code(&d.fingerprint)]);
    let s = &r.split;
    let mut split = vec![strong("Split:"), text(" ")];
    match s.origin {
        SplitOrigin::File => split.extend([text("the split file "), code(&s.file)]),
        // Our own words, with their own code span.
        SplitOrigin::Recommended => split.push(ticks(&s.file)),
    }
    split.extend([text(" ("), code(&s.sha256), text(")")]);
    let unset = |v: &str| if v.is_empty() { class("off", vec![text("not set")]) } else { code(v) };
    let migration = vec![
        strong("Migration:"),
        text(" wiki "),
        unset(&s.wiki),
        text(", deadline "),
        unset(&s.deadline),
        text(", shared templates "),
        code(shared_word(s.shared_templates)),
    ];
    let mut blocks = vec![
        heading(1, vec![text("Dry-run org split report")]),
        Block::Para {
            class: "meta",
            spans: vec![text("Nothing has been changed: this report only says what the split would do.")],
        },
        Block::List { class: "meta", items: vec![deployment, snapshot, split, migration] },
    ];
    if s.origin == SplitOrigin::Recommended {
        let mut draft = vec![
            strong("Draft."),
            text(
                " This report plans the split scoring recommends: one organization per candidate whose verdict \
                 is an organization.",
            ),
        ];
        if !s.to_fill_in.is_empty() {
            draft.extend([
                text(" "),
                strong("To be filled in:"),
                text(format!(" {}; the deprecation messages below show where.", s.to_fill_in.join(" and "))),
            ]);
        }
        draft.push(ticks(
            " Write it with `orgsplit score --emit-split split.toml`, review it, fill in what is missing, and run \
             `orgsplit report --split split.toml`.",
        ));
        blocks.push(Block::Callout { spans: draft });
    }
    blocks
}

/// Above this share of the deployment's users or workspaces moving, the
/// report warns: a split is usually a few teams leaving the default
/// organization, and most of the deployment moving is usually a regional or
/// umbrella group taken for a team.
const MOVE_WARNING_PERCENT: usize = 50;

/// `part` of `whole` in whole percent, rounded; 0 of 0 is 0.
fn percent(part: usize, whole: usize) -> usize {
    (part * 100 + whole / 2).checked_div(whole).unwrap_or(0)
}

fn summary(r: &Report) -> Vec<Block> {
    let mut blocks = headline(&r.summary);
    let rows = summary_rows(r).into_iter().map(|(k, v)| vec![vec![text(k)], vec![text(v)]]).collect();
    blocks.push(table(&["", ""], rows));
    blocks
}

fn picture(r: &Report) -> Vec<Block> {
    let p = &r.picture;
    let mut edges: Vec<Vec<Span>> = p
        .edges
        .iter()
        .map(|e| vec![text(format!("{} → {}: {}", p.describe(&e.from), p.describe(&e.to), e.label))])
        .collect();
    if edges.is_empty() {
        edges.push(vec![text("none")]);
    }
    let alt = vec![
        para(vec![text("Edges that cross organizations (the HTML report draws them; the DOT is at the end):")]),
        list(edges),
    ];
    let mut blocks = vec![Block::Figure { svg: graph::svg(p), alt }];
    for o in &p.omitted {
        blocks.push(Block::Para { class: "muted", spans: vec![em(o)] });
    }
    blocks
}

/// The share of users and workspaces that move, and a warning when it is
/// more than [`MOVE_WARNING_PERCENT`].
fn headline(s: &Summary) -> Vec<Block> {
    let users = percent(s.members_placed, s.users_total);
    let workspaces = percent(s.workspaces_to_migrate, s.workspaces_total);
    let mut blocks = vec![para(vec![
        strong("Headline:"),
        text(format!(
            " {users}% of the deployment's users ({} of {}) go into the split's organizations, and {workspaces}% \
             of its workspaces ({} of {}) must move.",
            thousands(s.members_placed),
            thousands(s.users_total),
            thousands(s.workspaces_to_migrate),
            thousands(s.workspaces_total)
        )),
    ])];
    // Strictly over the line: exactly half is not "most of the deployment".
    let over =
        |p: usize, part: usize, whole: usize| p > MOVE_WARNING_PERCENT || part * 100 > whole * MOVE_WARNING_PERCENT;
    if over(users, s.members_placed, s.users_total) || over(workspaces, s.workspaces_to_migrate, s.workspaces_total) {
        blocks.push(Block::Callout {
            spans: vec![
                class("risk", vec![strong("Warning:")]),
                text(format!(
                    " this split moves more than {MOVE_WARNING_PERCENT}% of the deployment. A split is usually a few \
                     teams leaving the default organization; check that no regional or umbrella group is taken for \
                     a team before circulating it."
                )),
            ],
        });
    }
    blocks
}

/// The verdict, and for a candidate with no organization of its own, why:
/// "In `pricing`'s organization (subset of `pricing`)".
fn recommendation_cell(c: &crate::report::Verdict) -> String {
    match (&c.joins, &c.relation) {
        (Some(j), Some(r)) => format!("In `{j}`'s organization ({r})"),
        (Some(j), None) => format!("In `{j}`'s organization"),
        (None, Some(r)) => format!("{} ({r})", c.recommendation_title),
        (None, None) => c.recommendation_title.clone(),
    }
}

fn candidates(r: &Report) -> Vec<Block> {
    let rows = r
        .candidates
        .iter()
        .map(|c| {
            let case = c.case.as_ref().map_or("none".to_string(), |t| {
                let t = if c.case_applies { t.clone() } else { format!("none (closest: {t})") };
                format!("{t} ({}/{})", c.met, c.total)
            });
            let agreement = agreement_text(c.agreement).replace("**", "");
            let agreement = if c.agreement == Agreement::AsRecommended {
                text(agreement)
            } else {
                class("off", vec![text(agreement)])
            };
            vec![
                vec![text(&c.name)],
                vec![text(thousands(c.members))],
                vec![ticks(recommendation_cell(c))],
                vec![text(case)],
                vec![text(format!("{}: ", placement(c))), agreement],
            ]
        })
        .collect();
    let why = r
        .candidates
        .iter()
        .map(|c| {
            let mut why = vec![strong(&c.name), text(format!(": {}", c.recommendation_title))];
            if let Some(r) = &c.relation {
                let how = match &c.joins {
                    Some(j) => format!("; no organization of its own ({r}): its people join `{j}`'s"),
                    None => format!("; no organization of its own ({r})"),
                };
                why.push(ticks(&how));
            }
            match &c.case {
                // No case fits: the nearest one, and what it lacks.
                Some(case) if !c.case_applies => {
                    why.push(text(format!(
                        "; closest case {case} ({} of {} conditions), missing: {}",
                        c.met,
                        c.total,
                        if c.missing.is_empty() { "nothing required".to_string() } else { c.missing.join("; ") }
                    )));
                }
                _ => {
                    if !c.reasons.is_empty() {
                        why.push(text(format!("; because: {}", c.reasons.join("; "))));
                    }
                    if !c.missing.is_empty() {
                        why.push(text(format!("; not met: {}", c.missing.join("; "))));
                    }
                }
            }
            for (i, e) in c.evidence.iter().enumerate() {
                if i == 0 {
                    why.extend([text("; "), em("evidence:")]);
                } else {
                    why.push(text(" ·"));
                }
                why.extend([text(" "), ticks(e)]);
            }
            if !c.warnings.is_empty() {
                why.extend([
                    text("; "),
                    class("warning", vec![text("warnings:")]),
                    text(format!(" {}", c.warnings.join("; "))),
                ]);
            }
            for n in &c.notes {
                why.extend([text("; note: "), ticks(n)]);
            }
            if c.agreement != Agreement::AsRecommended {
                why.extend([text("; "), class("off", vec![strong(agreement_text(c.agreement).replace("**", ""))])]);
            }
            why
        })
        .collect();
    vec![
        table(&["candidate", "members", "recommendation", "case of the page", "in this split"], rows),
        para(vec![text("Why:")]),
        list(why),
        Block::Para {
            class: "muted",
            spans: vec![ticks("`orgsplit score` shows every fact behind these verdicts, with all its evidence.")],
        },
    ]
}

fn organizations(r: &Report) -> Vec<Block> {
    let mut blocks = Vec::new();
    for o in &r.organizations {
        let state = if o.exists { "exists" } else { "new" };
        blocks.push(heading(3, vec![text(format!("{} ({state})", o.name))]));
        if o.display_name != o.name || !o.description.is_empty() {
            let mut line = o.display_name.clone();
            if !o.description.is_empty() {
                line = format!("{line}: {}", o.description);
            }
            blocks.push(para(vec![text(line)]));
        }
        let mut items = vec![vec![
            strong("Members:"),
            text(format!(
                " {} ({} added through the API, {} placed by IdP sync at their next login)",
                thousands(o.members),
                thousands(o.members_by_api),
                thousands(o.members_by_idp_sync)
            )),
        ]];
        if !o.candidates.is_empty() {
            items.push(vec![strong("Candidates:"), text(format!(" {}", o.candidates.join(", ")))]);
        }
        for (role, users) in &o.roles {
            items.push(vec![strong(format!("{role}:")), text(format!(" {}", users.join(", ")))]);
        }
        match &o.provisioner_key {
            Some(k) => {
                let tags: Vec<String> = k.tags.iter().map(|(a, b)| format!("{a}={b}")).collect();
                let mut item = vec![strong("Provisioner key:"), text(" "), code(&k.name)];
                if !tags.is_empty() {
                    item.extend([text(" (tags "), code(tags.join(" ")), text(")")]);
                }
                item.extend([
                    text("; create it with "),
                    code(&k.create_command),
                    text(", then start a provisioner where the team's infrastructure is with "),
                    code(&k.start_command),
                ]);
                items.push(item);
            }
            None => items.push(vec![strong("Provisioner key:"), text(" none (the split opts out)")]),
        }
        if !o.custom_roles.is_empty() {
            items.push(vec![strong("Custom roles:"), text(format!(" {}", o.custom_roles.join(", ")))]);
        }
        if !o.workspace_proxies.is_empty() {
            items.push(vec![
                strong("Workspace proxies its users need:"),
                text(format!(" {}", o.workspace_proxies.join(", "))),
            ]);
        }
        items.push(vec![
            strong("To migrate:"),
            text(format!(" {} of {}", count(o.workspaces_to_migrate, "workspace"), count(o.users_to_migrate, "user"))),
        ]);
        blocks.push(list(items));
        if !o.groups.is_empty() {
            let rows = o
                .groups
                .iter()
                .map(|g| {
                    vec![
                        vec![text(&g.name)],
                        vec![text(thousands(g.members))],
                        vec![text(g.copied_from.as_deref().unwrap_or("(new)"))],
                    ]
                })
                .collect();
            blocks.push(table(&["group", "members", "copied from"], rows));
        }
        if !o.templates.is_empty() {
            let rows = o
                .templates
                .iter()
                .map(|t| {
                    let tags: Vec<String> = t.provisioner_tags.iter().map(|(a, b)| format!("{a}={b}")).collect();
                    vec![
                        vec![text(&t.name)],
                        vec![text(&t.recreated_from)],
                        vec![text(&t.action)],
                        vec![text(tags.join(" "))],
                        vec![text(thousands(t.workspaces_to_migrate))],
                    ]
                })
                .collect();
            blocks.push(table(
                &["template", "re-created from", "step", "provisioner tags", "workspaces to migrate"],
                rows,
            ));
        }
    }
    blocks
}

fn shared(r: &Report) -> Vec<Block> {
    let mut blocks = recreated_shared(r);
    blocks.push(heading(3, vec![text("Templates that stay, still used by new organizations")]));
    if r.staying_templates.is_empty() {
        blocks.push(para(vec![text("None: no member of a new organization keeps using a template that stays.")]));
        return blocks;
    }
    blocks.push(para(vec![text(
        "These templates are not re-created: they stay where they are, and members of the new organizations keep \
         using them there (shared).",
    )]));
    let rows = r
        .staying_templates
        .iter()
        .map(|t| {
            let kept: Vec<String> = t.kept_by.iter().map(|p| format!("{} {}", p.org, thousands(p.members))).collect();
            vec![
                vec![text(format!("{}/{}", t.org, t.template))],
                vec![text(thousands(t.users))],
                vec![text(kept.join(", "))],
            ]
        })
        .collect();
    blocks.push(table(&["template", "users", "kept in use by members of"], rows));
    blocks
}

/// Templates re-created somewhere whose users go to more than one place.
fn recreated_shared(r: &Report) -> Vec<Block> {
    if r.shared_templates.is_empty() {
        return vec![para(vec![text("No template that is re-created has users going to different places.")])];
    }
    let rows = r
        .shared_templates
        .iter()
        .map(|t| {
            let dest: Vec<String> = t
                .destinations
                .iter()
                .map(|d| format!("{} {}", d.org.as_deref().unwrap_or("in no org of the split"), thousands(d.users)))
                .collect();
            vec![
                vec![text(format!("{}/{}", t.org, t.template))],
                vec![text(t.copies.join(", "))],
                vec![if t.deprecated { text("yes") } else { class("off", vec![strong("no")]) }],
                vec![text(thousands(t.users))],
                vec![text(dest.join(", "))],
            ]
        })
        .collect();
    let said = r.shared_templates.iter().flat_map(|t| t.findings.iter().map(|f| vec![ticks(f)])).collect();
    vec![table(&["template", "re-created in", "deprecated", "users", "where its users go"], rows), list(said)]
}

fn deprecations(r: &Report) -> Vec<Block> {
    let mut blocks = Vec::new();
    if r.deprecations.is_empty() {
        blocks.push(para(vec![text("None.")]));
    }
    for d in &r.deprecations {
        blocks.push(heading(3, vec![text(format!("{}/{}", d.org, d.template))]));
        blocks.push(para(vec![text(format!(
            "Users go to {}; {} to migrate. The message set on the template, exactly:",
            d.replacements.join(", "),
            count(d.workspaces_to_migrate, "workspace")
        ))]));
        blocks.push(Block::Code {
            lang: "text",
            text: d.message.clone(),
            marks: vec![crate::report::WIKI_TO_FILL_IN.into(), crate::report::DEADLINE_TO_FILL_IN.into()],
        });
    }
    blocks
}

fn findings(r: &Report) -> Vec<Block> {
    let mut blocks = Vec::new();
    for (sev, title, style) in [
        (Severity::Risk, "Risks", "risk"),
        (Severity::Warning, "Warnings", "warning"),
        (Severity::Info, "Notes", "info"),
    ] {
        let found: Vec<&Finding> = r.findings_of(sev).collect();
        blocks.push(heading(3, vec![text(format!("{title} ({})", found.len()))]));
        if found.is_empty() {
            blocks.push(para(vec![text("None.")]));
        }
        let items = found
            .into_iter()
            .map(|f| {
                let mut item = vec![class(style, vec![strong(&f.code)]), text(" "), ticks(&f.message)];
                if let Some(h) = &f.help {
                    item.extend([text(" "), em("What to do:"), text(" "), ticks(h)]);
                }
                let names: Vec<String> =
                    f.affects.iter().take(AFFECTS_SHOWN).map(|a| format!("{} {}", a.kind, a.name)).collect();
                if !names.is_empty() {
                    item.extend([text(" "), em("Affects:"), text(format!(" {}", names.join(", ")))]);
                    let more = f.affects.len().saturating_sub(AFFECTS_SHOWN);
                    if more > 0 {
                        item.push(ticks(format!(" and {more} more (all in `-o json`)")));
                    }
                }
                item
            })
            .collect();
        // An empty list is a blank line in Markdown, as the report has always had.
        blocks.push(list(items));
    }
    blocks
}

fn migrations(r: &Report) -> Vec<Block> {
    let mut blocks = Vec::new();
    if r.migrations.is_empty() {
        blocks.push(para(vec![text("None.")]));
    }
    for m in &r.migrations {
        let n: usize = m.users.iter().map(|u| u.workspaces.len()).sum();
        let counts = format!("{}, {}", count(m.users.len(), "user"), count(n, "workspace"));
        blocks.push(heading(3, vec![text(format!("{} ({counts})", m.org))]));
        let rows = m
            .users
            .iter()
            .flat_map(|u| {
                u.workspaces.iter().map(move |w| {
                    let note = w.name_note.as_deref().unwrap_or(if w.state == "pending" {
                        ""
                    } else {
                        "the new workspace exists"
                    });
                    [&u.username, &u.status, &w.old_workspace, &w.old_template, &w.new_workspace, &w.new_template]
                        .into_iter()
                        .map(|s| vec![text(s.as_str())])
                        .chain([vec![text(note)]])
                        .collect()
                })
            })
            .collect();
        let body =
            vec![table(&["user", "status", "workspace", "template", "new workspace", "new template", "note"], rows)];
        blocks.push(Block::Fold { summary: counts, open: n <= OPEN_UP_TO, body });
    }
    blocks
}

fn members(r: &Report) -> Vec<Block> {
    let items: Vec<Vec<Span>> = r
        .organizations
        .iter()
        .map(|o| {
            vec![
                strong(&o.name),
                text(format!(" ({}): {}", thousands(o.member_usernames.len()), o.member_usernames.join(", "))),
            ]
        })
        .collect();
    let total: usize = r.organizations.iter().map(|o| o.member_usernames.len()).sum();
    let summary = format!("{} in {}", count(total, "member"), count(r.organizations.len(), "organization"));
    vec![Block::Fold { summary, open: total <= OPEN_UP_TO, body: vec![list(items)] }]
}

fn dot(r: &Report) -> Vec<Block> {
    vec![
        para(vec![ticks("Render it with Graphviz (`dot -Tsvg`); `-o html` draws it without.")]),
        Block::Fold {
            summary: "The picture as DOT".into(),
            open: false,
            body: vec![Block::Code { lang: "dot", text: graph::dot(&r.picture), marks: vec![] }],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headline_md(users: (usize, usize), workspaces: (usize, usize)) -> String {
        let s = Summary {
            members_placed: users.0,
            users_total: users.1,
            workspaces_to_migrate: workspaces.0,
            workspaces_total: workspaces.1,
            ..Summary::default()
        };
        doc::markdown::render(&Doc { title: String::new(), blocks: headline(&s) })
    }

    #[test]
    fn the_headline_warns_over_half_of_the_deployment_and_not_at_half() {
        let half = headline_md((500, 1000), (10, 20));
        assert!(half.starts_with("**Headline:** 50% of the deployment's users (500 of 1,000)"), "{half}");
        assert!(half.contains("and 50% of its workspaces (10 of 20) must move."), "{half}");
        assert!(!half.contains("Warning"), "{half}");
        // 50.1% rounds to 50% but is over the line.
        let over = headline_md((501, 1000), (0, 20));
        assert!(over.contains("> **Warning:** this split moves more than 50% of the deployment."), "{over}");
        assert!(headline_md((1, 10), (91, 100)).contains("**Warning:**"));
        assert!(!headline_md((0, 0), (0, 0)).contains("**Warning:**"), "an empty deployment moves nothing");
    }
}
