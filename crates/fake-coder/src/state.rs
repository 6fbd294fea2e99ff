//! The fake deployment's state: a `Snapshot` (what orgsplit reads back), and
//! what a Coder server holds beyond it (tokens, uploaded files, provisioner
//! jobs of new template versions, provisioner key secrets, template fields
//! the snapshot does not keep). Lookups go through an index that each write
//! through the API updates for what it touches (`reindex` rebuilds it whole,
//! after a test changes the state directly). Writes append to the snapshot's
//! lists and keep nested lists (group members, ACLs, roles) sorted; the
//! lists the API answers in order are sorted when read (`organizations`,
//! `groups`, ...), and `reindex` puts the snapshot back in canonical order
//! before a test looks at it.

use std::collections::{BTreeMap, HashMap};

use orgsplit::model::*;
use serde_json::Value;

/// A file uploaded through `POST /files`.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// The provisioner job of a template version created through the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Polls left before a matched job completes.
    pub polls_left: u32,
    /// `Some(error)` to make the build fail.
    pub error: Option<String>,
    /// Who created the version (a user id).
    pub initiator: String,
}

/// A Terraform variable of a template version (`codersdk.TemplateVersionVariable`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Variable {
    pub name: String,
    pub value: String,
    pub default_value: String,
    pub required: bool,
    pub sensitive: bool,
}

/// Template fields the API has and the snapshot does not keep.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateExtras {
    pub cors_behavior: String,
    pub use_classic_parameter_flow: bool,
}

impl Default for TemplateExtras {
    fn default() -> TemplateExtras {
        TemplateExtras { cors_behavior: "simple".into(), use_classic_parameter_flow: false }
    }
}

#[derive(Debug, Default)]
pub struct State {
    pub s: Snapshot,
    /// Session token -> user id.
    pub tokens: BTreeMap<String, String>,
    /// File id -> file. Files of the snapshot's template versions are made on demand.
    pub files: BTreeMap<String, StoredFile>,
    /// (sha256 of bytes, uploader) -> file id: the same upload twice gets the same id.
    pub file_ids: BTreeMap<(String, String), String>,
    pub jobs: BTreeMap<String, Job>,
    pub key_secrets: BTreeMap<String, String>,
    pub template_extras: BTreeMap<String, TemplateExtras>,
    /// Template version id -> its Terraform variables (none when absent).
    pub variables: BTreeMap<String, Vec<Variable>>,
    /// Template version id -> the `message` it was created with (none: "").
    pub version_messages: BTreeMap<String, String>,
    /// Polls a new template version's job takes to succeed once a daemon matches.
    pub build_polls: u32,
    /// Start a daemon with each provisioner key as soon as it is created (the
    /// admin who does so at once: the bench's apply, which has no one to do it).
    pub start_daemons: bool,
    /// Makes the next template version builds fail with this error.
    pub fail_builds: Option<String>,
    /// Counter for new ids.
    pub created: u64,
    /// Id -> the counter when it was made (creation order).
    pub created_ids: HashMap<String, u64>,
    /// The most rows a page of users, workspaces or members holds, whatever `limit` asks.
    pub max_page: Option<usize>,
    pub idx: Index,
    /// The snapshot's lists are in canonical order (false after a write through the API).
    pub canonical: bool,
}

#[derive(Debug, Default)]
pub struct Index {
    pub user: HashMap<String, usize>,
    pub username: HashMap<String, usize>,
    pub org: HashMap<String, usize>,
    pub org_name: HashMap<String, usize>,
    /// User id -> ids of their orgs, sorted.
    pub orgs_of_user: HashMap<String, Vec<String>>,
    /// Org id -> user id -> position in `organization_members`.
    pub members_of_org: HashMap<String, BTreeMap<String, usize>>,
    pub group: HashMap<String, usize>,
    /// (org id, group name) -> position in `groups`.
    pub group_name: HashMap<(String, String), usize>,
    pub template: HashMap<String, usize>,
    /// (org id, template name) -> position in `templates`.
    pub template_name: HashMap<(String, String), usize>,
    pub version: HashMap<String, usize>,
    /// Some workspace has shares (the API never adds them where there were none).
    pub workspace_shares: bool,
}

pub const NOW: &str = "2025-06-01T12:00:00Z";

impl State {
    pub fn new(mut snapshot: Snapshot) -> State {
        snapshot.canonicalize();
        let mut state = State { s: snapshot, build_polls: 1, ..State::default() };
        state.reindex();
        state
    }

    pub fn reindex(&mut self) {
        self.s.canonicalize();
        let s = &self.s;
        let mut idx = Index::default();
        for (i, u) in s.users.iter().enumerate() {
            idx.user.insert(u.id.clone(), i);
            idx.username.insert(u.username.clone(), i);
        }
        for (i, o) in s.organizations.iter().enumerate() {
            idx.org.insert(o.id.clone(), i);
            idx.org_name.insert(o.name.clone(), i);
        }
        for (i, m) in s.organization_members.iter().enumerate() {
            idx.orgs_of_user.entry(m.user_id.clone()).or_default().push(m.organization_id.clone());
            idx.members_of_org.entry(m.organization_id.clone()).or_default().insert(m.user_id.clone(), i);
        }
        idx.group = s.groups.iter().enumerate().map(|(i, g)| (g.id.clone(), i)).collect();
        idx.group_name =
            s.groups.iter().enumerate().map(|(i, g)| ((g.organization_id.clone(), g.name.clone()), i)).collect();
        idx.template = s.templates.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
        idx.template_name =
            s.templates.iter().enumerate().map(|(i, t)| ((t.organization_id.clone(), t.name.clone()), i)).collect();
        idx.version = s.template_versions.iter().enumerate().map(|(i, v)| (v.id.clone(), i)).collect();
        idx.workspace_shares = s.workspaces.iter().any(|w| w.shares.is_some());
        self.idx = idx;
        self.canonical = true;
    }

    // Writes through the API: each updates the indexes it touches, no more.

    pub fn push_org(&mut self, o: Organization) {
        self.idx.org.insert(o.id.clone(), self.s.organizations.len());
        self.idx.org_name.insert(o.name.clone(), self.s.organizations.len());
        self.s.organizations.push(o);
    }

    /// Renames an org (its id stays).
    pub fn rename_org(&mut self, id: &str, name: String) {
        let Some(&i) = self.idx.org.get(id) else { return };
        let old = std::mem::replace(&mut self.s.organizations[i].name, name.clone());
        if self.idx.org_name.get(&old) == Some(&i) {
            self.idx.org_name.remove(&old);
        }
        self.idx.org_name.insert(name, i);
    }

    pub fn org_mut(&mut self, id: &str) -> Option<&mut Organization> {
        let i = *self.idx.org.get(id)?;
        self.s.organizations.get_mut(i)
    }

    /// Adds a membership (the caller checked it is new), with its roles canonical.
    pub fn push_member(&mut self, mut m: OrganizationMember) {
        if let Some(roles) = &mut m.roles {
            roles.retain(|r| r != ORG_MEMBER_ROLE);
            sort_dedup(roles);
        }
        let orgs = self.idx.orgs_of_user.entry(m.user_id.clone()).or_default();
        if let Err(at) = orgs.binary_search(&m.organization_id) {
            orgs.insert(at, m.organization_id.clone());
        }
        let i = self.s.organization_members.len();
        self.idx.members_of_org.entry(m.organization_id.clone()).or_default().insert(m.user_id.clone(), i);
        self.s.organization_members.push(m);
    }

    /// Removes a membership: the last one takes its place in the list.
    pub fn remove_member(&mut self, org: &str, user: &str) {
        let Some(i) = self.idx.members_of_org.get_mut(org).and_then(|m| m.remove(user)) else { return };
        if let Some(orgs) = self.idx.orgs_of_user.get_mut(user) {
            orgs.retain(|o| o != org);
        }
        self.s.organization_members.swap_remove(i);
        if let Some(moved) = self.s.organization_members.get(i) {
            let slot = self.idx.members_of_org.get_mut(&moved.organization_id).and_then(|m| m.get_mut(&moved.user_id));
            if let Some(slot) = slot {
                *slot = i;
            }
        }
    }

    pub fn member_mut(&mut self, org: &str, user: &str) -> Option<&mut OrganizationMember> {
        let i = *self.idx.members_of_org.get(org)?.get(user)?;
        self.s.organization_members.get_mut(i)
    }

    /// Adds a group (the caller checked its name is free), members sorted.
    pub fn push_group(&mut self, mut g: Group) {
        sort_dedup(&mut g.members);
        let i = self.s.groups.len();
        self.idx.group.insert(g.id.clone(), i);
        self.idx.group_name.insert((g.organization_id.clone(), g.name.clone()), i);
        self.s.groups.push(g);
    }

    /// A group to change; `group_changed` puts its members and name index right after.
    pub fn group_mut(&mut self, id: &str) -> Option<&mut Group> {
        let i = *self.idx.group.get(id)?;
        self.s.groups.get_mut(i)
    }

    /// After a change through `group_mut` that may have renamed it (`old` its name before).
    pub fn group_changed(&mut self, id: &str, old: &str) {
        let Some(&i) = self.idx.group.get(id) else { return };
        let g = &mut self.s.groups[i];
        sort_dedup(&mut g.members);
        if g.name != old {
            let (org, name) = (g.organization_id.clone(), g.name.clone());
            if self.idx.group_name.get(&(org.clone(), old.to_string())) == Some(&i) {
                self.idx.group_name.remove(&(org.clone(), old.to_string()));
            }
            self.idx.group_name.insert((org, name), i);
        }
    }

    /// Adds `user` to a group's sorted members; false when already there.
    pub fn add_to_group(&mut self, id: &str, user: &str) -> bool {
        let Some(g) = self.group_mut(id) else { return false };
        match g.members.binary_search_by(|m| m.as_str().cmp(user)) {
            Ok(_) => false,
            Err(at) => {
                g.members.insert(at, user.to_string());
                true
            }
        }
    }

    pub fn group_by_name(&self, org: &str, name: &str) -> Option<&Group> {
        let i = self.idx.group_name.get(&(org.to_string(), name.to_string()))?;
        self.s.groups.get(*i)
    }

    /// Adds a template (the caller checked its name is free), its ACL sorted.
    pub fn push_template(&mut self, mut t: Template) {
        sort_acl(&mut t);
        let i = self.s.templates.len();
        self.idx.template.insert(t.id.clone(), i);
        self.idx.template_name.insert((t.organization_id.clone(), t.name.clone()), i);
        self.s.templates.push(t);
    }

    /// Replaces a template by id (its ACL sorted, the name index kept).
    pub fn set_template(&mut self, mut t: Template) {
        let Some(&i) = self.idx.template.get(&t.id) else { return };
        sort_acl(&mut t);
        let old = std::mem::replace(&mut self.s.templates[i], t);
        let t = &self.s.templates[i];
        if old.name != t.name || old.organization_id != t.organization_id {
            let key = (old.organization_id, old.name);
            if self.idx.template_name.get(&key) == Some(&i) {
                self.idx.template_name.remove(&key);
            }
            self.idx.template_name.insert((t.organization_id.clone(), t.name.clone()), i);
        }
    }

    pub fn template_by_name(&self, org: &str, name: &str) -> Option<&Template> {
        let i = self.idx.template_name.get(&(org.to_string(), name.to_string()))?;
        self.s.templates.get(*i)
    }

    pub fn push_version(&mut self, v: TemplateVersion) {
        self.idx.version.insert(v.id.clone(), self.s.template_versions.len());
        self.s.template_versions.push(v);
    }

    pub fn version_mut(&mut self, id: &str) -> Option<&mut TemplateVersion> {
        let i = *self.idx.version.get(id)?;
        self.s.template_versions.get_mut(i)
    }

    // The lists the API answers, in the order Coder answers them (the
    // snapshot's canonical order; writes append, so they are sorted here).

    pub fn organizations(&self) -> Vec<&Organization> {
        let mut v: Vec<&Organization> = self.s.organizations.iter().collect();
        v.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        v
    }

    /// Groups of `org` (all with `None`).
    pub fn groups(&self, org: Option<&str>) -> Vec<&Group> {
        let mut v: Vec<&Group> = self.s.groups.iter().filter(|g| org.is_none_or(|o| g.organization_id == o)).collect();
        v.sort_by(|a, b| (&a.organization_id, &a.name, &a.id).cmp(&(&b.organization_id, &b.name, &b.id)));
        v
    }

    /// Templates of `org` (all with `None`).
    pub fn templates(&self, org: Option<&str>) -> Vec<&Template> {
        let mut v: Vec<&Template> =
            self.s.templates.iter().filter(|t| org.is_none_or(|o| t.organization_id == o)).collect();
        v.sort_by(|a, b| (&a.organization_id, &a.name, &a.id).cmp(&(&b.organization_id, &b.name, &b.id)));
        v
    }

    pub fn provisioner_keys(&self, org: &str) -> Vec<&ProvisionerKey> {
        let mut v: Vec<&ProvisionerKey> = self.s.provisioner_keys.iter().filter(|k| k.organization == org).collect();
        v.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        v
    }

    pub fn provisioner_daemons(&self, org: &str) -> Vec<&ProvisionerDaemon> {
        let mut v: Vec<&ProvisionerDaemon> =
            self.s.provisioner_daemons.iter().filter(|d| d.organization_id == org).collect();
        v.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        v
    }

    pub fn custom_roles(&self, org: &str) -> Vec<&Role> {
        let mut v: Vec<&Role> = self.s.custom_roles.iter().filter(|r| r.organization_id == org).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// A new id, stable from run to run.
    pub fn new_id(&mut self, kind: &str, name: &str) -> String {
        self.created += 1;
        let id = fixtures::id(&format!("fake-{kind}"), &format!("{name}#{}", self.created));
        self.created_ids.insert(id.clone(), self.created);
        id
    }

    pub fn user(&self, id_or_name: &str) -> Option<&User> {
        let i = self.idx.user.get(id_or_name).or_else(|| self.idx.username.get(id_or_name))?;
        self.s.users.get(*i)
    }

    /// `{organization}`: id, name, or `default`.
    pub fn org(&self, r: &str) -> Option<&Organization> {
        if r == "default" {
            return self
                .s
                .organizations
                .iter()
                .filter(|o| o.is_default)
                .min_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        }
        let i = self.idx.org.get(r).or_else(|| self.idx.org_name.get(r))?;
        self.s.organizations.get(*i)
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.idx.group.get(id).and_then(|i| self.s.groups.get(*i))
    }

    pub fn template(&self, id: &str) -> Option<&Template> {
        self.idx.template.get(id).and_then(|i| self.s.templates.get(*i))
    }

    pub fn version(&self, id: &str) -> Option<&TemplateVersion> {
        self.idx.version.get(id).and_then(|i| self.s.template_versions.get(*i))
    }

    pub fn is_member(&self, org: &str, user: &str) -> bool {
        self.idx.orgs_of_user.get(user).is_some_and(|orgs| orgs.iter().any(|o| o == org))
    }

    pub fn members_of(&self, org: &str) -> Vec<&OrganizationMember> {
        self.idx
            .members_of_org
            .get(org)
            .map_or(Vec::new(), |m| m.values().map(|i| &self.s.organization_members[*i]).collect())
    }

    /// Whether the `workspace-sharing` experiment is on: the state says
    /// whose workspaces may be shared, or who a workspace is shared with (a
    /// snapshot of a server with the experiment on does; one without it
    /// cannot).
    pub fn sharing_on(&self) -> bool {
        self.current_release()
            || self.s.organizations.iter().any(|o| o.shareable_workspace_owners.is_some())
            || self.idx.workspace_shares
    }

    /// Whether the fake is a release after v2.30.0 (v2.36.1 checked against
    /// the real server): its default org reports `default_org_member_roles`.
    /// Such a release has workspace sharing on without an experiment, says
    /// whose workspaces may be shared in `shareable_workspace_owners` (`none`,
    /// `everyone`, `service_accounts`) and lists no `workspace-sharing` experiment.
    pub fn current_release(&self) -> bool {
        self.s.organizations.iter().any(|o| o.is_default && o.default_org_member_roles.is_some())
    }

    /// Whose workspaces in `org` may be shared (an org the state says nothing
    /// about lets everyone's be, as a new org does).
    pub fn shareable_owners(&self, org: &Organization) -> String {
        org.shareable_workspace_owners.clone().unwrap_or_else(|| "everyone".into())
    }

    pub fn entitled(&self, feature: &str) -> bool {
        self.s.entitlements.as_ref().is_some_and(|e| e.features.get(feature).is_some_and(|f| f.enabled))
    }

    // Bodies, as the API renders them.

    pub fn user_json(&self, u: &User) -> Value {
        let orgs: Vec<&str> =
            self.idx.orgs_of_user.get(&u.id).map_or(Vec::new(), |v| v.iter().map(String::as_str).collect());
        fixtures::api::user(u, &orgs)
    }

    pub fn group_json(&self, g: &Group) -> Value {
        let fallback = Organization::default();
        let org = self.org(&g.organization_id).unwrap_or(&fallback);
        let members: Vec<&User> = g.members.iter().filter_map(|id| self.user(id)).collect();
        fixtures::api::group(g, org, &members)
    }

    pub fn template_json(&self, t: &Template) -> Value {
        let fallback = Organization::default();
        let org = self.org(&t.organization_id).unwrap_or(&fallback);
        let mut body = fixtures::api::template(t, org);
        let extras = self.template_extras.get(&t.id).cloned().unwrap_or_default();
        body["cors_behavior"] = Value::from(extras.cors_behavior);
        body["use_classic_parameter_flow"] = Value::from(extras.use_classic_parameter_flow);
        body
    }

    /// Daemons of `org`, not offline, whose tags include all of `tags`.
    pub fn daemons_matching(&self, org: &str, tags: &BTreeMap<String, String>) -> usize {
        self.s
            .provisioner_daemons
            .iter()
            .filter(|d| d.organization_id == org && d.status != "offline")
            .filter(|d| tags.iter().all(|(k, v)| d.tags.get(k) == Some(v)))
            .count()
    }

    pub fn version_json(&self, v: &TemplateVersion) -> Value {
        let author = self.template(&v.template_id).and_then(|t| self.user(&t.created_by_id));
        let mut body =
            fixtures::api::template_version(v, author, self.daemons_matching(&v.organization_id, &v.job.tags));
        if v.job.status != "succeeded" {
            body["job"]["completed_at"] = Value::Null;
        }
        if let Some(message) = self.version_messages.get(&v.id) {
            body["message"] = Value::from(message.as_str());
        }
        if let Some(error) = self.jobs.get(&v.id).and_then(|job| job.error.as_ref()) {
            body["job"]["error"] = Value::from(error.as_str());
        }
        body
    }

    /// The source archive of a file id: uploaded, or made up for the snapshot's versions.
    pub fn file(&self, id: &str) -> Option<StoredFile> {
        if let Some(f) = self.files.get(id) {
            return Some(f.clone());
        }
        let v = self.s.template_versions.iter().find(|v| v.job.file_id == id)?;
        let name = self.template(&v.template_id).map_or("template", |t| t.name.as_str());
        let main = format!("# {name}, version {}\nterraform {{\n  required_providers {{}}\n}}\n", v.name);
        Some(StoredFile { bytes: tar(&[("main.tf", main.as_bytes())]), content_type: "application/x-tar".into() })
    }
}

pub fn sort_dedup<T: Ord>(v: &mut Vec<T>) {
    v.sort();
    v.dedup();
}

/// A template's ACL as `Snapshot::canonicalize` leaves it.
pub fn sort_acl(t: &mut Template) {
    if let Some(acl) = &mut t.acl {
        sort_dedup(&mut acl.users);
        sort_dedup(&mut acl.group);
    }
}

/// A ustar archive of (name, bytes): what `coder templates push` uploads.
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, bytes) in files {
        let mut header = [0u8; 512];
        header[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
        header[100..108].copy_from_slice(b"0000644\0");
        header[108..116].copy_from_slice(b"0000000\0");
        header[116..124].copy_from_slice(b"0000000\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", bytes.len()).as_bytes());
        header[136..148].copy_from_slice(b"00000000000\0");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(bytes);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}
