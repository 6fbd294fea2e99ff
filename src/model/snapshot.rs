//! The snapshot: one Coder deployment's state, as orgsplit sees it.
//!
//! Field names follow the Coder API (`codersdk` types in `swagger.json`); where
//! the snapshot keeps less than the API sends (role names instead of role
//! objects, member ids instead of user objects) the field keeps the API's name
//! and says so. Every list is kept in a canonical order (see `canonical.rs`),
//! so two snapshots of the same state are byte-identical.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Bump when a change would make an older orgsplit misread a snapshot.
pub const FORMAT_VERSION: u32 = 2;

/// The older versions this orgsplit still reads. Version 1 lacks what
/// version 2 added (service accounts, default member roles, workspace
/// sharing); those fields read as false or unknown.
pub const OLDER_FORMAT_VERSIONS: &[u32] = &[1];

pub type Id = String;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Version of this document's format. orgsplit refuses versions it does not know.
    pub format_version: u32,
    /// Where the state came from and when.
    pub source: Source,
    pub build_info: Option<BuildInfo>,
    pub entitlements: Option<Entitlements>,
    pub organizations: Vec<Organization>,
    pub users: Vec<User>,
    /// Organization memberships with their org roles.
    pub organization_members: Vec<OrganizationMember>,
    pub groups: Vec<Group>,
    pub templates: Vec<Template>,
    pub template_versions: Vec<TemplateVersion>,
    pub workspaces: Vec<Workspace>,
    pub provisioner_daemons: Vec<ProvisionerDaemon>,
    pub provisioner_keys: Vec<ProvisionerKey>,
    pub workspace_proxies: Vec<WorkspaceProxy>,
    /// Custom organization roles (built-in roles are not listed).
    pub custom_roles: Vec<Role>,
    pub idp_sync: IdpSync,
    /// People attributes from an HR or IdP export (`--people`), if given.
    pub people: Option<People>,
    /// Infrastructure signals from the templates' Terraform sources (`--template-sources`).
    pub template_sources: Vec<TemplateSource>,
    /// Everything the import noticed and did not drop silently.
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `export-dir` (offline import of a folder), `api` (live import) or `builtin` (the MegaCo example).
    pub kind: String,
    /// The export folder's name, or the deployment URL. Never holds credentials.
    pub location: String,
    /// When the state was read (RFC 3339). For offline imports: `--taken-at`,
    /// else the entitlements' `refreshed_at`, else null.
    pub taken_at: Option<String>,
    /// The deployment's own address (its access URL, without a trailing
    /// slash): the URL a live import read it from, else `--deployment-url`,
    /// else what the deployment reports for itself (build info's
    /// `dashboard_url`, or the primary region's URL). Never build info's
    /// `external_url`, which links to Coder's source. Null when unknown;
    /// absent in snapshots of older orgsplit versions (see
    /// `Snapshot::deployment_url`).
    #[serde(default)]
    pub deployment_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildInfo {
    pub version: String,
    pub external_url: String,
    pub dashboard_url: String,
    pub deployment_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entitlements {
    pub has_license: bool,
    pub trial: bool,
    pub refreshed_at: Option<String>,
    /// Keyed by feature name (`multiple_organizations`, `custom_roles`, ...).
    pub features: BTreeMap<String, Feature>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    pub enabled: bool,
    /// `entitled`, `grace_period` or `not_entitled`.
    pub entitlement: String,
    pub limit: Option<i64>,
    pub actual: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub id: Id,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    pub is_default: bool,
    pub created_at: Option<String>,
    /// Org role names every member has on top of their own (Coder's
    /// `default_org_member_roles`; an empty list means members cannot create
    /// or use workspaces). Absent when the server predates them: unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_org_member_roles: Option<Vec<String>>,
    /// Whose workspaces may be shared: `none`, `everyone` or
    /// `service_accounts`. Absent when the export does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shareable_workspace_owners: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub email: String,
    pub name: String,
    /// `active`, `suspended` or `dormant`.
    pub status: String,
    /// `password`, `github`, `oidc`, `token`, `none` or empty.
    pub login_type: String,
    /// Site role names (the API's `roles` holds role objects; we keep the names).
    pub roles: Vec<String>,
    pub created_at: Option<String>,
    pub last_seen_at: Option<String>,
    /// A service account (Coder's `is_service_account`): it logs in by
    /// token, never through the IdP. False when the server predates them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_service_account: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationMember {
    pub organization_id: Id,
    pub user_id: Id,
    /// Org role names (built-in or custom). `organization-member` is implicit and not listed.
    /// Null when the export had no member list for this org, so the roles are unknown.
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: Id,
    pub organization_id: Id,
    pub name: String,
    pub display_name: String,
    /// `user` (made in Coder) or `oidc` (synced from the IdP).
    pub source: String,
    pub quota_allowance: i64,
    pub avatar_url: String,
    /// Member user ids (the API's `members` holds user objects; we keep the ids).
    pub members: Vec<Id>,
    pub total_member_count: i64,
}

/// A template (`codersdk.Template`), as the snapshot holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: Id,
    pub organization_id: Id,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    pub active_version_id: Id,
    pub provisioner: String,
    pub deprecated: bool,
    pub deprecation_message: String,
    pub created_by_id: Id,
    pub created_by_name: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub active_user_count: i64,
    /// Its settings (in the JSON, fields of the template itself).
    #[serde(flatten)]
    pub settings: TemplateSettings,
    /// Who may use the template. Null when the export did not include it.
    pub acl: Option<TemplateAcl>,
}

/// A template's settings: what a copy must carry over and a `PATCH
/// /templates/{id}` must send, besides its names. One type for the snapshot,
/// the plan's specs and the wire conversion (`coder::types::Template::settings`).
/// Flattened into its owners, so the JSON keeps its fields where they were.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateSettings {
    pub default_ttl_ms: i64,
    pub activity_bump_ms: i64,
    pub failure_ttl_ms: i64,
    /// Idle time before a workspace is marked dormant (0 = never).
    pub time_til_dormant_ms: i64,
    /// Time a dormant workspace waits before it is deleted (0 = never).
    pub time_til_dormant_autodelete_ms: i64,
    pub require_active_version: bool,
    pub allow_user_autostart: bool,
    pub allow_user_autostop: bool,
    pub allow_user_cancel_workspace_jobs: bool,
    pub max_port_share_level: String,
    pub autostop_requirement: AutostopRequirement,
    pub autostart_requirement: AutostartRequirement,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutostopRequirement {
    pub days_of_week: Vec<String>,
    pub weeks: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutostartRequirement {
    pub days_of_week: Vec<String>,
}

/// A template's access list (GET /templates/{id}/acl), reduced to ids and roles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateAcl {
    pub users: Vec<AclEntry>,
    /// Groups; the API names this list `group` (singular).
    pub group: Vec<AclEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AclEntry {
    pub id: Id,
    /// `use` or `admin`.
    pub role: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateVersion {
    pub id: Id,
    pub template_id: Id,
    pub organization_id: Id,
    pub name: String,
    pub created_at: Option<String>,
    pub job: VersionJob,
}

/// The part of a template version's provisioner job that a re-creation needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionJob {
    /// The source archive's id (GET /files/{file_id}).
    pub file_id: Id,
    pub status: String,
    /// Provisioner tags the version was built with.
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    pub id: Id,
    pub name: String,
    pub owner_id: Id,
    /// The owner's username.
    pub owner_name: String,
    pub organization_id: Id,
    pub template_id: Id,
    pub template_name: String,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Set when the workspace is dormant.
    pub dormant_at: Option<String>,
    /// Set when a dormant workspace is scheduled for deletion.
    pub deleting_at: Option<String>,
    pub automatic_updates: String,
    pub autostart_schedule: Option<String>,
    pub ttl_ms: Option<i64>,
    pub outdated: bool,
    pub latest_build: WorkspaceBuild,
    /// Who the workspace is shared with (users and groups, each with a role).
    /// Absent when the export does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<WorkspaceShares>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceShares {
    pub users: Vec<AclEntry>,
    pub groups: Vec<AclEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceBuild {
    pub id: Id,
    pub build_number: i64,
    /// `pending`, `starting`, `running`, `stopping`, `stopped`, `failed`,
    /// `canceling`, `canceled`, `deleting` or `deleted`.
    pub status: String,
    /// `start`, `stop` or `delete`.
    pub transition: String,
    pub template_version_id: Id,
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionerDaemon {
    pub id: Id,
    pub name: String,
    pub organization_id: Id,
    pub key_id: Id,
    pub key_name: String,
    /// `offline`, `idle` or `busy`.
    pub status: String,
    pub version: String,
    pub last_seen_at: Option<String>,
    pub provisioners: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionerKey {
    pub id: Id,
    pub name: String,
    /// The key's organization id. The API names this field `organization`.
    pub organization: Id,
    pub tags: BTreeMap<String, String>,
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceProxy {
    pub id: Id,
    pub name: String,
    pub display_name: String,
    pub healthy: bool,
    pub deleted: bool,
    pub path_app_url: String,
    pub wildcard_hostname: String,
    pub derp_enabled: bool,
    pub derp_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: String,
    pub display_name: String,
    pub organization_id: Id,
    pub organization_permissions: Vec<Permission>,
    pub organization_member_permissions: Vec<Permission>,
    pub site_permissions: Vec<Permission>,
    pub user_permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub negate: bool,
    pub resource_type: String,
    pub action: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdpSync {
    /// Deployment-wide organization sync (claim value -> organization ids).
    pub organization: Option<OrganizationSyncSettings>,
    /// Group sync, per organization.
    pub groups: Vec<OrgGroupSync>,
    /// Role sync, per organization.
    pub roles: Vec<OrgRoleSync>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSyncSettings {
    pub field: String,
    pub mapping: BTreeMap<String, Vec<Id>>,
    pub organization_assign_default: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgGroupSync {
    pub organization_id: Id,
    pub field: String,
    /// Claim value -> group ids of this organization.
    pub mapping: BTreeMap<String, Vec<Id>>,
    pub regex_filter: Option<String>,
    pub auto_create_missing_groups: bool,
    pub legacy_group_name_mapping: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgRoleSync {
    pub organization_id: Id,
    pub field: String,
    /// Claim value -> org role names.
    pub mapping: BTreeMap<String, Vec<String>>,
}

/// People attributes, from a CSV exported from an HR system or the IdP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct People {
    /// The CSV file's name (not its full path, so snapshots do not depend on where it was).
    pub source: String,
    /// The column that matched rows to users: `username` or `email`.
    pub key_column: String,
    /// Attribute columns, in the file's order (the key column excluded).
    pub columns: Vec<String>,
    pub records: Vec<PersonRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRecord {
    pub user_id: Id,
    pub username: String,
    /// Column -> value. Multi-valued attributes (IdP claims such as `memberOf`)
    /// separate their values with `;`.
    pub attributes: BTreeMap<String, String>,
    /// The CSV line the record came from.
    pub line: u64,
}

/// What a template's Terraform source says about the infrastructure it uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSource {
    /// The subfolder the source was read from, relative to `--template-sources`.
    pub path: String,
    pub template_id: Option<Id>,
    pub template_name: String,
    /// Terraform files read, relative to `path`.
    pub files: Vec<String>,
    pub signals: Vec<Signal>,
    /// Some of the template's Terraform could not be read or does not parse
    /// (the snapshot's warnings say which file and line), so its signals may
    /// miss some. Written only when true; snapshots from before it read as false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub signals_incomplete: bool,
    /// The template whose source this one repeats except for defaults, tags and
    /// names (`rules::variants`). Written only when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<VariantOf>,
}

/// The source a variant repeats, and the lines where it differs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantOf {
    /// The other template's source folder (`TemplateSource::path`).
    pub path: String,
    /// `file:line: text` of the variant's lines the other lacks (at most 5).
    pub lines: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !b
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// `provider`, `cloud_account`, `cluster`, `namespace`, `region`, `gpu`,
    /// `image`, `module`, `vm` or `container`.
    pub kind: String,
    pub value: String,
    /// File (relative to the template's folder) and line where it was found.
    pub file: String,
    pub line: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Warning {
    /// Stable kebab-case code, e.g. `dangling-template`.
    pub code: String,
    pub message: String,
}

impl Warning {
    pub fn new(code: &str, message: impl Into<String>) -> Warning {
        Warning { code: code.to_string(), message: message.into() }
    }
}
