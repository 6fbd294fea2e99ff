//! Wire types of the Coder API (`codersdk.*` in `swagger.json`), as much of
//! each as orgsplit reads.
//!
//! Decoding is lenient on purpose: unknown fields are ignored (newer servers
//! add fields), missing fields take their default (older servers lack them),
//! and `null` is accepted wherever Go may send it (a nil slice or map is
//! marshalled as `null`). Large nested values the snapshot does not keep
//! (workspace resources and agents, group members inside template ACLs) are
//! not declared, so serde skips them without allocating.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Go's zero UUID, which the API sends for an id that is not set (a
/// provisioner daemon without a key, say).
pub const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// Deserialise `null` as the type's default, and the nil UUID as no id (the
/// empty string; dropped from lists of ids). Every field of every wire type
/// is read through here, so ids mean "none" the same way everywhere. No
/// Coder name can be a UUID (names are at most 32 characters) but a group's
/// (36): a group literally named the nil UUID reads as unnamed.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de> + 'static,
{
    let mut value = Option::<T>::deserialize(d)?.unwrap_or_default();
    let any: &mut dyn std::any::Any = &mut value;
    if let Some(s) = any.downcast_mut::<String>() {
        if s == NIL_UUID {
            s.clear();
        }
    } else if let Some(s) = any.downcast_mut::<Option<String>>() {
        if s.as_deref() == Some(NIL_UUID) {
            *s = None;
        }
    } else if let Some(v) = any.downcast_mut::<Vec<String>>() {
        v.retain(|s| s != NIL_UUID);
    }
    Ok(value)
}

/// Declares a lenient wire struct: every field defaults and accepts `null`.
macro_rules! wire {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $($(#[$fmeta])* #[serde(default, deserialize_with = "null_default")] pub $field: $ty,)*
        }
    };
}

wire! {
    /// `codersdk.BuildInfoResponse`
    pub struct BuildInfo {
        pub version: String,
        pub external_url: String,
        pub dashboard_url: String,
        pub deployment_id: String,
        pub agent_api_version: String,
    }
}

wire! {
    /// `codersdk.Entitlements`
    pub struct Entitlements {
        pub features: BTreeMap<String, Feature>,
        pub has_license: bool,
        pub trial: bool,
        pub refreshed_at: Option<String>,
        pub errors: Vec<String>,
        pub warnings: Vec<String>,
        pub require_telemetry: bool,
    }
}

wire! {
    /// `codersdk.Feature`
    pub struct Feature {
        pub enabled: bool,
        pub entitlement: String,
        pub limit: Option<i64>,
        pub actual: Option<i64>,
    }
}

wire! {
    /// `codersdk.Organization`
    pub struct Organization {
        pub id: String,
        pub name: String,
        pub display_name: String,
        pub description: String,
        pub icon: String,
        pub is_default: bool,
        pub created_at: Option<String>,
        pub updated_at: Option<String>,
        /// Newer releases: role names unioned into every member's roles.
        /// Absent (or null) from older ones: unknown, not empty.
        pub default_org_member_roles: Option<Vec<String>>,
    }
}

wire! {
    /// `codersdk.SlimRole`
    pub struct SlimRole {
        pub name: String,
        pub display_name: String,
        pub organization_id: String,
    }
}

wire! {
    /// `codersdk.User` (also `codersdk.ReducedUser`, which lacks `roles` and `organization_ids`).
    pub struct User {
        pub id: String,
        pub username: String,
        pub email: String,
        pub name: String,
        pub status: String,
        pub login_type: String,
        pub roles: Vec<SlimRole>,
        pub organization_ids: Vec<String>,
        pub created_at: Option<String>,
        pub last_seen_at: Option<String>,
        pub avatar_url: String,
        /// Newer releases: a service account, which logs in by token only.
        pub is_service_account: bool,
    }
}

wire! {
    /// `codersdk.GetUsersResponse`
    pub struct GetUsersResponse {
        pub users: Vec<User>,
        pub count: i64,
    }
}

wire! {
    /// `codersdk.OrganizationMemberWithUserData` (and `codersdk.OrganizationMember`).
    pub struct OrganizationMember {
        pub organization_id: String,
        pub user_id: String,
        pub username: String,
        pub email: String,
        pub roles: Vec<SlimRole>,
        pub global_roles: Vec<SlimRole>,
    }
}

wire! {
    /// `codersdk.PaginatedMembersResponse` (the server answers one object,
    /// although the spec says an array).
    pub struct PaginatedMembersResponse {
        pub members: Vec<OrganizationMember>,
        pub count: i64,
    }
}

wire! {
    /// A user as listed inside a group: only the id matters to us.
    pub struct MemberRef {
        pub id: String,
    }
}

wire! {
    /// `codersdk.Group`
    pub struct Group {
        pub id: String,
        pub organization_id: String,
        pub name: String,
        pub display_name: String,
        pub source: String,
        pub quota_allowance: i64,
        pub avatar_url: String,
        pub members: Vec<MemberRef>,
        pub total_member_count: i64,
    }
}

wire! {
    /// `codersdk.TemplateAutostopRequirement`
    pub struct AutostopRequirement {
        pub days_of_week: Vec<String>,
        pub weeks: i64,
    }
}

wire! {
    /// `codersdk.TemplateAutostartRequirement`
    pub struct AutostartRequirement {
        pub days_of_week: Vec<String>,
    }
}

wire! {
    /// `codersdk.Template`
    pub struct Template {
        pub id: String,
        pub organization_id: String,
        pub name: String,
        pub display_name: String,
        pub description: String,
        pub icon: String,
        pub active_version_id: String,
        pub provisioner: String,
        pub deprecated: bool,
        pub deprecation_message: String,
        pub created_by_id: String,
        pub created_by_name: String,
        pub created_at: Option<String>,
        pub updated_at: Option<String>,
        pub active_user_count: i64,
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
    }
}

impl Template {
    /// Its settings, as the snapshot and the plan hold them: the one
    /// conversion from the wire type.
    pub fn settings(&self) -> crate::model::TemplateSettings {
        crate::model::TemplateSettings {
            default_ttl_ms: self.default_ttl_ms,
            activity_bump_ms: self.activity_bump_ms,
            failure_ttl_ms: self.failure_ttl_ms,
            time_til_dormant_ms: self.time_til_dormant_ms,
            time_til_dormant_autodelete_ms: self.time_til_dormant_autodelete_ms,
            require_active_version: self.require_active_version,
            allow_user_autostart: self.allow_user_autostart,
            allow_user_autostop: self.allow_user_autostop,
            allow_user_cancel_workspace_jobs: self.allow_user_cancel_workspace_jobs,
            max_port_share_level: self.max_port_share_level.clone(),
            autostop_requirement: crate::model::AutostopRequirement {
                days_of_week: self.autostop_requirement.days_of_week.clone(),
                weeks: self.autostop_requirement.weeks,
            },
            autostart_requirement: crate::model::AutostartRequirement {
                days_of_week: self.autostart_requirement.days_of_week.clone(),
            },
        }
    }
}

wire! {
    /// An ACL entry (`codersdk.TemplateUser` / `codersdk.TemplateGroup`): the
    /// id and role only. The group's `members` list is skipped unread: at
    /// 50,000 users it is megabytes per template (see ENDPOINTS.md).
    pub struct AclEntry {
        pub id: String,
        pub role: String,
    }
}

wire! {
    /// `codersdk.TemplateACL`. Note the singular `group`.
    pub struct TemplateAcl {
        pub users: Vec<AclEntry>,
        pub group: Vec<AclEntry>,
    }
}

wire! {
    /// `codersdk.WorkspaceACL` (newer releases): who a workspace is shared
    /// with. Like a template's, the groups are under the singular `group`.
    pub struct WorkspaceAcl {
        pub users: Vec<AclEntry>,
        pub group: Vec<AclEntry>,
    }
}

wire! {
    /// `codersdk.WorkspaceSharingSettings`, per organization
    /// (`GET /organizations/{org}/settings/workspace-sharing`, routed only with
    /// the `workspace-sharing` experiment on). v2.30.0 has `sharing_disabled`
    /// alone; newer releases say whose workspaces may be shared in
    /// `shareable_workspace_owners`.
    pub struct WorkspaceSharingSettings {
        pub sharing_globally_disabled: bool,
        pub sharing_disabled: bool,
        /// `none`, `everyone` or `service_accounts` (newer releases).
        pub shareable_workspace_owners: Option<String>,
    }
}

impl WorkspaceSharingSettings {
    /// Whose workspaces may be shared, in the newer releases' terms: v2.30.0's
    /// `sharing_disabled: true` is `none`, `false` is `everyone`.
    pub fn owners(&self) -> String {
        match &self.shareable_workspace_owners {
            Some(o) if !o.is_empty() => o.clone(),
            _ if self.sharing_disabled => "none".into(),
            _ => "everyone".into(),
        }
    }
}

/// The experiment v2.30.0 routes workspace ACLs and sharing settings behind,
/// and without which it leaves `shared_with` out of workspaces.
pub const EXPERIMENT_WORKSPACE_SHARING: &str = "workspace-sharing";

/// Whether the server has workspace sharing on, so each org's sharing
/// setting can be read and a listed workspace without `shared_with` is
/// shared with nobody: v2.30.0 with the `workspace-sharing` experiment, or a
/// newer release, where sharing is no longer an experiment (v2.36.1 routes
/// it always). A newer release is told by its organizations, which report
/// `default_org_member_roles` (v2.30.0's do not). Where a release has the
/// field but still keeps sharing behind the experiment, the settings answer
/// 403 and stay unknown.
pub fn sharing_on<'a>(experiments: Option<&[String]>, orgs: impl IntoIterator<Item = &'a Organization>) -> bool {
    experiments.is_some_and(|e| e.iter().any(|x| x == EXPERIMENT_WORKSPACE_SHARING))
        || orgs.into_iter().any(|o| o.default_org_member_roles.is_some())
}

wire! {
    /// `codersdk.ProvisionerJob`, the fields we keep.
    pub struct ProvisionerJob {
        pub id: String,
        pub file_id: String,
        pub status: String,
        pub tags: BTreeMap<String, String>,
        pub error: String,
        pub created_at: Option<String>,
        /// `template_version_import`, `workspace_build` or `template_version_dry_run`.
        #[serde(rename = "type")]
        pub kind: String,
        pub organization_id: String,
        pub initiator_id: String,
        pub input: ProvisionerJobInput,
    }
}

wire! {
    /// `codersdk.ProvisionerJobInput`: what the job works on.
    pub struct ProvisionerJobInput {
        pub template_version_id: String,
        pub workspace_build_id: String,
    }
}

wire! {
    /// `codersdk.TemplateVersionVariable`: a Terraform variable of a version.
    /// The server redacts `value` and `default_value` of sensitive ones.
    pub struct TemplateVersionVariable {
        pub name: String,
        pub description: String,
        #[serde(rename = "type")]
        pub kind: String,
        pub value: String,
        pub default_value: String,
        pub required: bool,
        pub sensitive: bool,
    }
}

wire! {
    /// `codersdk.MatchedProvisioners`
    pub struct MatchedProvisioners {
        pub count: i64,
        pub available: i64,
    }
}

wire! {
    /// `codersdk.TemplateVersion`
    pub struct TemplateVersion {
        pub id: String,
        pub template_id: String,
        pub organization_id: String,
        pub name: String,
        /// What it was created with (apply's say which template it is for).
        pub message: String,
        pub created_at: Option<String>,
        pub job: ProvisionerJob,
        pub matched_provisioners: Option<MatchedProvisioners>,
    }
}

wire! {
    /// `codersdk.WorkspaceBuild`, the fields we keep. Its `job` (and
    /// `resources`) are not declared: the snapshot keeps neither, and a
    /// workspace's are a dozen strings each, 150,000 times over in a large export.
    pub struct WorkspaceBuild {
        pub id: String,
        pub build_number: i64,
        pub status: String,
        pub transition: String,
        pub template_version_id: String,
        pub created_at: Option<String>,
    }
}

wire! {
    /// `codersdk.Workspace`, without resources and agents.
    pub struct Workspace {
        pub id: String,
        pub name: String,
        pub owner_id: String,
        pub owner_name: String,
        pub organization_id: String,
        pub template_id: String,
        pub template_name: String,
        pub created_at: Option<String>,
        pub last_used_at: Option<String>,
        pub dormant_at: Option<String>,
        pub deleting_at: Option<String>,
        pub automatic_updates: String,
        pub autostart_schedule: Option<String>,
        pub ttl_ms: Option<i64>,
        pub outdated: bool,
        pub latest_build: WorkspaceBuild,
        /// Who the workspace is shared with. v2.30.0 sends it only with the
        /// `workspace-sharing` experiment on, and omits it when empty, so its
        /// absence alone does not tell "not shared" from "not said".
        pub shared_with: Vec<SharedWorkspaceActor>,
    }
}

wire! {
    /// `codersdk.SharedWorkspaceActor`: a user or group a workspace is shared with.
    pub struct SharedWorkspaceActor {
        pub id: String,
        /// `user` or `group`.
        pub actor_type: String,
        pub name: String,
        /// `use` or `admin` (v2.30.0 sends exactly one).
        pub roles: Vec<String>,
    }
}

wire! {
    /// `codersdk.WorkspacesResponse`
    pub struct WorkspacesResponse {
        pub workspaces: Vec<Workspace>,
        pub count: i64,
    }
}

wire! {
    /// `codersdk.ProvisionerDaemon`
    pub struct ProvisionerDaemon {
        pub id: String,
        pub name: String,
        pub organization_id: String,
        pub key_id: String,
        pub key_name: String,
        pub status: String,
        pub version: String,
        pub last_seen_at: Option<String>,
        pub provisioners: Vec<String>,
        pub tags: BTreeMap<String, String>,
    }
}

wire! {
    /// `codersdk.ProvisionerKey`. The org field is `organization`, not `organization_id`.
    pub struct ProvisionerKey {
        pub id: String,
        pub name: String,
        pub organization: String,
        pub tags: BTreeMap<String, String>,
        pub created_at: Option<String>,
    }
}

wire! {
    /// `codersdk.ProvisionerKeyDaemons`
    pub struct ProvisionerKeyDaemons {
        pub key: ProvisionerKey,
        pub daemons: Vec<ProvisionerDaemon>,
    }
}

wire! {
    /// `codersdk.WorkspaceProxy` (and the lighter `codersdk.Region`).
    pub struct WorkspaceProxy {
        pub id: String,
        pub name: String,
        pub display_name: String,
        pub healthy: bool,
        pub deleted: bool,
        pub path_app_url: String,
        pub wildcard_hostname: String,
        pub derp_enabled: bool,
        pub derp_only: bool,
    }
}

wire! {
    /// `codersdk.RegionsResponse-codersdk_WorkspaceProxy` (one object on the
    /// wire, although the spec says an array).
    pub struct RegionsResponse {
        pub regions: Vec<WorkspaceProxy>,
    }
}

wire! {
    /// `codersdk.Permission`
    pub struct Permission {
        pub negate: bool,
        pub resource_type: String,
        pub action: String,
    }
}

wire! {
    /// `codersdk.Role` and `codersdk.AssignableRoles` (which adds `built_in`, `assignable`).
    pub struct Role {
        pub name: String,
        pub display_name: String,
        pub organization_id: String,
        pub organization_permissions: Vec<Permission>,
        pub organization_member_permissions: Vec<Permission>,
        pub site_permissions: Vec<Permission>,
        pub user_permissions: Vec<Permission>,
        pub built_in: bool,
        pub assignable: bool,
    }
}

wire! {
    /// `codersdk.OrganizationSyncSettings`
    pub struct OrganizationSyncSettings {
        pub field: String,
        pub mapping: BTreeMap<String, Vec<String>>,
        pub organization_assign_default: bool,
    }
}

wire! {
    /// `codersdk.GroupSyncSettings`. `regex_filter` is a string or null on the wire.
    pub struct GroupSyncSettings {
        pub field: String,
        pub mapping: BTreeMap<String, Vec<String>>,
        pub regex_filter: Option<String>,
        pub auto_create_missing_groups: bool,
        pub legacy_group_name_mapping: BTreeMap<String, String>,
    }
}

wire! {
    /// `codersdk.RoleSyncSettings`
    pub struct RoleSyncSettings {
        pub field: String,
        pub mapping: BTreeMap<String, Vec<String>>,
    }
}

wire! {
    /// `codersdk.Response`: the error body of every 4xx/5xx.
    pub struct Response {
        pub message: String,
        pub detail: String,
        pub validations: Vec<ValidationError>,
    }
}

wire! {
    /// `codersdk.ValidationError`
    pub struct ValidationError {
        pub field: String,
        pub detail: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_missing_fields_take_defaults() {
        let u: User =
            serde_json::from_str(r#"{"id":"1","roles":null,"organization_ids":null,"username":"a"}"#).unwrap();
        assert!(u.roles.is_empty() && u.organization_ids.is_empty() && u.email.is_empty());
    }

    #[test]
    fn the_nil_uuid_is_no_id() {
        let nil = NIL_UUID;
        let t: Template = serde_json::from_str(&format!(
            r#"{{"id":"t1","organization_id":"{nil}","active_version_id":"{nil}","name":"docker"}}"#
        ))
        .unwrap();
        assert_eq!((t.id.as_str(), t.organization_id.as_str(), t.active_version_id.as_str()), ("t1", "", ""));
        let u: User =
            serde_json::from_str(&format!(r#"{{"id":"1","organization_ids":["{nil}","o1"],"username":"a"}}"#)).unwrap();
        assert_eq!(u.organization_ids, ["o1"]);
        let d: ProvisionerDaemon = serde_json::from_str(&format!(r#"{{"id":"d","key_id":"{nil}"}}"#)).unwrap();
        assert_eq!(d.key_id, "");
    }

    #[test]
    fn acl_group_members_are_skipped() {
        let acl: TemplateAcl = serde_json::from_str(
            r#"{"users":[],"group":[{"id":"g","role":"use","members":[{"id":"u","email":"x"}],"name":"Everyone"}]}"#,
        )
        .unwrap();
        assert_eq!(acl.group, vec![AclEntry { id: "g".into(), role: "use".into() }]);
    }
}
