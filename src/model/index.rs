//! Lookups over a snapshot, built once: objects by id and by name, and the
//! relations the API expresses with ids (members of an org, groups of a user,
//! workspaces of a template, ...). Every list it hands out is in canonical order.

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use super::*;

pub struct Index<'a> {
    pub snapshot: &'a Snapshot,
    pub org_by_id: HashMap<&'a str, &'a Organization>,
    pub org_by_name: HashMap<&'a str, &'a Organization>,
    pub user_by_id: HashMap<&'a str, &'a User>,
    pub user_by_name: HashMap<&'a str, &'a User>,
    pub user_by_email: HashMap<String, &'a User>,
    pub group_by_id: HashMap<&'a str, &'a Group>,
    pub template_by_id: HashMap<&'a str, &'a Template>,
    pub version_by_id: HashMap<&'a str, &'a TemplateVersion>,
    /// org id -> member user ids, sorted.
    pub members_of_org: HashMap<&'a str, Vec<&'a str>>,
    /// user id -> org ids, sorted.
    pub orgs_of_user: HashMap<&'a str, Vec<&'a str>>,
    /// user id -> group ids (Everyone groups excluded), sorted.
    pub groups_of_user: HashMap<&'a str, Vec<&'a str>>,
    /// template id -> workspaces on it.
    pub workspaces_of_template: HashMap<&'a str, Vec<&'a Workspace>>,
    /// owner id -> workspaces.
    pub workspaces_of_user: HashMap<&'a str, Vec<&'a Workspace>>,
    /// (org id, user id) -> membership.
    pub membership: HashMap<(&'a str, &'a str), &'a OrganizationMember>,
}

impl<'a> Index<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Index<'a> {
        let org_by_id = snapshot.organizations.iter().map(|o| (o.id.as_str(), o)).collect();
        let org_by_name = snapshot.organizations.iter().map(|o| (o.name.as_str(), o)).collect();
        let user_by_id = snapshot.users.iter().map(|u| (u.id.as_str(), u)).collect();
        let user_by_name = snapshot.users.iter().map(|u| (u.username.as_str(), u)).collect();
        let user_by_email = snapshot.users.iter().map(|u| (u.email.to_lowercase(), u)).collect();
        let group_by_id = snapshot.groups.iter().map(|g| (g.id.as_str(), g)).collect();
        let template_by_id = snapshot.templates.iter().map(|t| (t.id.as_str(), t)).collect();
        let version_by_id = snapshot.template_versions.iter().map(|v| (v.id.as_str(), v)).collect();

        let mut members_of_org: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut orgs_of_user: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut membership = HashMap::new();
        for m in &snapshot.organization_members {
            members_of_org.entry(&m.organization_id).or_default().push(&m.user_id);
            orgs_of_user.entry(&m.user_id).or_default().push(&m.organization_id);
            membership.insert((m.organization_id.as_str(), m.user_id.as_str()), m);
        }
        let mut groups_of_user: HashMap<&str, Vec<&str>> = HashMap::new();
        for g in snapshot.groups.iter().filter(|g| !g.is_everyone()) {
            for u in &g.members {
                groups_of_user.entry(u).or_default().push(&g.id);
            }
        }
        let mut workspaces_of_template: HashMap<&str, Vec<&Workspace>> = HashMap::new();
        let mut workspaces_of_user: HashMap<&str, Vec<&Workspace>> = HashMap::new();
        for w in &snapshot.workspaces {
            workspaces_of_template.entry(&w.template_id).or_default().push(w);
            workspaces_of_user.entry(&w.owner_id).or_default().push(w);
        }
        for v in members_of_org.values_mut().chain(orgs_of_user.values_mut()).chain(groups_of_user.values_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        Index {
            snapshot,
            org_by_id,
            org_by_name,
            user_by_id,
            user_by_name,
            user_by_email,
            group_by_id,
            template_by_id,
            version_by_id,
            members_of_org,
            orgs_of_user,
            groups_of_user,
            workspaces_of_template,
            workspaces_of_user,
            membership,
        }
    }

    pub fn org_name(&self, id: &str) -> &'a str {
        self.org_by_id.get(id).map(|o| o.name.as_str()).unwrap_or("(unknown org)")
    }

    pub fn username(&self, id: &str) -> &'a str {
        self.user_by_id.get(id).map(|u| u.username.as_str()).unwrap_or("(unknown user)")
    }

    /// Users who use a template: owners of its live workspaces, users granted
    /// it directly, and members of groups granted it (Everyone excluded, as it
    /// would make every template used by everyone).
    pub fn template_users(&self, template: &Template) -> BTreeSet<&'a str> {
        // Gathered in a vector: a set built from one at the end (sorted,
        // then built in one go) is several times faster than one insert
        // at a time, for the 2,500 templates of a large deployment.
        let mut users: Vec<&'a str> = Vec::new();
        for w in self.workspaces_of_template.get(template.id.as_str()).into_iter().flatten() {
            if !w.is_deleted_or_deleting() {
                users.push(&w.owner_id);
            }
        }
        if let Some(acl) = &template.acl {
            for e in &acl.users {
                if let Some(u) = self.user_by_id.get(e.id.as_str()) {
                    users.push(&u.id);
                }
            }
            for e in &acl.group {
                if let Some(g) = self.group_by_id.get(e.id.as_str()).filter(|g| !g.is_everyone()) {
                    users.extend(g.members.iter().map(String::as_str));
                }
            }
        }
        users.into_iter().collect()
    }

    /// Groups (Everyone excluded) whose members own workspaces on the
    /// template or that the template's ACL grants, with the number of members involved.
    pub fn template_groups(&self, template: &Template) -> BTreeMap<&'a str, usize> {
        let users = self.template_users(template);
        let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
        for u in &users {
            for g in self.groups_of_user.get(u).into_iter().flatten() {
                *groups.entry(g).or_default() += 1;
            }
        }
        if let Some(acl) = &template.acl {
            for e in &acl.group {
                if let Some(g) = self.group_by_id.get(e.id.as_str()).filter(|g| !g.is_everyone()) {
                    groups.entry(&g.id).or_default();
                }
            }
        }
        groups
    }
}
