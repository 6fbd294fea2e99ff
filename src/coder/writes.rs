//! The write endpoints apply uses, one method each, with the traps of
//! ENDPOINTS.md handled here rather than in every caller: role lists without
//! the implicit `organization-member`, raw-bytes file uploads whose `hash` is
//! the file id, a template PATCH that sends back every field, custom-role
//! answers that are an object although the spec says an array.
//!
//! Creates are sent once (`Idempotency::Once`): when their answer is lost the
//! error says the change may have been made; `ensure.rs` checks and goes on.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Map, Value};

use super::client::{Body, Client, Idempotency};
use super::error::{ApiError, ErrorKind};
use super::requests::*;
use super::secret::Secret;
use super::types as wire;
use crate::endpoint;
use crate::model::ORG_MEMBER_ROLE;

/// How a template version's import job ended, or did not.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionBuild {
    Succeeded(Box<wire::TemplateVersion>),
    /// `failed` or `canceled`, with the job's error.
    Failed {
        status: String,
        error: String,
    },
    /// Still pending or running at the deadline. `matched_provisioners` 0
    /// means no daemon of the organization has the version's tags: nothing
    /// will ever pick the job up.
    TimedOut {
        status: String,
        matched_provisioners: Option<i64>,
    },
}

/// Template fields that a PATCH must not send back: read-only ones.
const TEMPLATE_READ_ONLY: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "organization_id",
    "organization_name",
    "organization_display_name",
    "organization_icon",
    "active_version_id",
    "active_user_count",
    "build_time_stats",
    "created_by_id",
    "created_by_name",
    "provisioner",
    "deprecated",
];

impl Client {
    pub fn create_organization(&self, req: &CreateOrganizationRequest) -> Result<wire::Organization, ApiError> {
        self.write(Method::POST, endpoint!["organizations"], Body::json(req), Idempotency::Once)
    }

    /// Change an organization's display name, description and icon.
    pub fn update_organization(
        &self,
        org: &str,
        req: &UpdateOrganizationRequest,
    ) -> Result<wire::Organization, ApiError> {
        self.write(Method::PATCH, endpoint!["organizations", org], Body::json(req), Idempotency::Idempotent)
    }

    /// Whose workspaces in `org` may be shared. v2.30.0 routes it only with
    /// the `workspace-sharing` experiment on (403 otherwise).
    pub fn workspace_sharing(&self, org: &str) -> Result<wire::WorkspaceSharingSettings, ApiError> {
        self.get(&endpoint!["organizations", org, "settings", "workspace-sharing"])
    }

    /// Set whose workspaces in `org` may be shared. Turning sharing off makes
    /// the server delete every workspace share in the org.
    pub fn patch_workspace_sharing(
        &self,
        org: &str,
        req: &UpdateWorkspaceSharing,
    ) -> Result<wire::WorkspaceSharingSettings, ApiError> {
        let e = endpoint!["organizations", org, "settings", "workspace-sharing"];
        self.write(Method::PATCH, e, Body::json(req), Idempotency::Idempotent)
    }

    /// Add `user` (id or username) to `org`. New members get the implicit
    /// `organization-member` role and join its Everyone group.
    pub fn add_member(&self, org: &str, user: &str) -> Result<wire::OrganizationMember, ApiError> {
        self.write(Method::POST, endpoint!["organizations", org, "members", user], Body::Empty, Idempotency::Once)
    }

    /// Remove `user` from `org` (`revert` only: never a member who owns
    /// workspaces there). The server refuses to remove the caller (400).
    pub fn remove_member(&self, org: &str, user: &str) -> Result<(), ApiError> {
        let e = endpoint!["organizations", org, "members", user];
        self.write::<serde_json::Value>(Method::DELETE, e, Body::Empty, Idempotency::Idempotent).map(|_| ())
    }

    /// Replace the member's org roles. `organization-member` is implicit and dropped here.
    pub fn set_member_roles(
        &self,
        org: &str,
        user: &str,
        roles: &[String],
    ) -> Result<wire::OrganizationMember, ApiError> {
        let roles: Vec<&String> = roles.iter().filter(|r| *r != ORG_MEMBER_ROLE).collect();
        let body = Body::json(&serde_json::json!({ "roles": roles }));
        self.write(
            Method::PUT,
            endpoint!["organizations", org, "members", user, "roles"],
            body,
            Idempotency::Idempotent,
        )
    }

    pub fn create_group(&self, org: &str, req: &CreateGroupRequest) -> Result<wire::Group, ApiError> {
        self.write(Method::POST, endpoint!["organizations", org, "groups"], Body::json(req), Idempotency::Once)
    }

    /// PATCH a group by id. Adding someone already in it, or not in its
    /// organization, is a 412: see `ensure_group_members`.
    pub fn patch_group(&self, group: &str, req: &PatchGroupRequest) -> Result<wire::Group, ApiError> {
        self.write(Method::PATCH, endpoint!["groups", group], Body::json(req), Idempotency::Once)
    }

    pub fn create_custom_role(&self, org: &str, req: &CustomRoleRequest) -> Result<wire::Role, ApiError> {
        self.role(Method::POST, org, req, Idempotency::Once)
    }

    /// Replace a custom role's permissions (matched by name).
    pub fn update_custom_role(&self, org: &str, req: &CustomRoleRequest) -> Result<wire::Role, ApiError> {
        self.role(Method::PUT, org, req, Idempotency::Idempotent)
    }

    fn role(&self, method: Method, org: &str, req: &CustomRoleRequest, i: Idempotency) -> Result<wire::Role, ApiError> {
        // The spec says an array of roles; the server writes one role object. Take either.
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(wire::Role),
            Many(Vec<wire::Role>),
        }
        let e = endpoint!["organizations", org, "members", "roles"];
        match self.write::<OneOrMany>(method.clone(), e.clone(), Body::json(req), i)? {
            OneOrMany::One(role) => Ok(role),
            OneOrMany::Many(roles) => roles.into_iter().find(|r| r.name == req.name).ok_or_else(|| {
                self.api_error(&method, &e, ErrorKind::Decode(format!("the answer does not hold role `{}`", req.name)))
            }),
        }
    }

    /// Create a provisioner key; its secret is returned once and only here.
    pub fn create_provisioner_key(&self, org: &str, req: &CreateProvisionerKeyRequest) -> Result<Secret, ApiError> {
        let e = endpoint!["organizations", org, "provisionerkeys"];
        let answer: CreateProvisionerKeyResponse = self.write(Method::POST, e, Body::json(req), Idempotency::Once)?;
        Ok(answer.key)
    }

    /// Add and remove organization sync mapping entries (claim value -> org id).
    pub fn patch_org_sync_mapping(
        &self,
        req: &PatchMappingRequest,
    ) -> Result<wire::OrganizationSyncSettings, ApiError> {
        let e = endpoint!["settings", "idpsync", "organization", "mapping"];
        self.write(Method::PATCH, e, Body::json(req), Idempotency::Idempotent)
    }

    /// Add and remove group sync mapping entries of `org` (claim value -> group id).
    pub fn patch_group_sync_mapping(
        &self,
        org: &str,
        req: &PatchMappingRequest,
    ) -> Result<wire::GroupSyncSettings, ApiError> {
        let e = endpoint!["organizations", org, "settings", "idpsync", "groups", "mapping"];
        self.write(Method::PATCH, e, Body::json(req), Idempotency::Idempotent)
    }

    /// Add and remove role sync mapping entries of `org` (claim value -> role name).
    pub fn patch_role_sync_mapping(
        &self,
        org: &str,
        req: &PatchMappingRequest,
    ) -> Result<wire::RoleSyncSettings, ApiError> {
        let e = endpoint!["organizations", org, "settings", "idpsync", "roles", "mapping"];
        self.write(Method::PATCH, e, Body::json(req), Idempotency::Idempotent)
    }

    /// Set the organization sync claim and the default-org flag (the mapping is left alone).
    pub fn patch_org_sync_config(
        &self,
        req: &PatchOrganizationSyncConfig,
    ) -> Result<wire::OrganizationSyncSettings, ApiError> {
        let e = endpoint!["settings", "idpsync", "organization", "config"];
        self.write(Method::PATCH, e, Body::json(req), Idempotency::Idempotent)
    }

    /// Set the group sync claim, filter and auto-create flag of `org` (the mapping is left alone).
    pub fn patch_group_sync_config(
        &self,
        org: &str,
        req: &PatchGroupSyncConfig,
    ) -> Result<wire::GroupSyncSettings, ApiError> {
        let e = endpoint!["organizations", org, "settings", "idpsync", "groups", "config"];
        self.write(Method::PATCH, e, Body::json(req), Idempotency::Idempotent)
    }

    /// Set the role sync claim of `org` (the mapping is left alone).
    pub fn patch_role_sync_config(
        &self,
        org: &str,
        req: &PatchRoleSyncConfig,
    ) -> Result<wire::RoleSyncSettings, ApiError> {
        let e = endpoint!["organizations", org, "settings", "idpsync", "roles", "config"];
        self.write(Method::PATCH, e, Body::json(req), Idempotency::Idempotent)
    }

    /// Upload a source archive as the raw request body (not a multipart
    /// form, whatever the spec says); the answer's `hash` is the file id.
    /// The same bytes uploaded again give the same id, so a retry is harmless.
    pub fn upload_file(&self, bytes: Vec<u8>, content_type: &str) -> Result<String, ApiError> {
        let body = Body::Bytes { bytes, content_type: content_type.to_string() };
        let e = endpoint!["files"];
        let answer: UploadResponse = self.write(Method::POST, e.clone(), body, Idempotency::Idempotent)?;
        if answer.hash.is_empty() {
            return Err(self.api_error(
                &Method::POST,
                &e,
                ErrorKind::Decode("the answer has no `hash` (file id)".into()),
            ));
        }
        Ok(answer.hash)
    }

    /// A file's bytes and content type (a template version's `job.file_id`).
    pub fn download_file(&self, id: &str) -> Result<(Vec<u8>, String), ApiError> {
        self.get_bytes(&endpoint!["files", id])
    }

    pub fn create_template_version(
        &self,
        org: &str,
        req: &CreateTemplateVersionRequest,
    ) -> Result<wire::TemplateVersion, ApiError> {
        self.write(
            Method::POST,
            endpoint!["organizations", org, "templateversions"],
            Body::json(req),
            Idempotency::Once,
        )
    }

    /// Poll a template version until its job ends or `timeout` passes, waiting `every` between polls.
    pub fn wait_for_template_version(
        &self,
        id: &str,
        timeout: Duration,
        every: Duration,
    ) -> Result<VersionBuild, ApiError> {
        let deadline = Instant::now() + timeout;
        let mut waited = Duration::ZERO;
        loop {
            let v: wire::TemplateVersion = self.get(&endpoint!["templateversions", id])?;
            match v.job.status.as_str() {
                "succeeded" => return Ok(VersionBuild::Succeeded(Box::new(v))),
                "failed" | "canceled" => {
                    return Ok(VersionBuild::Failed { status: v.job.status.clone(), error: v.job.error.clone() });
                }
                _ if Instant::now() >= deadline || waited >= timeout => {
                    let matched = v.matched_provisioners.as_ref().map(|m| m.count);
                    return Ok(VersionBuild::TimedOut { status: v.job.status, matched_provisioners: matched });
                }
                _ => {
                    self.pause(every);
                    waited += every;
                }
            }
        }
    }

    /// Create a template in `org` from a built version. The spec says 200,
    /// the server answers 201: any 2xx is success.
    pub fn create_template(&self, org: &str, req: &CreateTemplateRequest) -> Result<wire::Template, ApiError> {
        self.write(Method::POST, endpoint!["organizations", org, "templates"], Body::json(req), Idempotency::Once)
    }

    /// Change some of a template's settings. PATCH writes every field as
    /// sent (an omitted one becomes ""/0/false), so this reads the template
    /// first and sends all of it back with `changes` applied, unknown fields
    /// of newer servers included. A 304 (nothing changed) is success.
    pub fn update_template(&self, id: &str, changes: &Map<String, Value>) -> Result<wire::Template, ApiError> {
        let e = endpoint!["templates", id];
        let mut body: Map<String, Value> = self.get(&e)?;
        for field in TEMPLATE_READ_ONLY {
            body.remove(*field);
        }
        body.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
        let reply = self.send_json::<wire::Template>(Method::PATCH, &e, &Body::json(&body), Idempotency::Idempotent)?;
        match reply.value {
            Some(t) => Ok(t),
            None => self.get(&e),
        }
    }

    /// Deprecate a template with a message shown to its users (Markdown
    /// allowed); `""` un-deprecates. Nothing else about it changes.
    pub fn deprecate_template(&self, id: &str, message: &str) -> Result<wire::Template, ApiError> {
        let mut changes = Map::new();
        changes.insert("deprecation_message".into(), Value::from(message));
        self.update_template(id, &changes)
    }

    /// Who may use a template: ids and roles (the groups' member lists are skipped unread).
    pub fn template_acl(&self, id: &str) -> Result<wire::TemplateAcl, ApiError> {
        self.get(&endpoint!["templates", id, "acl"])
    }

    /// Grant or remove (`""`) template access; entries not named are left alone.
    pub fn patch_template_acl(&self, id: &str, req: &UpdateTemplateAcl) -> Result<(), ApiError> {
        self.write::<Value>(Method::PATCH, endpoint!["templates", id, "acl"], Body::json(req), Idempotency::Idempotent)
            .map(|_| ())
    }

    /// Send a write and decode its answer; 204 or 304 decode as JSON `null`.
    fn write<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        e: crate::coder::Endpoint,
        body: Body,
        idempotency: Idempotency,
    ) -> Result<T, ApiError> {
        let reply = self.send_json::<Value>(method.clone(), &e, &body, idempotency)?;
        serde_json::from_value(reply.value.unwrap_or(Value::Null))
            .map_err(|err| self.api_error(&method, &e, ErrorKind::Decode(err.to_string())))
    }
}
