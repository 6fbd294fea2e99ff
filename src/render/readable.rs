//! A snapshot as canonical readable text: names only, never ids, one fact
//! per line, sorted. Two states that differ only in ids (an expected
//! after-state and a re-import after apply) read the same, and a unified
//! diff of two of them shows exactly what changed.
//!
//! Left out, as they are not what a plan changes and move on their own:
//! users' own fields, workspace build status, provisioner daemons, proxies,
//! counts and timestamps.
//!
//! Names from the deployment are made terminal-safe (one line, no control
//! characters) as they go in: `diff` prints this text.

use foldhash::{HashMap, HashMapExt};
use std::borrow::Cow;
use std::fmt::Write;

use super::terminal_safe as safe;
use crate::model::*;

/// Tags Coder adds to every org-scoped job; shown only when they differ.
fn is_implicit_tag(k: &str, v: &str) -> bool {
    (k == "scope" && v == "organization") || (k == "owner" && v.is_empty())
}

fn tags(t: &std::collections::BTreeMap<String, String>) -> String {
    let shown: Vec<String> =
        t.iter().filter(|(k, v)| !is_implicit_tag(k, v)).map(|(k, v)| format!("{}={}", safe(k), safe(v))).collect();
    if shown.is_empty() { "(none)".into() } else { shown.join(" ") }
}

#[derive(Default)]
struct OrgParts<'a> {
    keys: Vec<&'a ProvisionerKey>,
    roles: Vec<&'a Role>,
    groups: Vec<&'a Group>,
    templates: Vec<&'a Template>,
    members: Vec<(&'a str, &'a OrganizationMember)>,
}

/// The names the readable form needs (a full `Index` costs twice as much).
struct Names<'a> {
    orgs: HashMap<&'a str, Cow<'a, str>>,
    users: HashMap<&'a str, Cow<'a, str>>,
    groups: HashMap<&'a str, Cow<'a, str>>,
    versions: HashMap<&'a str, &'a TemplateVersion>,
}

impl<'a> Names<'a> {
    fn new(s: &'a Snapshot) -> Names<'a> {
        Names {
            orgs: s.organizations.iter().map(|o| (o.id.as_str(), safe(&o.name))).collect(),
            users: s.users.iter().map(|u| (u.id.as_str(), safe(&u.username))).collect(),
            groups: s.groups.iter().map(|g| (g.id.as_str(), safe(&g.name))).collect(),
            versions: s.template_versions.iter().map(|v| (v.id.as_str(), v)).collect(),
        }
    }

    fn org(&self, id: &str) -> &str {
        self.orgs.get(id).map_or("(unknown org)", |n| n)
    }

    fn user(&self, id: &str) -> &str {
        self.users.get(id).map_or("(unknown user)", |n| n)
    }

    fn group(&self, id: &str) -> &str {
        self.groups.get(id).map_or("(unknown group)", |n| n)
    }
}

pub fn readable(s: &Snapshot) -> String {
    // The workspaces (half the lines) are written on a second core.
    let (sections, mut workspaces) = crate::cores::join(|| org_sections(s), || workspaces_by_org(s));
    let mut out = String::with_capacity(
        sections.iter().map(String::len).sum::<usize>() + workspaces.values().map(String::len).sum::<usize>(),
    );
    out.push_str(&sections[0]);
    for (org, text) in s.organizations.iter().zip(&sections[1..]) {
        out.push_str(text);
        if let Some(w) = workspaces.remove(org.id.as_str()) {
            out.push_str(&w);
        }
    }
    out
}

/// The text before the organizations (org sync), then each organization's
/// up to its workspaces, in the order of `s.organizations`.
fn org_sections(s: &Snapshot) -> Vec<String> {
    let ix = Names::new(s);
    let mut parts: HashMap<&str, OrgParts> = HashMap::new();
    for k in &s.provisioner_keys {
        parts.entry(&k.organization).or_default().keys.push(k);
    }
    for r in &s.custom_roles {
        parts.entry(&r.organization_id).or_default().roles.push(r);
    }
    for g in s.groups.iter().filter(|g| !g.is_everyone()) {
        parts.entry(&g.organization_id).or_default().groups.push(g);
    }
    for t in &s.templates {
        parts.entry(&t.organization_id).or_default().templates.push(t);
    }
    for m in &s.organization_members {
        parts.entry(&m.organization_id).or_default().members.push((ix.user(&m.user_id), m));
    }
    let mut sections = Vec::with_capacity(s.organizations.len() + 1);
    let mut sync = String::new();
    org_sync(&mut sync, s, &ix);
    sections.push(sync);
    for org in &s.organizations {
        let mut p = parts.remove(org.id.as_str()).unwrap_or_default();
        let mut out = String::with_capacity(64 * (p.members.len() + 16 * p.templates.len() + 16));
        organization(&mut out, s, &ix, org, &mut p);
        sections.push(out);
    }
    sections
}

/// Each organization's workspace lines, by org id.
fn workspaces_by_org(s: &Snapshot) -> HashMap<&str, String> {
    let mut by_org: HashMap<&str, Vec<&Workspace>> = HashMap::new();
    for w in s.workspaces.iter().filter(|w| !w.is_deleted_or_deleting()) {
        by_org.entry(&w.organization_id).or_default().push(w);
    }
    by_org
        .into_iter()
        .map(|(org, mut ws)| {
            ws.sort_by(|a, b| (&a.owner_name, &a.name).cmp(&(&b.owner_name, &b.name)));
            let mut out = String::with_capacity(64 * ws.len());
            for w in ws {
                line(
                    &mut out,
                    &["  workspace ", &safe(&w.owner_name), "/", &safe(&w.name), " template ", &safe(&w.template_name)],
                );
            }
            (org, out)
        })
        .collect()
}

fn org_sync(out: &mut String, s: &Snapshot, ix: &Names<'_>) {
    let Some(o) = s.idp_sync.organization.as_ref().filter(|o| !o.field.is_empty()) else { return };
    let _ =
        writeln!(out, "organization-sync field={} assign_default={}", safe(&o.field), o.organization_assign_default);
    for (claim, ids) in &o.mapping {
        let mut names: Vec<&str> = ids.iter().map(|id| ix.org(id)).collect();
        names.sort_unstable();
        let _ = writeln!(out, "  map {claim:?} -> {}", names.join(", "));
    }
}

fn organization(out: &mut String, s: &Snapshot, ix: &Names<'_>, org: &Organization, p: &mut OrgParts<'_>) {
    let _ = writeln!(out, "organization {}{}", safe(&org.name), if org.is_default { " (default)" } else { "" });
    let _ = writeln!(out, "  display-name {:?}", org.display_name);
    let _ = writeln!(out, "  description {:?}", org.description);
    let _ = writeln!(out, "  icon {:?}", org.icon);
    // Only where known (newer releases, or v2.30.0 with the experiment on).
    if let Some(roles) = &org.default_org_member_roles {
        let _ =
            writeln!(out, "  default-member-roles [{}]", roles.iter().map(|r| safe(r)).collect::<Vec<_>>().join(" "));
    }
    if let Some(who) = &org.shareable_workspace_owners {
        let _ = writeln!(out, "  workspace-sharing {}", safe(who));
    }
    p.keys.sort_by(|a, b| a.name.cmp(&b.name));
    for k in &p.keys {
        let _ = writeln!(out, "  provisioner-key {} tags {}", safe(&k.name), tags(&k.tags));
    }
    p.roles.sort_by(|a, b| a.name.cmp(&b.name));
    for r in &p.roles {
        let _ = writeln!(out, "  custom-role {} {:?}", safe(&r.name), r.display_name);
        for (scope, perms) in
            [("organization", &r.organization_permissions), ("member", &r.organization_member_permissions)]
        {
            for x in perms {
                let _ =
                    writeln!(out, "    {scope} {}{}:{}", if x.negate { "!" } else { "" }, x.resource_type, x.action);
            }
        }
    }
    if let Some(g) = s.idp_sync.groups.iter().find(|g| g.organization_id == org.id && !g.field.is_empty()) {
        let _ = writeln!(out, "  group-sync field={}", safe(&g.field));
        for (claim, ids) in &g.mapping {
            let mut names: Vec<&str> = ids.iter().map(|id| ix.group(id)).collect();
            names.sort_unstable();
            let _ = writeln!(out, "    map {claim:?} -> {}", names.join(", "));
        }
    }
    if let Some(r) = s.idp_sync.roles.iter().find(|r| r.organization_id == org.id && !r.field.is_empty()) {
        let _ = writeln!(out, "  role-sync field={}", safe(&r.field));
        for (claim, roles) in &r.mapping {
            let _ = writeln!(out, "    map {claim:?} -> {}", safe(&roles.join(", ")));
        }
    }
    p.groups.sort_by(|a, b| a.name.cmp(&b.name));
    for g in &p.groups {
        let _ = writeln!(out, "  group {} {:?} quota={}", safe(&g.name), g.display_name, g.quota_allowance);
        let mut names: Vec<&str> = g.members.iter().map(|u| ix.user(u)).collect();
        names.sort_unstable();
        for n in names {
            line(out, &["    member ", n]);
        }
    }
    p.templates.sort_by(|a, b| a.name.cmp(&b.name));
    for t in &p.templates {
        template(out, ix, t);
    }
    p.members.sort_by(|a, b| a.0.cmp(b.0));
    for (name, m) in &p.members {
        out.push_str("  member ");
        out.push_str(name);
        match m.roles.as_deref() {
            Some([]) => {}
            Some([first, rest @ ..]) => {
                out.push_str(" roles ");
                out.push_str(&safe(first));
                for r in rest {
                    out.push_str(", ");
                    out.push_str(&safe(r));
                }
            }
            None => out.push_str(" roles (unknown)"),
        }
        out.push('\n');
    }
}

/// A line of `parts` (the most numerous lines: members and workspaces,
/// written without the formatting machinery).
fn line(out: &mut String, parts: &[&str]) {
    for part in parts {
        out.push_str(part);
    }
    out.push('\n');
}

fn template(out: &mut String, ix: &Names<'_>, t: &Template) {
    let _ = writeln!(out, "  template {} {:?}", safe(&t.name), t.display_name);
    let _ = writeln!(out, "    description {:?}", t.description);
    let _ = writeln!(out, "    icon {:?}", t.icon);
    let settings = [
        ("default_ttl_ms", t.settings.default_ttl_ms.to_string()),
        ("activity_bump_ms", t.settings.activity_bump_ms.to_string()),
        ("failure_ttl_ms", t.settings.failure_ttl_ms.to_string()),
        ("time_til_dormant_ms", t.settings.time_til_dormant_ms.to_string()),
        ("time_til_dormant_autodelete_ms", t.settings.time_til_dormant_autodelete_ms.to_string()),
        ("require_active_version", t.settings.require_active_version.to_string()),
        ("allow_user_autostart", t.settings.allow_user_autostart.to_string()),
        ("allow_user_autostop", t.settings.allow_user_autostop.to_string()),
        ("allow_user_cancel_workspace_jobs", t.settings.allow_user_cancel_workspace_jobs.to_string()),
        ("max_port_share_level", safe(&t.settings.max_port_share_level).into_owned()),
        (
            "autostop_requirement",
            format!(
                "weeks={} days={}",
                t.settings.autostop_requirement.weeks,
                t.settings.autostop_requirement.days_of_week.join(",")
            ),
        ),
        ("autostart_requirement", format!("days={}", t.settings.autostart_requirement.days_of_week.join(","))),
    ];
    for (k, v) in settings {
        let _ = writeln!(out, "    {k} {v}");
    }
    if let Some(v) = ix.versions.get(t.active_version_id.as_str()) {
        let _ = writeln!(out, "    provisioner-tags {}", tags(&v.job.tags));
    }
    match &t.acl {
        None => {
            let _ = writeln!(out, "    acl (not exported)");
        }
        Some(acl) => {
            let mut lines: Vec<String> = acl
                .group
                .iter()
                .map(|e| {
                    let name = if e.id == t.organization_id { "Everyone" } else { ix.group(&e.id) };
                    format!("    acl group {name} {}", e.role)
                })
                .chain(acl.users.iter().map(|e| format!("    acl user {} {}", ix.user(&e.id), e.role)))
                .collect();
            lines.sort();
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }
    if t.deprecated {
        let _ = writeln!(out, "    deprecated {:?}", t.deprecation_message);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Apply verifies by comparing the readable form of a re-import with that
    /// of the expected after-state, whose new objects have placeholder ids.
    #[test]
    fn states_that_differ_only_in_ids_read_the_same() {
        let (before, plan) = crate::plan::megaco_plan();
        let after = crate::plan::expected_after(&before, &plan).unwrap();
        // A re-import: the server gave every new object a real id.
        let mut json = String::from_utf8(after.to_json().unwrap()).unwrap();
        let mut placeholders: Vec<String> = json
            .match_indices("\"planned:")
            .map(|(i, _)| json[i + 1..].split('"').next().unwrap().to_string())
            .collect();
        placeholders.sort();
        placeholders.dedup();
        assert!(placeholders.len() > 30, "orgs, groups, templates, versions and keys: {}", placeholders.len());
        for p in &placeholders {
            json = json.replace(
                &format!("\"{p}\""),
                &format!("\"{}\"", uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, p.as_bytes())),
            );
        }
        let reimported = Snapshot::from_json(json.as_bytes(), Path::new("after.json")).unwrap();
        let (a, b) = (readable(&after), readable(&reimported));
        assert!(a == b, "the readable form depends on ids");
        assert!(!a.contains("planned:") && !a.contains("(unknown"), "names only, all resolved");
        assert_ne!(readable(&before), a);
    }

    /// Apply's verification reads back each org's sharing setting and
    /// default member roles where known; unknown adds nothing (MegaCo's
    /// outputs stay as they were).
    #[test]
    fn sharing_and_default_roles_are_read_where_known() {
        let (before, _) = crate::plan::megaco_plan();
        let plain = readable(&before);
        assert!(!plain.contains("workspace-sharing") && !plain.contains("default-member-roles"));
        let mut s = before.clone();
        s.organizations[0].shareable_workspace_owners = Some("none".into());
        s.organizations[0].default_org_member_roles = Some(vec!["organization-workspace-access".into()]);
        let text = readable(&s);
        assert!(text.contains("  workspace-sharing none\n"), "{text}");
        assert!(text.contains("  default-member-roles [organization-workspace-access]\n"), "{text}");
        s.organizations[0].shareable_workspace_owners = Some("everyone".into());
        assert_ne!(readable(&s), text, "a drift in sharing shows");
    }
}
