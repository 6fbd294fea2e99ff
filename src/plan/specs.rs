//! The executable part of each plan step: what to send to the API (or,
//! where IdP sync owns something, what the sync mapping must say). Part of
//! the plan contract (see `types.rs`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{Id, Permission, TemplateSettings};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSpec {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    /// The org's default member roles, set explicitly: the split file's, else
    /// the source organization's. Absent when neither is known (a server
    /// that predates them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_member_roles: Option<Vec<String>>,
    /// Whose workspaces may be shared (`none`, `everyone`, `service_accounts`),
    /// set explicitly: the split file's, else the source organization's.
    /// Absent when neither is known (the `workspace-sharing` experiment off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_sharing: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionerKeySpec {
    pub name: String,
    /// The key's tags; the org's re-created template versions carry the same tags.
    pub tags: BTreeMap<String, String>,
    /// The CLI command that creates the key (the secret is printed once: store it).
    pub create_command: String,
    /// The command the org's team runs, where its infrastructure is, to start a provisioner with the key
    /// (`$KEY` is the secret the create command printed; `CODER_URL` is set when the snapshot knows the URL).
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
    pub settings: TemplateMeta,
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
    /// A template generated rather than copied (from a Coder v1 image, by
    /// `orgsplit v1-plan`): its source files, path -> text. apply uploads
    /// them as the new version's archive; there is no source template to
    /// read. Absent for a copy of a v2 template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<BTreeMap<String, String>>,
}

/// Every setting `PATCH /templates/{id}` writes (names as in `codersdk.UpdateTemplateMeta`;
/// at creation the dormancy fields are `dormant_ttl_ms` and `delete_ttl_ms`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The schema keeps the name this type had before the settings proper became their own type.
#[schemars(rename = "TemplateSettings")]
pub struct TemplateMeta {
    pub display_name: String,
    pub description: String,
    pub icon: String,
    /// The settings proper (in the JSON, fields of this object).
    #[serde(flatten)]
    pub settings: TemplateSettings,
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
    /// The message to set, final text (plain text: Coder shows it as it is; names literal).
    pub message: String,
    /// Where its users go: one entry per org the template is re-created in.
    pub replacements: Vec<Replacement>,
    /// The old template's settings as read: a PATCH must send them all with the message.
    pub settings: TemplateMeta,
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
