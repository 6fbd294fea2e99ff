//! The split file checked against the snapshot, every problem at once with
//! its line and column (unknown groups, users, templates, people columns and
//! roles; bad globs and names; an unusable message template), and resolved:
//! per target org, who goes in and why, which groups are copied and which
//! templates are re-created there.

use std::collections::{BTreeMap, BTreeSet};

mod templates;

use super::names::{name_problem, unknown_placeholders};
use super::roles::{BUILT_IN_ORG_ROLES, CATALOGUE, catalogue_permissions, permission_problem};
use super::{Affected, Finding, Severity};
use crate::error::{Diagnostic, Error, Result};
use crate::model::{Group, Index, Organization, Permission, Snapshot, Template};
use crate::split::{OrgSpec, Seg, SplitDocument};

pub struct Resolved<'a> {
    /// Target orgs, sorted by name.
    pub orgs: Vec<Target<'a>>,
    pub findings: Vec<Finding>,
}

pub struct Target<'a> {
    pub spec: &'a OrgSpec,
    pub name: String,
    pub display_name: String,
    pub existing: Option<&'a Organization>,
    /// user id -> why they go in, and the roles the split gives them.
    pub members: BTreeMap<&'a str, Selected>,
    /// Groups copied into the org (from other orgs), sorted by name.
    pub groups: Vec<&'a Group>,
    /// Templates the split lists for the org, sorted by name.
    pub templates: Vec<&'a Template>,
    pub custom_roles: Vec<RoleDef>,
    /// The provisioner key to create; None when the split opts out (`provisioner_key = ""`).
    pub key: Option<String>,
}

#[derive(Debug, Default)]
pub struct Selected {
    pub reasons: BTreeSet<String>,
    pub roles: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct RoleDef {
    pub name: String,
    pub display_name: String,
    pub permissions: Vec<Permission>,
}

struct Ctx<'a, 'i> {
    s: &'a Snapshot,
    ix: &'i Index<'a>,
    doc: &'a SplitDocument,
    target_names: BTreeSet<&'a str>,
    /// Templates that can be a source (those in orgs the split does not
    /// target), sorted by name (ties in snapshot order).
    sources: Vec<&'a Template>,
    problems: Vec<Diagnostic>,
    findings: Vec<Finding>,
}

fn path(i: usize, field: &str) -> Vec<Seg> {
    vec!["organizations".into(), i.into(), field.into()]
}

fn item(i: usize, field: &str, j: usize) -> Vec<Seg> {
    let mut p = path(i, field);
    p.push(j.into());
    p
}

pub fn resolve<'a>(s: &'a Snapshot, ix: &Index<'a>, doc: &'a SplitDocument) -> Result<Resolved<'a>> {
    let target_names: BTreeSet<&str> = doc.split.organizations.iter().map(|o| o.name.as_str()).collect();
    let mut sources: Vec<&Template> =
        s.templates.iter().filter(|t| !target_names.contains(ix.org_name(&t.organization_id))).collect();
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    let mut c = Ctx { s, ix, doc, target_names, sources, problems: Vec::new(), findings: Vec::new() };
    c.migration();
    let defined = c.custom_role_definitions();
    let mut orgs = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, spec) in doc.split.organizations.iter().enumerate() {
        if !seen.insert(spec.name.as_str()) {
            let message = format!("organization `{}` is named twice", spec.name);
            c.problems.push(doc.diagnostic(&path(i, "name"), message).help("merge the two entries into one"));
            continue;
        }
        orgs.push(c.target(i, spec, &defined));
    }
    if !c.problems.is_empty() {
        c.problems.sort_by_key(|d| (d.line, d.column));
        return Err(Error::Inputs { what: doc.path.clone(), diagnostics: c.problems });
    }
    orgs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Resolved { orgs, findings: c.findings })
}

impl<'a> Ctx<'a, '_> {
    fn problem(&mut self, at: Vec<Seg>, message: String, help: &str) {
        let d = self.doc.diagnostic(&at, message);
        self.problems.push(if help.is_empty() { d } else { d.help(help) });
    }

    fn migration(&mut self) {
        let m = &self.doc.split.migration;
        let at = |f: &str| vec![Seg::from("migration"), f.into()];
        for p in unknown_placeholders(&m.deprecation_message) {
            let help = "placeholders are {org}, {org_display_name}, {template}, {new_template}, {wiki} and {deadline}";
            self.problem(at("deprecation_message"), format!("unknown placeholder `{{{p}}}`"), help);
        }
        let used = super::names::placeholders(&m.deprecation_message);
        let has_templates = self.doc.split.organizations.iter().any(|o| !o.templates.is_empty());
        if m.wiki.is_empty() && has_templates && used.iter().any(|p| p == "wiki") {
            let help = "set `wiki` under [migration] to the page that explains the move";
            self.problem(at("wiki"), "the deprecation message links `{wiki}` but no wiki is set".into(), help);
        } else if !m.wiki.is_empty()
            && (!(m.wiki.starts_with("https://") || m.wiki.starts_with("http://"))
                || m.wiki.contains(|c: char| c.is_whitespace() || "()<>[]\"'`".contains(c)))
        {
            let help = "write a plain http(s) URL; it is put into Markdown messages as it is";
            self.problem(at("wiki"), format!("`{}` is not a usable link", m.wiki), help);
        }
        if m.deadline.is_empty() {
            if has_templates && used.iter().any(|p| p == "deadline") {
                let help = "set `deadline = \"YYYY-MM-DD\"` under [migration]";
                self.problem(
                    at("deadline"),
                    "the deprecation message says `{deadline}` but no deadline is set".into(),
                    help,
                );
            }
        } else if chrono::NaiveDate::parse_from_str(&m.deadline, "%Y-%m-%d").is_err() {
            self.problem(at("deadline"), format!("`{}` is not a date", m.deadline), "write it as YYYY-MM-DD");
        }
    }

    /// `[[custom_roles]]` checked, then merged over the built-in catalogue.
    fn custom_role_definitions(&mut self) -> BTreeMap<String, RoleDef> {
        let mut defs: BTreeMap<String, RoleDef> = CATALOGUE
            .iter()
            .map(|r| {
                let def = RoleDef {
                    name: r.name.into(),
                    display_name: r.display_name.into(),
                    permissions: catalogue_permissions(r),
                };
                (r.name.to_string(), def)
            })
            .collect();
        for (i, role) in self.doc.split.custom_roles.iter().enumerate() {
            let at = |f: &str| vec![Seg::from("custom_roles"), i.into(), f.into()];
            if let Some(p) = name_problem(&role.name) {
                self.problem(at("name"), format!("custom role: {p}"), "");
            }
            for (j, p) in role.permissions.iter().enumerate() {
                if let Some(why) = permission_problem(&p.resource_type, &p.action) {
                    let mut at = at("permissions");
                    at.push(j.into());
                    self.problem(at, why, "see the RBAC table in the Coder API docs (ENDPOINTS.md section 5)");
                }
            }
            let display_name = if role.display_name.is_empty() { role.name.clone() } else { role.display_name.clone() };
            let permissions = role
                .permissions
                .iter()
                .map(|p| Permission {
                    negate: p.negate,
                    resource_type: p.resource_type.clone(),
                    action: p.action.clone(),
                })
                .collect();
            defs.insert(role.name.clone(), RoleDef { name: role.name.clone(), display_name, permissions });
        }
        defs
    }

    fn target(&mut self, i: usize, spec: &'a OrgSpec, defined: &BTreeMap<String, RoleDef>) -> Target<'a> {
        let existing = self.ix.org_by_name.get(spec.name.as_str()).copied();
        if let Some(p) = name_problem(&spec.name) {
            self.problem(path(i, "name"), format!("organization name: {p}"), "");
        } else if spec.name == "default" {
            self.problem(path(i, "name"), "`default` is reserved by Coder".into(), "pick another name");
        }
        if existing.is_some_and(|o| o.is_default) {
            let help = "name a new organization; the default one is what is being split";
            self.problem(path(i, "name"), format!("`{}` is the default organization", spec.name), help);
        }
        if let Some(p) = crate::model::names::display_name_problem(&spec.display_name) {
            let help = "at most 64 characters, no white space at either end";
            self.problem(path(i, "display_name"), format!("Coder refuses this display name: {p}"), help);
        }
        let display_name = if spec.display_name.is_empty() { spec.name.clone() } else { spec.display_name.clone() };
        let mut t = Target {
            spec,
            name: spec.name.clone(),
            display_name,
            existing,
            members: BTreeMap::new(),
            groups: Vec::new(),
            templates: Vec::new(),
            custom_roles: Vec::new(),
            key: None,
        };
        self.groups(i, &mut t);
        self.users(i, &mut t);
        for (field, map) in [("claims", &spec.claims), ("people", &spec.people)] {
            self.attributes(i, field, map, &mut t);
        }
        self.roles(i, &mut t, defined);
        self.templates(i, &mut t);
        self.provisioning(i, &mut t);
        self.sync(i, &t);
        t
    }

    fn add_member<'t>(t: &'t mut Target<'a>, user: &'a str, reason: String) -> &'t mut Selected {
        let m = t.members.entry(user).or_default();
        m.reasons.insert(reason);
        m
    }

    fn groups(&mut self, i: usize, t: &mut Target<'a>) {
        for (j, name) in t.spec.groups.iter().enumerate() {
            let (org, group) = name.split_once('/').unwrap_or(("", name));
            if group == "Everyone" {
                let help = "name the teams' groups; Everyone would move the whole organization";
                self.problem(item(i, "groups", j), "the `Everyone` group cannot be split off".into(), help);
                continue;
            }
            let found: Vec<&'a Group> = self
                .s
                .groups
                .iter()
                .filter(|g| g.name == group && !g.is_everyone())
                .filter(|g| {
                    let o = self.ix.org_name(&g.organization_id);
                    if org.is_empty() { !self.target_names.contains(o) } else { o == org }
                })
                .collect();
            match found.as_slice() {
                [g] => {
                    // The plan makes a group of this name in the new org: one Coder refuses would fail there.
                    if let Some(p) = crate::model::names::group_name_problem(&g.name) {
                        let help = "rename the group in Coder first (`coder groups edit`), then import again";
                        self.problem(
                            item(i, "groups", j),
                            format!("Coder refuses the group name `{}`: {p}", g.name.escape_debug()),
                            help,
                        );
                    }
                    for u in &g.members {
                        if let Some(user) = self.ix.user_by_id.get(u.as_str()) {
                            Self::add_member(t, &user.id, format!("group:{}", g.name));
                        }
                    }
                    if t.groups.iter().any(|x| x.name == g.name) {
                        let help = "a group name can be used once per organization";
                        self.problem(item(i, "groups", j), format!("two groups named `{}`", g.name), help);
                    }
                    t.groups.push(g);
                }
                [] => {
                    let known = self.s.groups.iter().filter(|g| !g.is_everyone()).map(|g| g.name.as_str());
                    let help = did_you_mean(group, known).unwrap_or_else(|| "see `orgsplit inventory`".into());
                    self.problem(item(i, "groups", j), format!("no group named `{name}`"), &help);
                }
                several => {
                    let orgs: Vec<String> =
                        several.iter().map(|g| self.ix.org_name(&g.organization_id).to_string()).collect();
                    let help = format!("write `<org>/{group}`, with the org one of: {}", orgs.join(", "));
                    self.problem(item(i, "groups", j), format!("`{group}` is a group in several orgs"), &help);
                }
            }
        }
        t.groups.sort_by(|a, b| a.name.cmp(&b.name));
    }

    fn user(&mut self, at: Vec<Seg>, username: &str) -> Option<&'a str> {
        match self.ix.user_by_name.get(username) {
            Some(u) => Some(u.id.as_str()),
            None => {
                let known = self.s.users.iter().map(|u| u.username.as_str());
                let help = did_you_mean(username, known).unwrap_or_else(|| "usernames, not emails".into());
                self.problem(at, format!("no user named `{username}`"), &help);
                None
            }
        }
    }

    fn users(&mut self, i: usize, t: &mut Target<'a>) {
        for (j, name) in t.spec.users.iter().enumerate() {
            if let Some(u) = self.user(item(i, "users", j), name) {
                Self::add_member(t, u, "user".into());
            }
        }
    }

    /// `claims` and `people`: users whose people attribute holds one of the values.
    fn attributes(&mut self, i: usize, field: &str, map: &BTreeMap<String, Vec<String>>, t: &mut Target<'a>) {
        if map.is_empty() {
            return;
        }
        let Some(people) = &self.s.people else {
            let help = "import with `--people FILE.csv` (an HR or IdP export) so the plan can see them";
            self.problem(path(i, field), format!("`{field}` need people attributes, and the snapshot has none"), help);
            return;
        };
        for (column, values) in map {
            let at = {
                let mut p = path(i, field);
                p.push(column.as_str().into());
                p
            };
            if !people.columns.iter().any(|c| c == column) {
                let help = format!("the people columns are: {}", people.columns.join(", "));
                self.problem(at, format!("no people column `{column}`"), &help);
                continue;
            }
            let wanted: BTreeSet<&str> = values.iter().map(String::as_str).collect();
            let mut matched = BTreeSet::new();
            for r in &people.records {
                let Some(value) = r.attributes.get(column) else { continue };
                for v in value.split(';').map(str::trim).filter(|v| wanted.contains(v)) {
                    matched.insert(v.to_string());
                    if let Some(u) = self.ix.user_by_id.get(r.user_id.as_str()) {
                        let reason = if field == "claims" { "claim" } else { "people" };
                        Self::add_member(t, &u.id, format!("{reason}:{column}={v}"));
                    }
                }
            }
            for v in wanted.iter().filter(|v| !matched.contains(**v)) {
                self.findings.push(unmatched(&t.name, &format!("{field}.{column} = `{v}`"), "no one has that value"));
            }
        }
    }

    fn roles(&mut self, i: usize, t: &mut Target<'a>, defined: &BTreeMap<String, RoleDef>) {
        for (j, name) in t.spec.custom_roles.iter().enumerate() {
            match defined.get(name) {
                Some(def) => t.custom_roles.push(def.clone()),
                None => {
                    let help = "define it under [[custom_roles]], or use provisioner-admin, template-editor or template-pusher";
                    self.problem(item(i, "custom_roles", j), format!("no custom role named `{name}`"), help);
                }
            }
        }
        let existing_custom: BTreeSet<&str> = match t.existing {
            Some(o) => {
                self.s.custom_roles.iter().filter(|r| r.organization_id == o.id).map(|r| r.name.as_str()).collect()
            }
            None => BTreeSet::new(),
        };
        let valid: BTreeSet<String> = BUILT_IN_ORG_ROLES
            .iter()
            .map(|r| r.to_string())
            .chain(t.custom_roles.iter().map(|r| r.name.clone()))
            .chain(existing_custom.iter().map(|r| r.to_string()))
            .collect();
        for (j, name) in t.spec.admins.iter().enumerate() {
            if let Some(u) = self.user(item(i, "admins", j), name) {
                Self::add_member(t, u, "admin".into()).roles.insert("organization-admin".into());
            }
        }
        for (role, users) in &t.spec.roles {
            let at = {
                let mut p = path(i, "roles");
                p.push(role.as_str().into());
                p
            };
            if !valid.contains(role) {
                let help = format!("org roles are: {}", valid.iter().cloned().collect::<Vec<_>>().join(", "));
                let d = self.doc.key_diagnostic(&at, format!("no org role named `{role}`")).help(help);
                self.problems.push(d);
                continue;
            }
            for (j, name) in users.iter().enumerate() {
                let mut at = at.clone();
                at.push(j.into());
                if let Some(u) = self.user(at, name) {
                    Self::add_member(t, u, format!("role:{role}")).roles.insert(role.clone());
                }
            }
        }
        if let Some(rs) = &t.spec.role_sync {
            for (claim, roles) in &rs.mapping {
                for (j, role) in roles.iter().enumerate().filter(|(_, r)| !valid.contains(*r)) {
                    let mut at = path(i, "role_sync");
                    at.extend(["mapping".into(), claim.as_str().into(), j.into()]);
                    self.problem(at, format!("role sync maps `{claim}` to `{role}`, which is not an org role"), "");
                }
            }
        }
    }
}

pub(super) fn unmatched(org: &str, what: &str, why: &str) -> Finding {
    Finding {
        code: "unmatched-selector".into(),
        severity: Severity::Warning,
        message: format!("in `{org}`, {what} matches nothing: {why}"),
        help: Some("check the split file for a typo, or remove the entry".into()),
        affects: vec![Affected { kind: "organization".into(), org: None, name: org.into(), id: None }],
    }
}

/// "did you mean `x`?" for a name close to a known one.
pub(super) fn did_you_mean<'x>(name: &str, known: impl Iterator<Item = &'x str>) -> Option<String> {
    crate::tomlread::did_you_mean(name, known)
}
