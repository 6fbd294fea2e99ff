//! Typed reads for apply and preflight: one method per endpoint, paged
//! lists read whole, and `find_*` lookups that answer `None` for a 404.

use super::client::Client;
use super::error::ApiError;
use super::types as wire;
use crate::endpoint;

/// Rows per page when a method reads a whole paged list.
const PAGE: usize = 500;

impl Client {
    /// The token's own user (its site roles say what it may do).
    pub fn me(&self) -> Result<wire::User, ApiError> {
        self.get(&endpoint!["users", "me"])
    }

    pub fn user(&self, id_or_username: &str) -> Result<wire::User, ApiError> {
        self.get(&endpoint!["users", id_or_username])
    }

    pub fn entitlements(&self) -> Result<wire::Entitlements, ApiError> {
        self.get(&endpoint!["entitlements"])
    }

    pub fn organizations(&self) -> Result<Vec<wire::Organization>, ApiError> {
        self.get(&endpoint!["organizations"])
    }

    /// The organization named `name` (from the list, which every release has).
    pub fn find_organization(&self, name: &str) -> Result<Option<wire::Organization>, ApiError> {
        Ok(self.organizations()?.into_iter().find(|o| o.name == name))
    }

    /// Every member of `org`, page by page (`paginated-members` answers an
    /// object `{members, count}`, whatever the spec says).
    pub fn organization_members(&self, org: &str) -> Result<Vec<wire::OrganizationMember>, ApiError> {
        let mut out = Vec::new();
        loop {
            let e =
                endpoint!["organizations", org, "paginated-members"].query("limit", PAGE).query("offset", out.len());
            let page: wire::PaginatedMembersResponse = self.get(&e)?;
            let short = page.members.len() < PAGE;
            out.extend(page.members);
            // Never ask for a page past the end: the server fails on it.
            if short || out.len() as i64 >= page.count {
                return Ok(out);
            }
        }
    }

    pub fn groups(&self, org: &str) -> Result<Vec<wire::Group>, ApiError> {
        self.get(&endpoint!["organizations", org, "groups"])
    }

    pub fn group(&self, id: &str) -> Result<wire::Group, ApiError> {
        self.get(&endpoint!["groups", id])
    }

    pub fn find_group(&self, org: &str, name: &str) -> Result<Option<wire::Group>, ApiError> {
        none_if_404(self.get(&endpoint!["organizations", org, "groups", name]))
    }

    /// The org's assignable roles, built-in (`built_in: true`) and custom.
    pub fn roles(&self, org: &str) -> Result<Vec<wire::Role>, ApiError> {
        self.get(&endpoint!["organizations", org, "members", "roles"])
    }

    pub fn provisioner_keys(&self, org: &str) -> Result<Vec<wire::ProvisionerKey>, ApiError> {
        self.get(&endpoint!["organizations", org, "provisionerkeys"])
    }

    pub fn provisioner_daemons(&self, org: &str) -> Result<Vec<wire::ProvisionerDaemon>, ApiError> {
        self.get(&endpoint!["organizations", org, "provisionerdaemons"])
    }

    pub fn template(&self, id: &str) -> Result<wire::Template, ApiError> {
        self.get(&endpoint!["templates", id])
    }

    pub fn find_template(&self, org: &str, name: &str) -> Result<Option<wire::Template>, ApiError> {
        none_if_404(self.get(&endpoint!["organizations", org, "templates", name]))
    }

    pub fn template_version(&self, id: &str) -> Result<wire::TemplateVersion, ApiError> {
        self.get(&endpoint!["templateversions", id])
    }

    /// The Terraform variables of a template version (sensitive values come back redacted).
    pub fn template_version_variables(&self, id: &str) -> Result<Vec<wire::TemplateVersionVariable>, ApiError> {
        self.get(&endpoint!["templateversions", id, "variables"])
    }

    /// The latest provisioner jobs of `org` started by `initiator` (a user id).
    pub fn provisioner_jobs(&self, org: &str, initiator: &str) -> Result<Vec<wire::ProvisionerJob>, ApiError> {
        self.get(&endpoint!["organizations", org, "provisionerjobs"].query("initiator", initiator).query("limit", 100))
    }

    pub fn org_sync(&self) -> Result<wire::OrganizationSyncSettings, ApiError> {
        self.get(&endpoint!["settings", "idpsync", "organization"])
    }

    pub fn group_sync(&self, org: &str) -> Result<wire::GroupSyncSettings, ApiError> {
        self.get(&endpoint!["organizations", org, "settings", "idpsync", "groups"])
    }

    pub fn role_sync(&self, org: &str) -> Result<wire::RoleSyncSettings, ApiError> {
        self.get(&endpoint!["organizations", org, "settings", "idpsync", "roles"])
    }
}

fn none_if_404<T>(r: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
