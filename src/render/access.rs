//! `diff --access`: per user, the orgs they belong to, the org roles they
//! hold and the templates they can use (for new workspaces: deprecated ones
//! do not count), before vs after. Users gaining admin-level permissions come
//! first. What every member of an org can use (the Everyone group's grants)
//! is shown once per org instead of once per member, which keeps the output
//! readable (and small) at 50,000 users.
//!
//! Workspace shares count too: a user or group a workspace is shared with
//! holds access to it. A workspace the plan moves is re-created in its new
//! org unshared (a group belongs to one org, and a share is not copied), so
//! each holder loses access; each line says whether it can be shared with
//! them again there (a member of the new org, where sharing is allowed) or
//! not. [`render_json`] gives the same changes as JSON.

use foldhash::{HashMap, HashMapExt};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::plain;
use crate::model::{Index, Permission, Snapshot, Template, Workspace};
use crate::plan::Plan;
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
    /// username -> "owner/workspace" -> role, from shares with the user and their groups
    shares: HashMap<String, BTreeMap<String, String>>,
    /// (username, "owner/workspace") -> why the share is gone (a moved workspace)
    share_why: HashMap<(String, String), String>,
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
        shares: HashMap::new(),
        share_why: HashMap::new(),
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
    for w in s.workspaces.iter().filter(|w| !w.is_deleted_or_deleting()) {
        shares(&ix, w, &mut v);
    }
    v
}

/// Who `w` is shared with: its users, and the members of its groups (all
/// the org's members for its Everyone group); never its owner.
fn shares(ix: &Index<'_>, w: &Workspace, v: &mut View) {
    let Some(sh) = w.shares.as_ref() else { return };
    let name = format!("{}/{}", w.owner_name, w.name);
    let mut grant = |user: &str, role: &str| {
        if user == w.owner_id {
            return;
        }
        let entry = v.shares.entry(ix.username(user).to_string()).or_default();
        let now = stronger(entry.get(&name).map(String::as_str), Some(role)).unwrap_or(role).to_string();
        entry.insert(name.clone(), now);
    };
    for e in &sh.users {
        grant(&e.id, &e.role);
    }
    for e in &sh.groups {
        let Some(g) = ix.group_by_id.get(e.id.as_str()) else { continue };
        if g.is_everyone() {
            for u in ix.members_of_org.get(g.organization_id.as_str()).into_iter().flatten() {
                grant(u, &e.role);
            }
        } else {
            for u in &g.members {
                grant(u, &e.role);
            }
        }
    }
}

/// The workspaces `plan` moves, in the after-state's view `v` of `after`:
/// each old workspace's shares are gone (its new workspace starts
/// unshared), with the reason, and whether the share can be made again.
pub fn move_workspaces(v: &mut View, after: &Snapshot, plan: &Plan) {
    if v.shares.is_empty() || plan.workspace_migrations.is_empty() {
        return;
    }
    // "owner/workspace" -> its holders (only shared workspaces are looked up).
    let mut holders: HashMap<String, Vec<String>> = HashMap::new();
    for (user, held) in &v.shares {
        for ws in held.keys() {
            holders.entry(ws.clone()).or_default().push(user.clone());
        }
    }
    let sharing: HashMap<&str, Option<&str>> =
        after.organizations.iter().map(|o| (o.name.as_str(), o.shareable_workspace_owners.as_deref())).collect();
    for m in &plan.workspace_migrations {
        let ws = format!("{}/{}", m.owner.username, m.old.name);
        let Some(list) = holders.get(&ws) else { continue };
        let org = &m.new.org;
        let moved = format!("moves to {org} as {}/{}, which starts unshared", m.owner.username, m.new.workspace_name);
        for user in list {
            if let Some(held) = v.shares.get_mut(user) {
                held.remove(&ws);
            }
            let member = v.orgs.get(user).is_some_and(|o| o.contains(org));
            let why = match sharing.get(org.as_str()).copied().flatten() {
                Some("none") => format!("{moved}; sharing is off in {org}, so it cannot be shared again"),
                Some("service_accounts") if !m.owner.is_service_account => format!(
                    "{moved}; only service accounts' workspaces may be shared in {org}, so it cannot be shared again"
                ),
                _ if !member => format!("{moved}; not a member of {org}, so it cannot be shared with them again"),
                _ => format!("{moved}; share it again there to give access back"),
            };
            v.share_why.insert((user.clone(), ws.clone()), why);
        }
    }
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

/// One thing gained (`+`) or lost (`-`).
#[derive(Serialize)]
pub struct Change {
    /// `gain` or `lose`.
    change: &'static str,
    /// `member`, `role`, `template` or `workspace` for a user; `everyone`
    /// for an org (a template every member can use).
    kind: &'static str,
    /// The org; `org: role`; `org/template` (the template alone for an
    /// org's Everyone group); `owner/workspace`.
    name: String,
    /// The template's or the share's role (`use` or `admin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    /// Why it is lost, when there is more to say (`deprecated`, a moved workspace).
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
}

impl Change {
    fn new(gain: bool, kind: &'static str, name: &str, role: Option<&str>, why: Option<String>) -> Change {
        let change = if gain { "gain" } else { "lose" };
        Change { change, kind, name: name.to_string(), role: role.map(String::from), why }
    }

    /// The line of the text form.
    fn line(&self) -> String {
        let sign = if self.change == "gain" { '+' } else { '-' };
        let role = self.role.as_ref().map_or(String::new(), |r| format!(" ({r})"));
        let why = self.why.as_ref().map_or(String::new(), |w| format!(": {w}"));
        match self.kind {
            "member" => format!("{sign} member of {}", self.name),
            "role" => format!("{sign} role {}", self.name),
            "everyone" => format!("{sign} {}{role}{why}", self.name),
            kind => format!("{sign} {kind} {}{role}{why}", self.name),
        }
    }
}

#[derive(Serialize)]
struct UserChange {
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// Gains admin-level permissions (an admin role, or admin on a template
    /// they did not administer before).
    admin_level: bool,
    changes: Vec<Change>,
}

#[derive(Serialize)]
struct OrgChange {
    name: String,
    /// Created by the plan.
    new: bool,
    members: usize,
    /// What every member can use (its Everyone group), gained and lost.
    changes: Vec<Change>,
}

fn user_changes(before: &View, after: &View) -> Vec<UserChange> {
    let empty_set = BTreeSet::new();
    let empty_map = BTreeMap::new();
    let mut users: BTreeSet<&String> = before.orgs.keys().chain(after.orgs.keys()).collect();
    users.extend(before.templates.keys().chain(after.templates.keys()));
    users.extend(before.shares.keys().chain(after.shares.keys()));
    let mut out = Vec::new();
    for u in users {
        let mut lines = Vec::new();
        let mut admin = false;
        let (ob, oa) = (before.orgs.get(u).unwrap_or(&empty_set), after.orgs.get(u).unwrap_or(&empty_set));
        lines.extend(oa.difference(ob).map(|o| Change::new(true, "member", o, None, None)));
        lines.extend(ob.difference(oa).map(|o| Change::new(false, "member", o, None, None)));
        let (rb, ra) = (before.roles.get(u).unwrap_or(&empty_set), after.roles.get(u).unwrap_or(&empty_set));
        for r in ra.difference(rb) {
            admin |= after.admin_roles.get(r).copied().unwrap_or(false);
            lines.push(Change::new(true, "role", r, None, None));
        }
        lines.extend(rb.difference(ra).map(|r| Change::new(false, "role", r, None, None)));
        let (tb, ta) = (before.templates.get(u).unwrap_or(&empty_map), after.templates.get(u).unwrap_or(&empty_map));
        // Admin on a copy of a template they already administered is not new power.
        let administered: BTreeSet<&str> =
            tb.iter().filter(|(_, r)| *r == "admin").filter_map(|(t, _)| t.split_once('/').map(|x| x.1)).collect();
        for (t, role) in ta.iter().filter(|(t, r)| tb.get(*t) != Some(*r)) {
            admin |= role == "admin" && !t.split_once('/').is_some_and(|(_, name)| administered.contains(name));
            lines.push(Change::new(true, "template", t, Some(role), None));
        }
        for (t, role) in tb.iter().filter(|(t, r)| ta.get(*t) != Some(*r)) {
            let why = after.deprecated.contains(t).then(|| "deprecated".to_string());
            lines.push(Change::new(false, "template", t, Some(role), why));
        }
        let (sb, sa) = (before.shares.get(u).unwrap_or(&empty_map), after.shares.get(u).unwrap_or(&empty_map));
        for (w, role) in sa.iter().filter(|(w, r)| sb.get(*w) != Some(*r)) {
            lines.push(Change::new(true, "workspace", w, Some(role), None));
        }
        for (w, role) in sb.iter().filter(|(w, r)| sa.get(*w) != Some(*r)) {
            let why = after.share_why.get(&(u.clone(), w.clone())).cloned();
            lines.push(Change::new(false, "workspace", w, Some(role), why));
        }
        if !lines.is_empty() {
            let email = after.emails.get(u).or_else(|| before.emails.get(u)).cloned();
            out.push(UserChange { username: u.clone(), email, admin_level: admin, changes: lines });
        }
    }
    out
}

fn org_changes(b: &View, a: &View) -> Vec<OrgChange> {
    let names: BTreeSet<&String> = b.everyone.keys().chain(a.everyone.keys()).chain(a.members.keys()).collect();
    let empty = BTreeMap::new();
    let mut out = Vec::new();
    for org in names {
        let (eb, ea) = (b.everyone.get(org).unwrap_or(&empty), a.everyone.get(org).unwrap_or(&empty));
        let mut changes: Vec<Change> = ea
            .iter()
            .filter(|(t, r)| eb.get(*t) != Some(*r))
            .map(|(t, r)| Change::new(true, "everyone", t, Some(r), None))
            .collect();
        for (t, r) in eb.iter().filter(|(t, r)| ea.get(*t) != Some(*r)) {
            let why = a.deprecated.contains(&format!("{org}/{t}")).then(|| "deprecated".to_string());
            changes.push(Change::new(false, "everyone", t, Some(r), why));
        }
        if !changes.is_empty() {
            out.push(OrgChange {
                name: org.clone(),
                new: !b.members.contains_key(org),
                members: a.members.get(org).copied().unwrap_or(0),
                changes,
            });
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
    for o in org_changes(b, a) {
        let new = if o.new { "new, " } else { "" };
        let _ = writeln!(orgs, "  {} ({new}{} members)", plain(&o.name), o.members);
        for c in &o.changes {
            let _ = writeln!(orgs, "    {}", paint(&c.line(), color));
        }
    }
    if changes.is_empty() && orgs.is_empty() {
        return String::new();
    }
    let (admins, others): (Vec<&UserChange>, Vec<&UserChange>) = changes.iter().partition(|c| c.admin_level);
    let mut out = format!("Access before -> after: {} users gain or lose something\n", changes.len());
    for (title, list) in [("Gaining admin-level permissions", &admins), ("Other changes", &others)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} ({} users)", list.len());
        for c in list.iter() {
            let email = c.email.as_ref().map_or(String::new(), |e| format!(" <{e}>"));
            let _ = writeln!(out, "  {}", plain(&format!("{}{email}", c.username)));
            for l in &c.changes {
                let _ = writeln!(out, "    {}", paint(&l.line(), color));
            }
        }
    }
    if !orgs.is_empty() {
        let _ = writeln!(out, "\nWhat every member of an organization can use (its Everyone group)\n{orgs}");
    }
    out
}

#[derive(Serialize)]
struct JsonDiff<'x> {
    /// Users who gain or lose something, by username.
    users: Vec<UserChange>,
    /// What every member of an org can use, where it changes, by org name.
    organizations: Vec<OrgChange>,
    /// The plan's summary line.
    summary: &'x str,
}

/// The access diff of two views as JSON (ending in a newline): the same
/// changes as [`render`], users by username, with the plan's `summary` line.
pub fn render_json(b: &View, a: &View, summary: &str) -> String {
    let doc = JsonDiff { users: user_changes(b, a), organizations: org_changes(b, a), summary };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// Whether the two views grant the same.
pub fn unchanged(b: &View, a: &View) -> bool {
    user_changes(b, a).is_empty() && org_changes(b, a).is_empty()
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
