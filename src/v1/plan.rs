//! The v1 -> v2 plan: a v1 snapshot, the target v2 deployment's snapshot
//! and an optional v1 split file in, one document out (`orgsplit_v1_plan:
//! 1`) that says, for the v2 side, which organizations, members (with their
//! roles and what differs from v1), and templates (one per image an
//! organization's workspaces use, with generated Terraform) to create; and,
//! per v1 workspace, the new template, name and parameters, the v1 SSH host
//! the files are copied from, and the v1-only features its owner loses.
//!
//! It is its own document, not an `orgsplit plan`: a v2 plan re-creates
//! templates from their v2 source archives and adds existing v2 users to
//! organizations, and neither holds for v1 (images become generated
//! templates; v1 users may not exist in v2 yet). Pure: no disk, no network.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{Image, Provider, V1Snapshot, Workspace};
use super::permissions::{self, Difference};
use crate::error::{Diagnostic, Result};
use crate::model::Snapshot;
use crate::plan::names::{MAX_NAME, is_valid_name, normalize};
use crate::plan::{Affected, Finding, Severity};

/// The version of the v1 plan document this build writes and reads.
pub const FORMAT: u32 = 1;

/// The v2 default organization's name on a fresh deployment.
pub const FRESH_DEFAULT_ORG: &str = "coder";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1Plan {
    pub orgsplit_v1_plan: u32,
    /// The v1 deployment the plan moves from (`export-dir`, `live` or `builtin`, and where).
    pub v1: Source,
    /// The v2 deployment it moves to.
    pub target: Source,
    /// The split file, when one was given (`sha256:<hex>` of its bytes).
    pub split: Option<String>,
    /// One entry per v2 organization that receives something, sorted by name.
    pub organizations: Vec<OrgMove>,
    /// One entry per (v2 organization, person), sorted by org then username.
    pub members: Vec<MemberMove>,
    /// One v2 template per (v2 organization, image used there), sorted by org then name.
    pub templates: Vec<TemplateMove>,
    /// One item per v1 workspace, sorted by owner then old name.
    pub workspaces: Vec<WorkspaceMove>,
    /// v1 features with no v2 counterpart, per user, sorted.
    pub v1_only: Vec<V1Only>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub kind: String,
    pub location: String,
    /// The deployment's address, when known (the v2 one is what the scripts log in to).
    pub url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgMove {
    /// The v2 organization's name.
    pub name: String,
    /// True when the target already has it (else it is created).
    pub exists: bool,
    /// The v1 organizations that land here, by name, sorted.
    pub from_v1: Vec<String>,
    pub members: usize,
    pub templates: Vec<String>,
    pub workspaces: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberMove {
    pub org: String,
    pub username: String,
    pub email: String,
    /// The v1 organizations (by name) and roles this comes from.
    pub from_v1: Vec<String>,
    /// `manager` or `member`: the v1 matrix column (the higher, when several v1 orgs land here).
    pub v1_role: String,
    /// The v2 org roles to give (`organization-member` is implicit and not listed).
    pub v2_roles: Vec<String>,
    /// True when the target has a user of this username (else they must log in to v2 first).
    pub in_target: bool,
    /// What the person could do in v1 and cannot in v2, and the reverse (admin-like gains first).
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateMove {
    pub org: String,
    pub name: String,
    /// The v1 image: id, `registry/repository` as pulled, and its default tag.
    pub image_id: String,
    pub image: String,
    pub default_tag: String,
    /// The tags the org's workspaces run, sorted.
    pub tags_in_use: Vec<String>,
    pub cpu_cores: f64,
    pub memory_gb: f64,
    pub disk_gb: f64,
    /// The Kubernetes namespace (the org's v1 workspace provider's) and that provider.
    pub namespace: String,
    pub provider: String,
    /// The image is deprecated in v1: the template is generated for review, flagged, never silent.
    pub deprecated: bool,
    /// Where the generated Terraform goes in the templates folder (`<org>/<name>`).
    pub source_dir: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceMove {
    pub owner: String,
    pub email: String,
    pub v1_org: String,
    pub old_name: String,
    /// The SSH host v1's `coder config-ssh` writes for it (`coder.<workspace>`).
    pub v1_ssh_host: String,
    /// The SSH user it connects as (`<username>-<workspace>`).
    pub v1_ssh_user: String,
    /// False when the v1 provider has SSH turned off: the files must be copied another way.
    pub v1_ssh_enabled: bool,
    pub new_org: String,
    pub new_template: String,
    pub new_name: String,
    /// Why the new name is not the old one, when it is not.
    pub name_note: Option<String>,
    /// Template parameters for the new workspace, from the v1 workspace.
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1Only {
    pub owner: String,
    pub workspace: String,
    /// `dev-url`, `container-vm`, ...
    pub feature: String,
    pub detail: String,
    /// What to do in v2 instead.
    pub instead: String,
}

/// The v1 split file: which v1 organizations land in which v2 organization.
/// v1 organizations it does not name keep the default mapping.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1Split {
    #[serde(default)]
    pub organizations: Vec<V1SplitOrg>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1SplitOrg {
    /// The v2 organization.
    pub name: String,
    /// v1 organization names that land there.
    #[serde(default)]
    pub v1_organizations: Vec<String>,
}

impl V1Split {
    /// Parse and check a v1 split file's text against the v1 snapshot.
    pub fn load(text: &str, path: &std::path::Path, v1: &V1Snapshot) -> Result<V1Split> {
        let split: V1Split = toml::from_str(text).map_err(|e| crate::split::toml_diagnostic(text, path, &e))?;
        let mut seen = BTreeSet::new();
        for (i, org) in split.organizations.iter().enumerate() {
            if let Some(p) = crate::plan::names::name_problem(&org.name) {
                return Err(Diagnostic::new(path, format!("organizations[{i}].name: {p}"))
                    .help("v2 organization names are lowercase letters, digits and single hyphens")
                    .into());
            }
            for v in &org.v1_organizations {
                if !v1.organizations.iter().any(|o| &o.name == v) {
                    let known: Vec<&str> = v1.organizations.iter().map(|o| o.name.as_str()).collect();
                    return Err(Diagnostic::new(
                        path,
                        format!("organizations[{i}].v1_organizations: no v1 organization is named {v:?}"),
                    )
                    .help(format!("the v1 snapshot has: {}", known.join(", ")))
                    .into());
                }
                if !seen.insert(v.clone()) {
                    return Err(Diagnostic::new(
                        path,
                        format!("organizations[{i}].v1_organizations: {v:?} is already mapped to another organization"),
                    )
                    .help("a v1 organization lands in one v2 organization")
                    .into());
                }
            }
        }
        Ok(split)
    }
}

/// What the plan was made from.
pub struct Inputs<'a> {
    pub v1: &'a V1Snapshot,
    /// The target v2 deployment; `None` for a fresh one (only its default org `coder`).
    pub target: Option<&'a Snapshot>,
    pub split: Option<(&'a V1Split, String)>,
}

/// Make the plan.
pub fn plan(inputs: &Inputs) -> Result<V1Plan> {
    let v1 = inputs.v1;
    let mut findings = Vec::new();
    let org_map = map_orgs(inputs, &mut findings);
    let target_users: BTreeSet<&str> =
        inputs.target.map(|t| t.users.iter().map(|u| u.username.as_str()).collect()).unwrap_or_default();
    let target_orgs: BTreeSet<&str> = inputs
        .target
        .map(|t| t.organizations.iter().map(|o| o.name.as_str()).collect())
        .unwrap_or_else(|| [FRESH_DEFAULT_ORG].into_iter().collect());

    let members = members(v1, &org_map, &target_users)?;
    let mut missing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in members.iter().filter(|m| !m.in_target) {
        missing.entry(&m.username).or_default().push(&m.org);
    }
    for (user, orgs) in missing {
        findings.push(Finding {
            code: "v1-user-not-in-v2".into(),
            severity: Severity::Warning,
            message: format!("{user} has no account on the v2 deployment yet"),
            help: Some(
                "they must log in to v2 once (or be created) before they can be added to their organizations".into(),
            ),
            affects: orgs.into_iter().map(|o| affected("user", Some(o), user)).collect(),
        });
    }
    let (templates, by_image) = templates(v1, &org_map, &mut findings);
    let workspaces = workspaces(v1, inputs.target, &org_map, &by_image, &mut findings);
    let v1_only = v1_only(v1);

    let mut organizations: BTreeMap<String, OrgMove> = BTreeMap::new();
    for (v1_id, v2) in &org_map {
        let o = organizations.entry(v2.clone()).or_insert_with(|| OrgMove {
            name: v2.clone(),
            exists: target_orgs.contains(v2.as_str()),
            ..OrgMove::default()
        });
        if let Some(org) = v1.org(v1_id) {
            o.from_v1.push(org.name.clone());
        }
    }
    for o in organizations.values_mut() {
        o.from_v1.sort();
        o.members = members.iter().filter(|m| m.org == o.name).count();
        o.templates = templates.iter().filter(|t| t.org == o.name).map(|t| t.name.clone()).collect();
        o.workspaces = workspaces.iter().filter(|w| w.new_org == o.name).count();
    }
    findings.sort_by(|a, b| (b.severity, &a.code, &a.affects).cmp(&(a.severity, &b.code, &b.affects)));
    let source = |kind: &str, location: &str, url: Option<&str>| Source {
        kind: kind.into(),
        location: location.into(),
        url: url.unwrap_or_default().trim_end_matches('/').to_string(),
    };
    Ok(V1Plan {
        orgsplit_v1_plan: FORMAT,
        v1: source(&v1.source.kind, &v1.source.location, None),
        target: match inputs.target {
            Some(t) => source(&t.source.kind, &t.source.location, t.source.deployment_url.as_deref()),
            None => source("fresh", "a fresh v2 deployment (only its default organization)", None),
        },
        split: inputs.split.as_ref().map(|(_, digest)| digest.clone()),
        organizations: organizations.into_values().collect(),
        members,
        templates,
        workspaces,
        v1_only,
        findings,
    })
}

fn affected(kind: &str, org: Option<&str>, name: &str) -> Affected {
    Affected { kind: kind.into(), org: org.map(str::to_string), name: name.into(), id: None }
}

/// v1 org id -> v2 org name: the split's, else the same name made valid,
/// the default v1 org to the target's default org.
fn map_orgs(inputs: &Inputs, findings: &mut Vec<Finding>) -> BTreeMap<String, String> {
    let default_v2 = inputs
        .target
        .and_then(|t| t.organizations.iter().find(|o| o.is_default))
        .map_or(FRESH_DEFAULT_ORG.to_string(), |o| o.name.clone());
    let mut out = BTreeMap::new();
    for org in &inputs.v1.organizations {
        let from_split = inputs.split.as_ref().and_then(|(s, _)| {
            s.organizations.iter().find(|o| o.v1_organizations.contains(&org.name)).map(|o| o.name.clone())
        });
        let v2 = match from_split {
            Some(name) => name,
            None if org.default => default_v2.clone(),
            None => {
                let name = normalize(&org.name, MAX_NAME);
                let name = if name.is_empty() { "v1-org".to_string() } else { name };
                if name != org.name {
                    findings.push(Finding {
                        code: "v1-org-renamed".into(),
                        severity: Severity::Info,
                        message: format!(
                            "v1 organization {:?} is not a valid v2 organization name; it becomes `{name}`",
                            org.name
                        ),
                        help: Some("name it in a v1 split file to choose another name".into()),
                        affects: vec![affected("organization", None, &name)],
                    });
                }
                name
            }
        };
        out.insert(org.id.clone(), v2);
    }
    out
}

fn members(
    v1: &V1Snapshot,
    org_map: &BTreeMap<String, String>,
    target_users: &BTreeSet<&str>,
) -> Result<Vec<MemberMove>> {
    let matrices = permissions::matrices()?;
    let matrix = matrices.get(permissions::LATEST).ok_or_else(|| crate::error::Error::Bug("no v1 matrix".into()))?;
    let mut by_key: BTreeMap<(String, String), MemberMove> = BTreeMap::new();
    for a in permissions::access(v1) {
        let Some(org) = v1.organizations.iter().find(|o| o.name == a.organization) else { continue };
        let Some(v2) = org_map.get(&org.id) else { continue };
        let email = org
            .members
            .iter()
            .find(|m| v1.username(&m.id) == a.username)
            .and_then(|m| v1.user(&m.id))
            .map(|u| u.email.clone())
            .unwrap_or_default();
        let m = by_key.entry((v2.clone(), a.username.clone())).or_insert_with(|| MemberMove {
            org: v2.clone(),
            username: a.username.clone(),
            email,
            v1_role: "member".into(),
            in_target: target_users.contains(a.username.as_str()),
            ..MemberMove::default()
        });
        m.from_v1.push(format!("{}: {}", a.organization, a.v1_roles.join(", ")));
        if a.matrix_role == "manager" {
            m.v1_role = "manager".into();
        }
    }
    let mut out: Vec<MemberMove> = by_key.into_values().collect();
    for m in &mut out {
        m.from_v1.sort();
        let manager = m.v1_role == "manager";
        m.v2_roles = if manager { vec!["organization-admin".into()] } else { Vec::new() };
        m.differences = permissions::differences(matrix, manager);
    }
    Ok(out)
}

/// The image as pulled: `registry/repository`, without Docker Hub's host.
pub fn image_ref(image: &Image) -> String {
    match image.registry.as_ref().map(|r| r.registry.trim_end_matches('/')) {
        Some(host) if !host.is_empty() && host != "index.docker.io" && host != "docker.io" => {
            format!("{host}/{}", image.repository)
        }
        _ => image.repository.clone(),
    }
}

/// The org's v1 provider: the one its workspaces on this image run on most
/// (ties to the lower id), else one whose allow list has the org, else the built-in one.
fn provider_for<'a>(v1: &'a V1Snapshot, org_id: &str, workspaces: &[&Workspace]) -> Option<&'a Provider> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for w in workspaces {
        *counts.entry(w.resource_pool_id.as_str()).or_default() += 1;
    }
    let best = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(id, _)| *id);
    best.and_then(|id| v1.provider(id))
        .or_else(|| v1.providers.iter().find(|p| p.org_whitelist.iter().any(|o| o == org_id)))
        .or_else(|| v1.providers.iter().find(|p| p.built_in))
}

/// (v2 org, v1 image id) -> the template's name there.
type ByImage = BTreeMap<(String, String), String>;

/// One template per (v2 org, image used by a workspace that lands there).
fn templates(
    v1: &V1Snapshot,
    org_map: &BTreeMap<String, String>,
    findings: &mut Vec<Finding>,
) -> (Vec<TemplateMove>, ByImage) {
    // (v2 org, image id) -> the workspaces on it.
    let mut used: BTreeMap<(String, String), Vec<&Workspace>> = BTreeMap::new();
    for w in &v1.workspaces {
        let Some(v2) = org_map.get(&w.organization_id) else { continue };
        used.entry((v2.clone(), w.image_id.clone())).or_default().push(w);
    }
    let mut taken: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut out = Vec::new();
    let mut by_image = BTreeMap::new();
    for ((org, image_id), ws) in &used {
        let Some(image) = v1.image(image_id) else {
            findings.push(Finding {
                code: "v1-image-missing".into(),
                severity: Severity::Risk,
                message: format!(
                    "{} workspace(s) run image id {image_id}, which the v1 snapshot does not have; no template is \
                     generated for them",
                    ws.len()
                ),
                help: Some("export the v1 images (GET /api/v0/images) and plan again".into()),
                affects: ws.iter().map(|w| affected("workspace", Some(org), &workspace_label(v1, w))).collect(),
            });
            continue;
        };
        let base = image.repository.rsplit('/').next().unwrap_or_default();
        let name = crate::plan::names::unique_name(base, taken.entry(org.clone()).or_default());
        let provider = provider_for(v1, &image.organization_id, ws);
        let mut tags: Vec<String> = ws.iter().map(|w| tag_of(w, image)).collect();
        tags.sort();
        tags.dedup();
        let providers: BTreeSet<&str> = ws.iter().map(|w| w.resource_pool_id.as_str()).collect();
        if providers.len() > 1 {
            findings.push(Finding {
                code: "v1-several-providers".into(),
                severity: Severity::Warning,
                message: format!(
                    "workspaces on {} in `{org}` run on {} v1 workspace providers; template `{name}` uses one \
                     namespace",
                    image.repository,
                    providers.len()
                ),
                help: Some("set the template's `namespace` variable, or split the template".into()),
                affects: vec![affected("template", Some(org), &name)],
            });
        }
        if image.deprecated {
            findings.push(Finding {
                code: "v1-deprecated-image".into(),
                severity: Severity::Risk,
                message: format!(
                    "image {} is deprecated in v1 and {} workspace(s) still run it; template {name} is generated \
                     for review and flagged deprecated",
                    image.repository,
                    ws.len()
                ),
                help: Some(
                    "decide with the owners: move them to a current template, or publish this one knowingly".into(),
                ),
                affects: ws.iter().map(|w| affected("workspace", Some(org), &workspace_label(v1, w))).collect(),
            });
        }
        by_image.insert((org.clone(), image_id.clone()), name.clone());
        out.push(TemplateMove {
            org: org.clone(),
            source_dir: format!("{org}/{name}"),
            name,
            image_id: image.id.clone(),
            image: image_ref(image),
            default_tag: image.default_tag.as_ref().map(|t| t.tag.clone()).unwrap_or_else(|| "latest".into()),
            tags_in_use: tags,
            cpu_cores: image.default_cpu_cores,
            memory_gb: image.default_memory_gb,
            disk_gb: image.default_disk_gb,
            namespace: provider.map(|p| p.config.default_namespace.clone()).unwrap_or_default(),
            provider: provider.map(|p| p.name.clone()).unwrap_or_default(),
            deprecated: image.deprecated,
        });
    }
    out.sort_by(|a, b| (&a.org, &a.name).cmp(&(&b.org, &b.name)));
    (out, by_image)
}

fn tag_of(w: &Workspace, image: &Image) -> String {
    if !w.image_tag.is_empty() {
        w.image_tag.clone()
    } else {
        image.default_tag.as_ref().map(|t| t.tag.clone()).unwrap_or_else(|| "latest".into())
    }
}

fn workspace_label(v1: &V1Snapshot, w: &Workspace) -> String {
    format!("{}/{}", v1.username(&w.user_id), w.name)
}

/// A number as a parameter value: no trailing `.0`.
pub fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

fn workspaces(
    v1: &V1Snapshot,
    target: Option<&Snapshot>,
    org_map: &BTreeMap<String, String>,
    by_image: &ByImage,
    findings: &mut Vec<Finding>,
) -> Vec<WorkspaceMove> {
    // Names each owner already has in v2, so a new name never collides.
    let mut taken: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some(t) = target {
        let owners: BTreeMap<&str, &str> = t.users.iter().map(|u| (u.id.as_str(), u.username.as_str())).collect();
        for w in &t.workspaces {
            if let Some(owner) = owners.get(w.owner_id.as_str()) {
                taken.entry(owner.to_string()).or_default().insert(w.name.clone());
            }
        }
    }
    let mut out = Vec::new();
    let mut sorted: Vec<&Workspace> = v1.workspaces.iter().collect();
    sorted.sort_by_key(|w| (v1.username(&w.user_id), w.name.clone()));
    for w in sorted {
        let owner = v1.username(&w.user_id);
        let Some(v2) = org_map.get(&w.organization_id) else { continue };
        let Some(template) = by_image.get(&(v2.clone(), w.image_id.clone())) else { continue };
        let image = v1.image(&w.image_id);
        let provider = v1.provider(&w.resource_pool_id);
        let ssh_enabled = provider.is_none_or(|p| p.config.ssh_enabled);
        let names = taken.entry(owner.clone()).or_default();
        let mut base = normalize(&w.name, MAX_NAME);
        if base.is_empty() {
            base = "workspace".into();
        }
        let mut name = base.clone();
        let mut n = 1;
        while names.contains(&name) {
            n += 1;
            let suffix = format!("-{n}");
            let mut stem = base.clone();
            stem.truncate(MAX_NAME - suffix.len());
            name = format!("{}{suffix}", stem.trim_end_matches('-'));
        }
        names.insert(name.clone());
        let name_note = (name != w.name).then(|| {
            if !is_valid_name(&w.name) {
                format!("`{}` breaks v2's name rules, so it was made valid", w.name)
            } else {
                format!("`{}` is taken by another of the owner's v2 workspaces, so `-{n}` was added", w.name)
            }
        });
        let mut parameters = BTreeMap::new();
        parameters.insert("cpu".to_string(), number(w.cpu_cores));
        parameters.insert("memory_gb".to_string(), number(w.memory_gb));
        parameters.insert("disk_gb".to_string(), number(w.disk_gb));
        parameters.insert("gpus".to_string(), w.gpus.to_string());
        parameters.insert("image_tag".to_string(), image.map(|i| tag_of(w, i)).unwrap_or_default());
        if !ssh_enabled {
            findings.push(Finding {
                code: "v1-ssh-disabled".into(),
                severity: Severity::Risk,
                message: format!(
                    "{owner}/{} runs on v1 provider {} with SSH turned off: its migration script cannot reach it",
                    w.name,
                    provider.map_or("", |p| p.name.as_str())
                ),
                help: Some("turn SSH on for the provider during the migration, or copy the files by hand".into()),
                affects: vec![affected("workspace", Some(v2), &format!("{owner}/{}", w.name))],
            });
        }
        out.push(WorkspaceMove {
            email: v1.user(&w.user_id).map(|u| u.email.clone()).unwrap_or_default(),
            v1_org: v1.org(&w.organization_id).map(|o| o.name.clone()).unwrap_or_default(),
            old_name: w.name.clone(),
            v1_ssh_host: format!("coder.{}", w.name),
            v1_ssh_user: format!("{owner}-{}", w.name),
            v1_ssh_enabled: ssh_enabled,
            new_org: v2.clone(),
            new_template: template.clone(),
            new_name: name,
            name_note,
            parameters,
            owner,
        });
    }
    out
}

/// Dev URLs and container VMs, per owner and workspace.
fn v1_only(v1: &V1Snapshot) -> Vec<V1Only> {
    let mut out = Vec::new();
    for w in &v1.workspaces {
        let owner = v1.username(&w.user_id);
        if w.use_container_vm {
            out.push(V1Only {
                owner: owner.clone(),
                workspace: w.name.clone(),
                feature: "container-vm".into(),
                detail: "the workspace is a container-based VM (it can run Docker and systemd)".into(),
                instead: "ask for a template with Docker-in-Docker or Sysbox; the generated template runs a plain pod"
                    .into(),
            });
        }
    }
    for d in &v1.devurls {
        let Some(w) = v1.workspaces.iter().find(|w| w.id == d.workspace_id) else { continue };
        let label =
            if d.name.is_empty() { format!("port {}", d.port) } else { format!("{} (port {})", d.name, d.port) };
        out.push(V1Only {
            owner: v1.username(&w.user_id),
            workspace: w.name.clone(),
            feature: "dev-url".into(),
            detail: format!("dev URL {label}, {} access, {}", d.access.to_lowercase(), d.scheme),
            instead: "share the port from the v2 workspace (`coder port-forward`, or port sharing in the dashboard); \
                      the URL changes"
                .into(),
        });
    }
    out.sort();
    out
}

impl V1Plan {
    pub fn to_json(&self) -> Result<Vec<u8>> {
        crate::json::pretty(self)
    }

    /// Read a v1 plan file's bytes, with a clear error for other documents.
    pub fn from_json(bytes: &[u8], path: &std::path::Path) -> Result<V1Plan> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Diagnostic::json(path, &e))?;
        match value.get("orgsplit_v1_plan").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(FORMAT) => {}
            Some(v) => {
                return Err(Diagnostic::new(path, format!("v1 plan format {v}; this orgsplit reads format {FORMAT}"))
                    .help("make the plan again with this orgsplit (`orgsplit v1-plan`)")
                    .into());
            }
            None => {
                return Err(Diagnostic::new(path, "not a v1 plan (it has no `orgsplit_v1_plan` field)")
                    .help("make one with `orgsplit v1-plan V1-SNAPSHOT --out v1-plan.json`")
                    .into());
            }
        }
        serde_json::from_value(value).map_err(|e| {
            Diagnostic::new(path, format!("not a valid v1 plan: {e}"))
                .help("make the plan again rather than editing it")
                .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Organization, User};

    fn megaco() -> V1Snapshot {
        super::super::fixture::builtin().unwrap()
    }

    fn target() -> Snapshot {
        let mut t = Snapshot::default();
        t.organizations.push(Organization {
            id: "o1".into(),
            name: "main".into(),
            is_default: true,
            ..Default::default()
        });
        t.users.push(User { id: "u1".into(), username: "alice-chen".into(), ..Default::default() });
        t.workspaces.push(crate::model::Workspace {
            id: "w1".into(),
            name: "backend".into(),
            owner_id: "u1".into(),
            ..Default::default()
        });
        t
    }

    #[test]
    fn orgs_map_by_name_and_the_default_to_the_targets_default() {
        let v1 = megaco();
        let t = target();
        let p = plan(&Inputs { v1: &v1, target: Some(&t), split: None }).unwrap();
        let names: Vec<(&str, bool, &[String])> =
            p.organizations.iter().map(|o| (o.name.as_str(), o.exists, o.from_v1.as_slice())).collect();
        assert_eq!(names.len(), 4);
        assert_eq!(names[0].0, "contractors");
        assert!(!names[0].1, "contractors is created");
        let main = p.organizations.iter().find(|o| o.name == "main").unwrap();
        assert!(main.exists);
        assert_eq!(main.from_v1, ["MegaCo"]);
        // Without a target: the fresh default org.
        let fresh = plan(&Inputs { v1: &v1, target: None, split: None }).unwrap();
        assert!(fresh.organizations.iter().any(|o| o.name == FRESH_DEFAULT_ORG && o.exists));
    }

    #[test]
    fn managers_become_org_admins_with_the_differences_admin_gains_first() {
        let v1 = megaco();
        let t = target();
        let p = plan(&Inputs { v1: &v1, target: Some(&t), split: None }).unwrap();
        let bianca = p.members.iter().find(|m| m.username == "bianca-das").unwrap();
        assert_eq!((bianca.org.as_str(), bianca.v1_role.as_str()), ("raptix", "manager"));
        assert_eq!(bianca.v2_roles, ["organization-admin"]);
        assert!(bianca.differences[0].admin_like_gain, "{:?}", bianca.differences);
        assert!(!bianca.in_target);
        let erin = p.members.iter().find(|m| m.username == "erin-ito").unwrap();
        assert!(erin.v2_roles.is_empty(), "a member gets only the implicit member role");
        let alice: Vec<_> = p.members.iter().filter(|m| m.username == "alice-chen").collect();
        assert_eq!(alice.len(), 2, "alice is in two v1 orgs");
        assert!(alice.iter().all(|m| m.in_target));
        assert!(!p.findings.iter().any(|f| f.code == "v1-user-not-in-v2" && f.message.starts_with("alice-chen")));
        let missing: Vec<_> = p.findings.iter().filter(|f| f.code == "v1-user-not-in-v2").collect();
        assert_eq!(missing.len(), 13, "one finding per person missing from v2");
    }

    #[test]
    fn images_become_templates_and_workspaces_carry_their_parameters() {
        let v1 = megaco();
        let t = target();
        let p = plan(&Inputs { v1: &v1, target: Some(&t), split: None }).unwrap();
        let go = p.templates.iter().find(|t| t.org == "raptix" && t.name == "go-dev").unwrap();
        assert_eq!(go.image, "123456789012.dkr.ecr.us-east-1.amazonaws.com/raptix/go-dev", "the registry host is kept");
        assert_eq!((go.default_tag.as_str(), go.namespace.as_str()), ("1.16", "coder-raptix"));
        let old = p.templates.iter().find(|t| t.name == "legacy-centos").unwrap();
        assert!(old.deprecated);
        let f = p.findings.iter().find(|f| f.code == "v1-deprecated-image").unwrap();
        assert_eq!(f.severity, Severity::Risk);
        assert_eq!(f.affects[0].name, "bob-silva/old-tools");
        assert_eq!(p.findings[0].severity, Severity::Risk, "risks first");
        let training = p.workspaces.iter().find(|w| w.owner == "farah-khan").unwrap();
        assert_eq!(training.v1_ssh_host, "coder.training");
        assert_eq!(training.v1_ssh_user, "farah-khan-training");
        assert_eq!((training.new_org.as_str(), training.new_template.as_str()), ("data-platform", "ml-cuda"));
        let params: Vec<String> = training.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(params, ["cpu=8", "disk_gb=100", "gpus=1", "image_tag=11.2", "memory_gb=32"]);
        let backend = p.workspaces.iter().find(|w| w.owner == "alice-chen" && w.old_name == "backend").unwrap();
        assert_eq!(backend.new_name, "backend-2", "alice already has a v2 workspace named backend");
        assert!(backend.name_note.is_some());
        let dev_urls: Vec<_> = p.v1_only.iter().filter(|f| f.feature == "dev-url").map(|f| f.owner.as_str()).collect();
        assert_eq!(dev_urls, ["bianca-das", "carla-diaz", "farah-khan"]);
    }

    #[test]
    fn a_split_file_moves_v1_orgs_together_and_bad_ones_are_named() {
        let v1 = megaco();
        let path = std::path::Path::new("v1-split.toml");
        let text = "[[organizations]]\nname = \"eng\"\nv1_organizations = [\"raptix\", \"contractors\"]\n";
        let split = V1Split::load(text, path, &v1).unwrap();
        let p = plan(&Inputs { v1: &v1, target: None, split: Some((&split, "sha256:x".into())) }).unwrap();
        let eng = p.organizations.iter().find(|o| o.name == "eng").unwrap();
        assert_eq!(eng.from_v1, ["contractors", "raptix"]);
        assert_eq!(eng.workspaces, 7);
        assert_eq!(p.split.as_deref(), Some("sha256:x"));
        assert!(p.workspaces.iter().filter(|w| w.v1_org == "raptix").all(|w| w.new_org == "eng"));
        let e = V1Split::load("[[organizations]]\nname = \"eng\"\nv1_organizations = [\"nope\"]\n", path, &v1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("organizations[0].v1_organizations") && e.contains("\"nope\""), "{e}");
        let e = V1Split::load("[[organizations]]\nname = \"Eng Team\"\n", path, &v1).unwrap_err().to_string();
        assert!(e.contains("organizations[0].name"), "{e}");
        let e = V1Split::load("[[organizations]]\nnam = \"x\"\n", path, &v1).unwrap_err().to_string();
        assert!(e.contains("v1-split.toml:2"), "line and column: {e}");
    }

    #[test]
    fn the_plan_is_deterministic_and_reads_back() {
        let v1 = megaco();
        let a = plan(&Inputs { v1: &v1, target: None, split: None }).unwrap().to_json().unwrap();
        let b = plan(&Inputs { v1: &v1, target: None, split: None }).unwrap().to_json().unwrap();
        assert_eq!(a, b);
        let back = V1Plan::from_json(&a, std::path::Path::new("p.json")).unwrap();
        assert_eq!(back.to_json().unwrap(), a);
        let e = V1Plan::from_json(b"{\"format_version\": 1}", std::path::Path::new("p.json")).unwrap_err();
        assert!(e.to_string().contains("not a v1 plan"), "{e}");
    }
}
