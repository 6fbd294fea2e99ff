//! The plan document: what `orgsplit plan` writes and `diff`, `scripts`,
//! `notices`, `report` and `apply` read. It is a contract between those
//! commands, so every field says what it holds and readers never need the
//! snapshot again. Changes are additive: new fields get defaults; a change
//! that would make an older reader misread a plan bumps `FORMAT_VERSION`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{AutostartRequirement, AutostopRequirement, Id, Permission};
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
    /// The deployment's URL (`external_url` from build info; for a live
    /// import, the URL it was read from). Empty when the snapshot does not say.
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
pub struct OrganizationSpec {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionerKeySpec {
    pub name: String,
    /// The key's tags; the org's re-created template versions carry the same tags.
    pub tags: BTreeMap<String, String>,
    /// The CLI command that creates the key (the secret is printed once: store it).
    pub create_command: String,
    /// The command the org's team runs, where its infrastructure is, to start a provisioner with the key.
    pub start_command: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomRoleSpec {
    pub name: String,
    pub display_name: String,
    /// Grants on the whole organization (`organization_permissions`).
    pub organization_permissions: Vec<Permission>,
    /// Grants on what the member owns in the org (`organization_member_permissions`).
    pub organization_member_permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSyncSpec {
    /// The IdP claim that names a user's organizations.
    pub field: String,
    pub assign_default: bool,
    /// Claim value -> organization names to add to the mapping (apply resolves names to ids).
    /// Entries already there are kept; nothing is removed.
    pub add: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    pub user_id: Id,
    pub username: String,
    pub email: String,
}

/// Who puts a user in place: the API (apply does it), or IdP sync (the
/// server refuses manual changes; it happens at the user's next login).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "by", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ManagedBy {
    #[default]
    Api,
    IdpSync {
        /// The claim (`memberOf`) and the user's values of it that the mapping uses.
        field: String,
        claims: Vec<String>,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    pub user: UserRef,
    /// The org roles the member holds after the step (existing ones kept;
    /// `organization-member` is implicit and not listed). `PUT .../roles` takes this list.
    pub roles: Vec<String>,
    /// Roles this step adds.
    pub add_roles: Vec<String>,
    /// Why the user goes in: `group:<name>`, `user`, `claim:<field>=<value>`,
    /// `people:<column>=<value>`, `admin`, `role:<name>`, `org-sync:<claim>`.
    pub reasons: Vec<String>,
    pub membership_by: ManagedBy,
    pub roles_by: ManagedBy,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    pub display_name: String,
    pub avatar_url: String,
    pub quota_allowance: i64,
    /// The group it is copied from (in the source org), if any.
    pub source: Option<ObjectRef>,
    /// Members after the step (existing members are kept).
    pub members: Vec<UserRef>,
    /// Members this step adds through the API (each must be an org member first).
    pub add_members: Vec<UserRef>,
    /// Members whose org membership comes from IdP sync: added by group sync
    /// when the mapping covers this group, else only after their first login.
    pub members_after_login: Vec<UserRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSyncSpec {
    pub field: String,
    /// Claim value -> group names in this org (apply resolves names to ids).
    pub mapping: BTreeMap<String, Vec<String>>,
    pub regex_filter: Option<String>,
    pub auto_create_missing_groups: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleSyncSpec {
    pub field: String,
    /// Claim value -> org role names.
    pub mapping: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    pub id: Id,
    pub org: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// The template's name in the new org.
    pub name: String,
    pub source: TemplateSource,
    /// Tags of the new template version: the org's provisioner tags.
    pub provisioner_tags: BTreeMap<String, String>,
    /// Every setting, as read from the source template: send them all (a PATCH resets what it omits).
    pub settings: TemplateSettings,
    /// Who may use the new template, by names in the new org.
    pub acl: TemplateGrants,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSource {
    pub template_id: Id,
    pub org: String,
    pub name: String,
    pub active_version_id: Id,
    pub active_version_name: String,
    /// The active version's source archive (`GET /files/{file_id}`).
    pub file_id: Id,
    pub provisioner: String,
    /// The tags the active version was built with (implicit `scope`/`owner` included).
    pub provisioner_tags: BTreeMap<String, String>,
}

/// Every setting `PATCH /templates/{id}` writes (names as in `codersdk.UpdateTemplateMeta`;
/// at creation the dormancy fields are `dormant_ttl_ms` and `delete_ttl_ms`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    pub display_name: String,
    pub description: String,
    pub icon: String,
    pub default_ttl_ms: i64,
    pub activity_bump_ms: i64,
    pub failure_ttl_ms: i64,
    pub time_til_dormant_ms: i64,
    pub time_til_dormant_autodelete_ms: i64,
    pub require_active_version: bool,
    pub allow_user_autostart: bool,
    pub allow_user_autostop: bool,
    pub allow_user_cancel_workspace_jobs: bool,
    pub max_port_share_level: String,
    pub autostop_requirement: AutostopRequirement,
    pub autostart_requirement: AutostartRequirement,
    /// True when the source template did not grant the org's Everyone group.
    pub disable_everyone_group_access: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateGrants {
    /// Group name in the new org (`Everyone` included when granted) -> `use` or `admin`.
    pub groups: BTreeMap<String, String>,
    pub users: Vec<UserGrant>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserGrant {
    pub user: UserRef,
    /// `use` or `admin`.
    pub role: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeprecationSpec {
    pub template_id: Id,
    pub template_name: String,
    pub template_display_name: String,
    /// The message to set, final text (Markdown; names from the deployment escaped).
    pub message: String,
    /// Where its users go: one entry per org the template is re-created in.
    pub replacements: Vec<Replacement>,
    /// The old template's settings as read: a PATCH must send them all with the message.
    pub settings: TemplateSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    pub org: String,
    pub org_display_name: String,
    pub template: String,
    /// Key of the step that re-creates it.
    pub step: String,
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
