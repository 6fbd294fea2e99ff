//! Request bodies of the write endpoints (`codersdk.*Request` in
//! `swagger.json`), and the few answers only writes get.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::secret::Secret;
use super::types::Permission;
use crate::model::{self, AutostartRequirement, AutostopRequirement};

/// `codersdk.CreateOrganizationRequest`
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateOrganizationRequest {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
}

/// `codersdk.UpdateOrganizationRequest`. The server changes `display_name`
/// only when it is not empty; `description` and `icon` are pointers there
/// (omitted keeps, `""` clears), so they are always sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateOrganizationRequest {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    pub description: String,
    pub icon: String,
    /// Newer releases only (older ones ignore it); omitted keeps them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_org_member_roles: Option<Vec<String>>,
}

/// `codersdk.WorkspaceSharingSettings` as a request: v2.30.0 reads
/// `sharing_disabled`; newer releases also say whose workspaces may be
/// shared, sent only to a server whose answer had the field.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateWorkspaceSharing {
    pub sharing_disabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shareable_workspace_owners: Option<String>,
}

/// `codersdk.PatchOrganizationIDPSyncConfigRequest`: the claim, and whether
/// everyone also goes in the default org (named `assign_default` here).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatchOrganizationSyncConfig {
    pub field: String,
    pub assign_default: bool,
}

/// `codersdk.PatchGroupIDPSyncConfigRequest`. `regex_filter` is a string or null.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatchGroupSyncConfig {
    pub field: String,
    pub regex_filter: Option<String>,
    pub auto_create_missing_groups: bool,
}

/// `codersdk.PatchRoleIDPSyncConfigRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatchRoleSyncConfig {
    pub field: String,
}

/// `codersdk.CreateGroupRequest`
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateGroupRequest {
    pub name: String,
    pub display_name: String,
    pub avatar_url: String,
    pub quota_allowance: i64,
}

/// `codersdk.PatchGroupRequest`. Fields left `None` are not sent, and the
/// server leaves them as they are (`quota_allowance` is a pointer there).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatchGroupRequest {
    /// User ids. Each must already be a member of the group's organization
    /// (else 412) and not yet in the group (else 412).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add_users: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove_users: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_allowance: Option<i64>,
}

/// `codersdk.CustomRoleRequest`. For an organization role the site and user
/// permissions must be empty (the server answers 400 otherwise), so they are
/// not fields here.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CustomRoleRequest {
    pub name: String,
    pub display_name: String,
    pub organization_permissions: Vec<Permission>,
    pub organization_member_permissions: Vec<Permission>,
}

/// `codersdk.CreateProvisionerKeyRequest` (missing from the spec).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateProvisionerKeyRequest {
    pub name: String,
    pub tags: BTreeMap<String, String>,
}

/// `codersdk.CreateProvisionerKeyResponse`: the key's secret, shown once.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateProvisionerKeyResponse {
    pub key: Secret,
}

/// One entry of an IdP sync mapping: claim value `given` -> `gets` (an org
/// id, a group id, or a role name).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MappingEntry {
    pub given: String,
    pub gets: String,
}

/// `codersdk.Patch{Organization,Group,Role}IDPSyncMappingRequest`: entries to
/// add and to remove, leaving the rest of the mapping alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatchMappingRequest {
    pub add: Vec<MappingEntry>,
    pub remove: Vec<MappingEntry>,
}

/// `codersdk.UploadResponse`. The field is named `hash` but holds the file's id.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct UploadResponse {
    #[serde(default)]
    pub hash: String,
}

/// `codersdk.VariableValue`
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VariableValue {
    pub name: String,
    pub value: String,
}

/// `codersdk.CreateTemplateVersionRequest`, for source archives (`storage_method: file`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateTemplateVersionRequest {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The uploaded archive's id (the `hash` of `POST /files`).
    pub file_id: String,
    pub storage_method: String,
    pub provisioner: String,
    /// Provisioner tags: a daemon of the organization with all of them must run the job.
    pub tags: BTreeMap<String, String>,
    /// Only to add a version to an existing template; a new template links its first version itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    pub user_variable_values: Vec<VariableValue>,
}

impl CreateTemplateVersionRequest {
    pub fn from_file(file_id: impl Into<String>, tags: BTreeMap<String, String>) -> CreateTemplateVersionRequest {
        CreateTemplateVersionRequest {
            name: String::new(),
            message: String::new(),
            file_id: file_id.into(),
            storage_method: "file".into(),
            provisioner: "terraform".into(),
            tags,
            template_id: None,
            user_variable_values: Vec::new(),
        }
    }
}

/// `codersdk.CreateTemplateRequest`. Note the dormancy fields: here
/// `dormant_ttl_ms` and `delete_ttl_ms`, on the template (GET and PATCH)
/// `time_til_dormant_ms` and `time_til_dormant_autodelete_ms`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateTemplateRequest {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    pub template_version_id: String,
    pub default_ttl_ms: i64,
    pub activity_bump_ms: i64,
    pub failure_ttl_ms: i64,
    pub dormant_ttl_ms: i64,
    pub delete_ttl_ms: i64,
    pub allow_user_autostart: bool,
    pub allow_user_autostop: bool,
    pub allow_user_cancel_workspace_jobs: bool,
    pub require_active_version: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub max_port_share_level: String,
    pub autostop_requirement: AutostopRequirement,
    pub autostart_requirement: AutostartRequirement,
    /// Leave the org's Everyone group out of the new template's ACL.
    pub disable_everyone_group_access: bool,
}

impl CreateTemplateRequest {
    /// A request with `settings`, on the version `version_id` (already built
    /// in the target organization); the caller fills in the names.
    pub fn with_settings(settings: &model::TemplateSettings, version_id: impl Into<String>) -> CreateTemplateRequest {
        let s = settings;
        CreateTemplateRequest {
            template_version_id: version_id.into(),
            default_ttl_ms: s.default_ttl_ms,
            activity_bump_ms: s.activity_bump_ms,
            failure_ttl_ms: s.failure_ttl_ms,
            dormant_ttl_ms: s.time_til_dormant_ms,
            delete_ttl_ms: s.time_til_dormant_autodelete_ms,
            allow_user_autostart: s.allow_user_autostart,
            allow_user_autostop: s.allow_user_autostop,
            allow_user_cancel_workspace_jobs: s.allow_user_cancel_workspace_jobs,
            require_active_version: s.require_active_version,
            max_port_share_level: s.max_port_share_level.clone(),
            autostop_requirement: s.autostop_requirement.clone(),
            autostart_requirement: s.autostart_requirement.clone(),
            ..CreateTemplateRequest::default()
        }
    }

    /// A template with the settings of `t`, on the version `version_id`
    /// (already built in the target organization).
    pub fn like(t: &model::Template, version_id: impl Into<String>) -> CreateTemplateRequest {
        CreateTemplateRequest {
            name: t.name.clone(),
            display_name: t.display_name.clone(),
            description: t.description.clone(),
            icon: t.icon.clone(),
            disable_everyone_group_access: false,
            ..CreateTemplateRequest::with_settings(&t.settings, version_id)
        }
    }
}

/// `codersdk.UpdateTemplateACL`: user and group ids -> `use`, `admin`, or
/// `""` to remove. Ids not mentioned keep their entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateTemplateAcl {
    pub user_perms: BTreeMap<String, String>,
    pub group_perms: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_template_uses_the_create_time_names_for_dormancy() {
        let t = model::Template {
            name: "k8s".into(),
            settings: model::TemplateSettings {
                time_til_dormant_ms: 7,
                time_til_dormant_autodelete_ms: 9,
                ..Default::default()
            },
            ..model::Template::default()
        };
        let body = serde_json::to_value(CreateTemplateRequest::like(&t, "v1")).unwrap();
        assert_eq!((body["dormant_ttl_ms"].as_i64(), body["delete_ttl_ms"].as_i64()), (Some(7), Some(9)));
        assert!(body.get("time_til_dormant_ms").is_none() && body.get("time_til_dormant_autodelete_ms").is_none());
        assert_eq!(body["template_version_id"], "v1");
    }

    #[test]
    fn patch_group_sends_only_what_changes() {
        let body =
            serde_json::to_value(PatchGroupRequest { add_users: vec!["u1".into()], ..Default::default() }).unwrap();
        assert_eq!(body, serde_json::json!({"add_users": ["u1"]}));
    }

    #[test]
    fn a_new_template_version_does_not_name_a_template() {
        let body = serde_json::to_value(CreateTemplateVersionRequest::from_file("f1", BTreeMap::new())).unwrap();
        assert!(body.get("template_id").is_none());
        assert_eq!((body["storage_method"].as_str(), body["provisioner"].as_str()), (Some("file"), Some("terraform")));
    }
}
