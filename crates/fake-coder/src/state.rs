//! The fake deployment's state: a `Snapshot` (what orgsplit reads back), and
//! what a Coder server holds beyond it (tokens, uploaded files, provisioner
//! jobs of new template versions, provisioner key secrets, template fields
//! the snapshot does not keep). Lookups go through an index rebuilt after
//! every write.

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
}

#[derive(Debug, Default)]
pub struct Index {
    pub user: HashMap<String, usize>,
    pub username: HashMap<String, usize>,
    pub org: HashMap<String, usize>,
    pub org_name: HashMap<String, usize>,
    pub orgs_of_user: HashMap<String, Vec<String>>,
    /// Org id -> positions in `organization_members` (in canonical order).
    pub members_of_org: HashMap<String, Vec<usize>>,
    pub group: HashMap<String, usize>,
    pub template: HashMap<String, usize>,
    pub version: HashMap<String, usize>,
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
            idx.members_of_org.entry(m.organization_id.clone()).or_default().push(i);
        }
        idx.group = s.groups.iter().enumerate().map(|(i, g)| (g.id.clone(), i)).collect();
        idx.template = s.templates.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
        idx.version = s.template_versions.iter().enumerate().map(|(i, v)| (v.id.clone(), i)).collect();
        self.idx = idx;
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
            return self.s.organizations.iter().find(|o| o.is_default);
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
            .map_or(Vec::new(), |v| v.iter().map(|i| &self.s.organization_members[*i]).collect())
    }

    /// Whether the `workspace-sharing` experiment is on: the state says
    /// whose workspaces may be shared, or who a workspace is shared with (a
    /// snapshot of a server with the experiment on does; one without it
    /// cannot).
    pub fn sharing_on(&self) -> bool {
        self.s.organizations.iter().any(|o| o.shareable_workspace_owners.is_some())
            || self.s.workspaces.iter().any(|w| w.shares.is_some())
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
