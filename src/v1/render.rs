//! A v1 plan -> text: each generated template's Terraform, the per-user
//! migration scripts (the same `migrate.sh` as a v2 split, reaching the old
//! workspace by v1's SSH host name) and notices, and a README for the admin.
//! Pure: the `v1-plan` command writes what these return.

use std::collections::BTreeMap;

use super::plan::{TemplateMove, V1Plan};
use crate::error::{Error, Result};
use crate::render::file_names::unique_stems;
use crate::render::scripts::{self, Move, ScriptContext, UserMoves, comment_safe};
use crate::render::{escape_markdown as md, plain};

const TEMPLATE: &str = include_str!("template.tf");

/// The v2 CLI the scripts run: Coder's advice is to install it as `coderv2`
/// beside v1's `coder`.
pub const CODER_V2_CLI: &str = "coderv2";

/// A string as an HCL string literal (quotes, escapes, `${` and `%{` doubled).
fn hcl_string(s: &str) -> Result<String> {
    hcl::format::to_string(&hcl::Expression::String(s.to_string()))
        .map_err(|e| Error::Bug(format!("could not write an HCL string: {e}")))
}

/// `main.tf` of a generated template.
pub fn template_source(t: &TemplateMove) -> Result<String> {
    let header = format!(
        "Template `{}` of organization `{}`, from the v1 image {}{}.",
        comment_safe(&t.name),
        comment_safe(&t.org),
        comment_safe(&t.image),
        if t.deprecated { " (DEPRECATED in v1: review before publishing)" } else { "" }
    );
    let number = |n: f64| hcl_string(&super::plan::number(n));
    Ok(TEMPLATE
        .replacen("# @@HEADER@@", &format!("# {header}"), 1)
        .replacen("@@NAMESPACE@@", &hcl_string(&t.namespace)?, 1)
        .replacen("@@IMAGE@@", &hcl_string(&t.image)?, 1)
        .replacen("@@TAG@@", &hcl_string(&t.default_tag)?, 1)
        .replacen("@@CPU@@", &number(t.cpu_cores)?, 1)
        .replacen("@@MEMORY@@", &number(t.memory_gb)?, 1)
        .replacen("@@DISK@@", &number(t.disk_gb)?, 1))
}

/// Every file of the templates folder: `<org>/<name>/main.tf` and a README.
pub fn template_files(plan: &V1Plan) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let mut readme = String::from("# Templates generated from Coder v1 images\n\n");
    readme.push_str(
        "One folder per v2 organization and template. Each is a Kubernetes pod running the v1 image, with the \
         image's default CPU, memory and disk as parameters and the namespace of the organization's v1 workspace \
         provider. Review each, then push it: `coderv2 templates push --org ORG -d ORG/NAME NAME`.\n\n",
    );
    readme
        .push_str("| organization | template | image | tags in use | namespace | note |\n|---|---|---|---|---|---|\n");
    for t in &plan.templates {
        files.push((format!("{}/main.tf", t.source_dir), template_source(t)?));
        readme.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md(&t.org),
            md(&t.name),
            md(&t.image),
            md(&t.tags_in_use.join(", ")),
            md(&t.namespace),
            if t.deprecated { "**deprecated in v1**: decide before publishing" } else { "" }
        ));
    }
    files.push(("README.md".into(), readme));
    files.sort();
    Ok(files)
}

/// The plan's workspaces, one entry per owner (sorted), each with a file name
/// no other owner has.
pub fn user_moves(plan: &V1Plan) -> Vec<UserMoves> {
    let mut by_owner: BTreeMap<&str, Vec<&super::plan::WorkspaceMove>> = BTreeMap::new();
    for w in &plan.workspaces {
        by_owner.entry(&w.owner).or_default().push(w);
    }
    let files = unique_stems(&by_owner.keys().collect::<Vec<_>>());
    by_owner
        .into_values()
        .zip(files)
        .map(|(ws, file)| UserMoves {
            owner: ws[0].owner.clone(),
            email: ws[0].email.clone(),
            file,
            items: ws
                .iter()
                .map(|w| Move {
                    old_workspace: w.old_name.clone(),
                    old_template: String::new(),
                    new_workspace: w.new_name.clone(),
                    new_org: w.new_org.clone(),
                    new_template: w.new_template.clone(),
                    old_host: w.v1_ssh_host.clone(),
                    parameters: w.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                })
                .collect(),
        })
        .collect()
}

/// What the scripts folder holds: `<user>.sh` per user, plus `index.csv`.
pub fn script_files(plan: &V1Plan, url: &str, deadline: &str, wiki: &str) -> Result<Vec<(String, String)>> {
    let users = user_moves(plan);
    let ctx = ScriptContext {
        deployment_url: url,
        ssh_prefix: "coder.",
        wiki,
        deadline,
        plan: "v1-plan",
        coder_cli: CODER_V2_CLI,
        from_v1: true,
    };
    let mut files = Vec::new();
    let mut index = crate::render::sheet::Sheet::new();
    index.row(["user", "email", "v1_workspaces", "new_workspaces", "script"])?;
    for u in &users {
        files.push((scripts::script_name(u), scripts::migration_script(&ctx, u)?));
        let old: Vec<&str> = u.items.iter().map(|m| m.old_workspace.as_str()).collect();
        let new: Vec<String> = u.items.iter().map(|m| format!("{}/{}", m.new_org, m.new_workspace)).collect();
        index.row([u.owner.as_str(), u.email.as_str(), &old.join(";"), &new.join(";"), &scripts::script_name(u)])?;
    }
    files.push(("index.csv".into(), index.finish()?));
    Ok(files)
}

/// One Markdown notice per user: where each v1 workspace goes, the
/// parameters it gets, the v1-only features that do not come along, and what to do.
pub fn notice_files(plan: &V1Plan, url: &str, deadline: &str) -> Vec<(String, String)> {
    let users = user_moves(plan);
    let mut files = Vec::new();
    for u in &users {
        let mut out = String::from("# Your Coder v1 workspaces are moving to Coder v2\n\n");
        out.push_str(&format!(
            "Hello {},\n\nYour workspaces move from Coder v1 to Coder v2{}. v2 is a separate deployment: each \
             workspace below gets a new one there, made from a template built from your v1 image, and your home \
             folder is copied across with rsync.\n\n",
            md(&u.owner),
            if url.is_empty() { String::new() } else { format!(" at {}", md(url)) },
        ));
        out.push_str("| v1 workspace | v2 organization | v2 template | new workspace | parameters |\n");
        out.push_str("|---|---|---|---|---|\n");
        for w in plan.workspaces.iter().filter(|w| w.owner == u.owner) {
            let params: Vec<String> = w.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                md(&w.old_name),
                md(&w.new_org),
                md(&w.new_template),
                md(&w.new_name),
                md(&params.join(", "))
            ));
        }
        let lost: Vec<_> = plan.v1_only.iter().filter(|f| f.owner == u.owner).collect();
        if !lost.is_empty() {
            out.push_str("\n## What does not come along\n\n");
            for f in lost {
                out.push_str(&format!("- {}: {}. Instead: {}\n", md(&f.workspace), md(&f.detail), md(&f.instead)));
            }
        }
        out.push_str(&format!(
            "\n## What to do{}\n\n",
            if deadline.is_empty() { String::new() } else { format!(" before {}", md(deadline)) }
        ));
        out.push_str(&format!(
            "1. Install the Coder v2 CLI as `{CODER_V2_CLI}` (keep v1's `coder`), log in with `{CODER_V2_CLI} login`, \
             and run v1's `coder config-ssh` so your v1 workspaces have SSH host names.\n\
             2. Run your script, first as a rehearsal: `bash ./{s} --dry-run`, then `bash ./{s}`. It creates each new \
             workspace with the parameters above, copies your home folder (without caches) and checks with \
             checksums that every file arrived. It never deletes anything, and is safe to run again.\n\
             3. Open the new workspace and check your files and tools; only then stop using the v1 one.\n",
            s = scripts::script_name(u)
        ));
        files.push((format!("users/{}.md", u.file), out));
    }
    files
}

/// The v1 report: the v1 deployment at a glance, who holds which v1
/// organization role, then the move to v2 ([`summary`]).
pub fn report(v1: &super::V1Snapshot, plan: &V1Plan) -> String {
    let mut out = String::from("# Coder v1 deployment report\n\n");
    out.push_str(&format!(
        "{} ({}): {} organizations, {} users, {} images ({} deprecated), {} workspaces on {} workspace \
         providers, {} dev URLs.\n\n",
        md(&v1.source.location),
        md(&v1.source.kind),
        v1.organizations.len(),
        v1.users.len(),
        v1.images.len(),
        v1.images.iter().filter(|i| i.deprecated).count(),
        v1.workspaces.len(),
        v1.providers.len(),
        v1.devurls.len()
    ));
    out.push_str("## v1 organizations\n\n| organization | default | members | managers | images | workspaces |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    let access = super::permissions::access(v1);
    for o in &v1.organizations {
        let managers: Vec<&str> = access
            .iter()
            .filter(|a| a.organization == o.name && a.matrix_role == "manager")
            .map(|a| a.username.as_str())
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md(&o.name),
            if o.default { "yes" } else { "" },
            o.members.len(),
            md(&managers.join(", ")),
            v1.images.iter().filter(|i| i.organization_id == o.id).count(),
            v1.workspaces.iter().filter(|w| w.organization_id == o.id).count()
        ));
    }
    out.push_str("\n## v1 workspace providers\n\n| provider | namespace | SSH | organizations |\n|---|---|---|---|\n");
    for p in &v1.providers {
        let orgs: Vec<String> =
            p.org_whitelist.iter().map(|id| v1.org(id).map_or_else(|| id.clone(), |o| o.name.clone())).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md(&p.name),
            md(&p.config.default_namespace),
            if p.config.ssh_enabled { "on" } else { "off" },
            md(&orgs.join(", "))
        ));
    }
    out.push('\n');
    let plan_text = summary(plan);
    // The summary's title becomes a section of the report.
    out.push_str(
        &plan_text.replacen("# Moving Coder v1 to Coder v2", "## Moving to Coder v2", 1).replace("\n## ", "\n### "),
    );
    out.push_str(
        "\nMake this for your own deployment: `orgsplit import --from-dir V1-EXPORT --out v1.json`, then \
         `orgsplit v1-plan v1.json --target v2.json --out-dir v1-move` (generated templates, scripts, notices).\n",
    );
    out
}

/// The plan for a terminal or a Markdown file: organizations, members and
/// what their roles change, templates, workspaces, v1-only features, findings.
pub fn summary(plan: &V1Plan) -> String {
    let mut out = String::from("# Moving Coder v1 to Coder v2\n\n");
    out.push_str(&format!(
        "From {} ({}) to {} ({}).\n\n",
        md(&plan.v1.location),
        md(&plan.v1.kind),
        md(&plan.target.location),
        md(&plan.target.kind)
    ));
    out.push_str("## Organizations\n\n| v2 organization | exists | from v1 | members | templates | workspaces |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for o in &plan.organizations {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md(&o.name),
            if o.exists { "yes" } else { "created" },
            md(&o.from_v1.join(", ")),
            o.members,
            md(&o.templates.join(", ")),
            o.workspaces
        ));
    }
    out.push_str(
        "\n## Members and their roles\n\n| organization | user | v1 role | v2 roles | in v2 | differences |\n",
    );
    out.push_str("|---|---|---|---|---|---|\n");
    for m in &plan.members {
        let diffs: Vec<String> = m
            .differences
            .iter()
            .map(|d| {
                let mut s = d.v1_resource.clone();
                if !d.lost.is_empty() {
                    s.push_str(&format!(" loses {}", d.lost.join("/")));
                }
                if !d.gained.is_empty() {
                    s.push_str(&format!(" gains {}", d.gained.join("/")));
                }
                if d.admin_like_gain {
                    s.push_str(" (admin-like)");
                }
                s
            })
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md(&m.org),
            md(&m.username),
            m.v1_role,
            if m.v2_roles.is_empty() { "member".to_string() } else { m.v2_roles.join(", ") },
            if m.in_target { "yes" } else { "not yet" },
            md(&diffs.join("; "))
        ));
    }
    out.push_str("\n## Templates from v1 images\n\n| organization | template | image | namespace | note |\n");
    out.push_str("|---|---|---|---|---|\n");
    for t in &plan.templates {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            md(&t.org),
            md(&t.name),
            md(&format!("{}:{}", t.image, t.default_tag)),
            md(&t.namespace),
            if t.deprecated { "deprecated in v1" } else { "" }
        ));
    }
    out.push_str("\n## Workspaces\n\n| owner | v1 workspace | v1 SSH host | new org | template | new workspace |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for w in &plan.workspaces {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md(&w.owner),
            md(&w.old_name),
            md(&w.v1_ssh_host),
            md(&w.new_org),
            md(&w.new_template),
            md(&w.new_name)
        ));
    }
    out.push_str("\n## v1 features with no v2 counterpart\n\n");
    if plan.v1_only.is_empty() {
        out.push_str("None.\n");
    }
    for f in &plan.v1_only {
        out.push_str(&format!("- {}/{}: {} ({})\n", md(&f.owner), md(&f.workspace), md(&f.detail), f.feature));
    }
    out.push_str("\n## Findings\n\n");
    if plan.findings.is_empty() {
        out.push_str("None.\n");
    }
    for f in &plan.findings {
        out.push_str(&format!("- **{:?}** `{}`: {}", f.severity, f.code, md(&plain(&f.message))));
        if let Some(h) = &f.help {
            out.push_str(&format!(" ({})", md(h)));
        }
        out.push('\n');
    }
    out
}
