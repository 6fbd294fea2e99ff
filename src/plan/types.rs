//! The plan document: what `orgsplit plan` writes and `diff`, `scripts`,
//! `notices`, `report` and `apply` read. It is a contract between those
//! commands, so every field says what it holds and readers never need the
//! snapshot again. Changes are additive: new fields get defaults; a change
//! that would make an older reader misread a plan bumps `FORMAT_VERSION`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::specs::*;
use crate::model::Id;
use crate::split::SharedTemplates;

/// Bump when a change would make an older orgsplit misread a plan.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Version of this document's format. orgsplit refuses versions it does not know.
    pub format_version: u32,
    /// The deployment the plan is for.
    pub deployment: Deployment,
    /// The state the plan was made from: a plan is only valid against it.
    pub snapshot: SnapshotRef,
    /// The split file the plan was made from.
    pub split: SplitRef,
    pub migration: MigrationSettings,
    /// One entry per organization the split names, sorted by name.
    pub organizations: Vec<OrgSummary>,
    /// Every step, in the order to carry them out (a topological order of
    /// their dependencies). Never a delete.
    pub steps: Vec<Step>,
    /// One item per workspace whose owner must move to a new workspace,
    /// sorted by owner username, then old workspace name.
    pub workspace_migrations: Vec<WorkspaceMigration>,
    /// What planning noticed: risks, conflicts and decisions, each with what it affects.
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The deployment's address (`Snapshot::deployment_url`: for a live
    /// import, the URL it was read from; else `--deployment-url`, else what
    /// the deployment reports for itself, never build info's `external_url`).
    /// Empty when unknown. apply never sends the token to it unless the admin
    /// names the same address on that run.
    pub url: String,
    /// The Coder version the snapshot reports.
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRef {
    /// `Snapshot::fingerprint` of the state the plan was made from.
    pub fingerprint: String,
    /// `Snapshot::section_fingerprints`, so a stale plan can say what changed.
    pub sections: BTreeMap<String, String>,
    /// `export-dir`, `api` or `builtin`, and the folder or URL.
    pub source_kind: String,
    pub source_location: String,
    /// When the state was read (RFC 3339), if known.
    pub taken_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRef {
    /// The split file's name as given on the command line.
    pub file: String,
    /// `sha256:<hex>` of the split file's bytes.
    pub sha256: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationSettings {
    /// The migration wiki page linked from every deprecation message and notice.
    pub wiki: String,
    /// The date (YYYY-MM-DD) by which users must have moved.
    pub deadline: String,
    /// The split's deprecation message template (the filled-in text is on each deprecation step).
    pub deprecation_message_template: String,
    pub shared_templates: SharedTemplates,
}

/// A target organization at a glance (the steps hold the details).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSummary {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    /// True when an organization of this name already exists in the snapshot.
    pub exists: bool,
    /// Members after the plan (existing and new).
    pub members: usize,
    /// Groups created or updated there, sorted.
    pub groups: Vec<String>,
    /// Templates re-created there, sorted.
    pub templates: Vec<String>,
    /// The provisioner key the plan creates (or finds) for the org.
    pub provisioner_key: Option<String>,
    /// Workspace proxies the org's users need (deployment-wide; checked, not created).
    pub workspace_proxies: Vec<String>,
    /// Workspaces whose owners move into this org.
    pub workspaces_to_migrate: usize,
}

/// One action on one object. Keys are `<org>/<kind>/<name>`, unique in a
/// plan and stable between runs on the same inputs; deployment-wide steps use
/// `(deployment)` as the org.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub key: String,
    /// The organization the object lives in; null for deployment-wide settings.
    pub org: Option<String>,
    /// The object's name within its kind and org.
    pub name: String,
    pub action: Action,
    /// Keys of the steps that must be done first, sorted.
    pub depends_on: Vec<String>,
    /// What the step changes, in words (for `update`: each difference; for `no-op`: why nothing).
    pub changes: Vec<String>,
    /// The executable description: everything needed to carry the step out.
    pub spec: StepSpec,
}

impl Step {
    /// A step, keyed by its org, kind and name; `depends_on` sorted and deduplicated.
    pub fn new(
        org: Option<&str>,
        name: &str,
        action: Action,
        mut depends_on: Vec<String>,
        changes: Vec<String>,
        spec: StepSpec,
    ) -> Step {
        depends_on.sort();
        depends_on.dedup();
        Step {
            key: super::step_key(org, spec.kind(), name),
            org: org.map(String::from),
            name: name.to_string(),
            action,
            depends_on,
            changes,
            spec,
        }
    }
}

/// Create, update or leave alone. There is no delete: orgsplit never deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    NoOp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepSpec {
    /// `POST /organizations`.
    Organization(OrganizationSpec),
    /// `POST /organizations/{org}/provisionerkeys`; a person then starts a provisioner with it.
    ProvisionerKey(ProvisionerKeySpec),
    /// `POST|PUT /organizations/{org}/members/roles`.
    CustomRole(CustomRoleSpec),
    /// `PATCH /settings/idpsync/organization/mapping` (and `/config`).
    OrganizationSync(OrganizationSyncSpec),
    /// `POST /organizations/{org}/members/{user}`, then `PUT .../roles`; or nothing
    /// when IdP sync owns the membership (the spec says which).
    Member(MemberSpec),
    /// `POST /organizations/{org}/groups`, then `PATCH /groups/{id}` with `add_users`.
    Group(GroupSpec),
    /// `PATCH /organizations/{org}/settings/idpsync/groups`.
    GroupSync(GroupSyncSpec),
    /// `PATCH /organizations/{org}/settings/idpsync/roles`.
    RoleSync(RoleSyncSpec),
    /// Re-create a template in a new org from its active version's source.
    Template(TemplateSpec),
    /// `PATCH /templates/{id}` with `deprecation_message` (and every other setting, as read).
    Deprecation(DeprecationSpec),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceMigration {
    pub owner: Owner,
    pub old: OldWorkspace,
    pub new: NewWorkspace,
    pub state: MigrationState,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub user_id: Id,
    pub username: String,
    pub email: String,
    pub name: String,
    /// `active`, `suspended` or `dormant`.
    pub status: String,
    /// A service account: it works by token, so it gets no notice and no
    /// migration script (its workspaces are moved by whoever runs it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_service_account: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OldWorkspace {
    pub workspace_id: Id,
    pub name: String,
    pub org: String,
    pub template: String,
    pub template_id: Id,
    /// Latest build status (`running`, `stopped`, `failed`, ...).
    pub status: String,
    pub dormant_at: Option<String>,
    pub deleting_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    pub org: String,
    pub template: String,
    /// A valid name, unique among the owner's workspaces (old and new).
    pub workspace_name: String,
    /// Key of the step that re-creates the template.
    pub template_step: String,
    /// Why the name is not simply `<old>-<org>`, when it is not.
    pub name_note: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationState {
    /// The new workspace does not exist yet.
    #[default]
    Pending,
    /// The owner already has the new workspace (files may still need copying).
    NewWorkspaceExists,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Stable kebab-case code, e.g. `shared-template`.
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// What to do about it, when there is something to do.
    pub help: Option<String>,
    /// The objects it concerns.
    pub affects: Vec<Affected>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// A decision the plan made, for the record.
    Info,
    /// Worth a look before applying.
    Warning,
    /// Could cost someone access or data if ignored.
    Risk,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Affected {
    /// `organization`, `group`, `template`, `user`, `workspace`, `provisioner-key`,
    /// `workspace-proxy` or `step`.
    pub kind: String,
    /// The org it lives in, where it has one.
    pub org: Option<String>,
    /// Its name (`owner/name` for workspaces; the key for steps).
    pub name: String,
    pub id: Option<Id>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub no_op: usize,
    pub workspaces_to_migrate: usize,
}
