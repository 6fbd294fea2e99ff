//! `diff --access`: per user, the orgs they belong to, the org roles they
//! hold and the templates they can use (for new workspaces: deprecated ones
//! do not count), before vs after. Users gaining admin-level permissions come
//! first. What every member of an org can use (the Everyone group's grants)
//! is shown once per org instead of once per member, which keeps the output
//! readable (and small) at 50,000 users.

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::plain;
use crate::model::{Index, Permission, Snapshot, Template};
use crate::plan::access::stronger;
use crate::plan::roles::is_admin_level;

/// What one state grants (see [`view`]).
pub struct View {
    /// username -> orgs
    orgs: HashMap<String, BTreeSet<String>>,
    /// username -> "org: role"
    roles: HashMap<String, BTreeSet<String>>,
    /// username -> "org/template" -> role, from the user's own grants and their groups'
    templates: HashMap<String, BTreeMap<String, String>>,
    /// org -> template -> role, for every member (the Everyone group)
    everyone: BTreeMap<String, BTreeMap<String, String>>,
    /// "org: role" -> admin-level?
    admin_roles: HashMap<String, bool>,
    members: BTreeMap<String, usize>,
    deprecated: BTreeSet<String>,
    emails: HashMap<String, String>,
}

/// What a state grants, to compare with [`render`].
pub fn view(s: &Snapshot) -> View {
    let ix = Index::new(s);
    let mut v = View {
        orgs: HashMap::new(),
        roles: HashMap::new(),
        templates: HashMap::new(),
        everyone: BTreeMap::new(),
        admin_roles: HashMap::new(),
        members: BTreeMap::new(),
        deprecated: BTreeSet::new(),
        emails: s.users.iter().map(|u| (u.username.clone(), u.email.clone())).collect(),
    };
    let custom: HashMap<(&str, &str), &[Permission]> = s
        .custom_roles
        .iter()
        .map(|r| ((r.organization_id.as_str(), r.name.as_str()), r.organization_permissions.as_slice()))
        .collect();
    for m in &s.organization_members {
        let (org, user) = (ix.org_name(&m.organization_id).to_string(), ix.username(&m.user_id).to_string());
        *v.members.entry(org.clone()).or_default() += 1;
        // The org's default member roles are unioned into every member's roles.
        let defaults = ix.org_by_id.get(m.organization_id.as_str()).and_then(|o| o.default_org_member_roles.as_ref());
        for r in m.roles.iter().flatten().chain(defaults.into_iter().flatten()) {
            let key = format!("{org}: {r}");
            let admin = is_admin_level(r, custom.get(&(m.organization_id.as_str(), r.as_str())).copied());
            v.admin_roles.insert(key.clone(), admin);
            v.roles.entry(user.clone()).or_default().insert(key);
        }
        v.orgs.entry(user).or_default().insert(org);
    }
    for t in &s.templates {
        let org = ix.org_name(&t.organization_id);
        let name = format!("{org}/{}", t.name);
        if t.deprecated {
            v.deprecated.insert(name);
            continue;
        }
        grants(&ix, t, org, &name, &mut v);
    }
    v
}

fn grants(ix: &Index<'_>, t: &Template, org: &str, name: &str, v: &mut View) {
    let mut grant = |user: &str, role: &str| {
        let entry = v.templates.entry(ix.username(user).to_string()).or_default();
        let now = stronger(entry.get(name).map(String::as_str), Some(role)).unwrap_or(role).to_string();
        entry.insert(name.to_string(), now);
    };
    let Some(acl) = &t.acl else {
        v.everyone.entry(org.into()).or_default().insert(t.name.clone(), "use".into());
        return;
    };
    for e in &acl.users {
        grant(&e.id, &e.role);
    }
    for e in &acl.group {
        if e.id == t.organization_id {
            v.everyone.entry(org.into()).or_default().insert(t.name.clone(), e.role.clone());
        } else if let Some(g) = ix.group_by_id.get(e.id.as_str()) {
            for u in &g.members {
                grant(u, &e.role);
            }
        }
    }
}

struct UserChange {
    name: String,
    lines: Vec<String>,
    admin: bool,
}

fn user_changes(before: &View, after: &View) -> Vec<UserChange> {
    let empty_set = BTreeSet::new();
    let empty_map = BTreeMap::new();
    let mut users: BTreeSet<&String> = before.orgs.keys().chain(after.orgs.keys()).collect();
    users.extend(before.templates.keys().chain(after.templates.keys()));
    let mut out = Vec::new();
    for u in users {
        let mut lines = Vec::new();
        let mut admin = false;
        let (ob, oa) = (before.orgs.get(u).unwrap_or(&empty_set), after.orgs.get(u).unwrap_or(&empty_set));
        lines.extend(oa.difference(ob).map(|o| format!("+ member of {o}")));
        lines.extend(ob.difference(oa).map(|o| format!("- member of {o}")));
        let (rb, ra) = (before.roles.get(u).unwrap_or(&empty_set), after.roles.get(u).unwrap_or(&empty_set));
        for r in ra.difference(rb) {
            admin |= after.admin_roles.get(r).copied().unwrap_or(false);
            lines.push(format!("+ role {r}"));
        }
        lines.extend(rb.difference(ra).map(|r| format!("- role {r}")));
        let (tb, ta) = (before.templates.get(u).unwrap_or(&empty_map), after.templates.get(u).unwrap_or(&empty_map));
        // Admin on a copy of a template they already administered is not new power.
        let administered: BTreeSet<&str> =
            tb.iter().filter(|(_, r)| *r == "admin").filter_map(|(t, _)| t.split_once('/').map(|x| x.1)).collect();
        for (t, role) in ta.iter().filter(|(t, r)| tb.get(*t) != Some(*r)) {
            admin |= role == "admin" && !t.split_once('/').is_some_and(|(_, name)| administered.contains(name));
            lines.push(format!("+ template {t} ({role})"));
        }
        for (t, role) in tb.iter().filter(|(t, r)| ta.get(*t) != Some(*r)) {
            let why = if after.deprecated.contains(t) { ": deprecated" } else { "" };
            lines.push(format!("- template {t} ({role}){why}"));
        }
        if !lines.is_empty() {
            out.push(UserChange { name: u.clone(), lines, admin });
        }
    }
    out
}

/// The access diff; empty when nobody gains or loses anything.
pub fn access_diff(before: &Snapshot, after: &Snapshot, color: bool) -> String {
    render(&view(before), &view(after), color)
}

/// The access diff of two views.
pub fn render(b: &View, a: &View, color: bool) -> String {
    let changes = user_changes(b, a);
    let mut orgs = String::new();
    let names: BTreeSet<&String> = b.everyone.keys().chain(a.everyone.keys()).chain(a.members.keys()).collect();
    let empty = BTreeMap::new();
    for org in names {
        let (eb, ea) = (b.everyone.get(org).unwrap_or(&empty), a.everyone.get(org).unwrap_or(&empty));
        let mut lines: Vec<String> =
            ea.iter().filter(|(t, r)| eb.get(*t) != Some(*r)).map(|(t, r)| format!("+ {t} ({r})")).collect();
        for (t, r) in eb.iter().filter(|(t, r)| ea.get(*t) != Some(*r)) {
            let why = if a.deprecated.contains(&format!("{org}/{t}")) { ": deprecated" } else { "" };
            lines.push(format!("- {t} ({r}){why}"));
        }
        if !lines.is_empty() {
            let new = if b.members.contains_key(org) { "" } else { "new, " };
            let _ = writeln!(orgs, "  {} ({new}{} members)", plain(org), a.members.get(org).copied().unwrap_or(0));
            for l in lines {
                let _ = writeln!(orgs, "    {}", paint(&l, color));
            }
        }
    }
    if changes.is_empty() && orgs.is_empty() {
        return String::new();
    }
    let (admins, others): (Vec<&UserChange>, Vec<&UserChange>) = changes.iter().partition(|c| c.admin);
    let mut out = format!("Access before -> after: {} users gain or lose something\n", changes.len());
    for (title, list) in [("Gaining admin-level permissions", &admins), ("Other changes", &others)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} ({} users)", list.len());
        for c in list.iter() {
            let email =
                a.emails.get(&c.name).or_else(|| b.emails.get(&c.name)).map_or(String::new(), |e| format!(" <{e}>"));
            let _ = writeln!(out, "  {}", plain(&format!("{}{email}", c.name)));
            for l in &c.lines {
                let _ = writeln!(out, "    {}", paint(l, color));
            }
        }
    }
    if !orgs.is_empty() {
        let _ = writeln!(out, "\nWhat every member of an organization can use (its Everyone group)\n{orgs}");
    }
    out
}

const GREEN: anstyle::Style = anstyle::AnsiColor::Green.on_default();
const RED: anstyle::Style = anstyle::AnsiColor::Red.on_default();

/// A line for the terminal: names in it cannot drive the terminal (and the
/// only escape sequences are the colours added here).
fn paint(line: &str, color: bool) -> String {
    let line = plain(line);
    match line.as_bytes().first() {
        Some(b'+') if color => format!("{GREEN}{line}{GREEN:#}"),
        Some(b'-') if color => format!("{RED}{line}{RED:#}"),
        _ => line,
    }
}
