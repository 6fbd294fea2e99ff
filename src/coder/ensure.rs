//! Idempotent steps for apply: each looks first, does only what is missing,
//! and when a create's answer was lost (`maybe_applied`) or the server says
//! the thing exists (409), looks again instead of failing or creating twice.
//! A step run twice, or after a crash halfway, ends in the same state.

use std::collections::{BTreeMap, BTreeSet};

use super::client::Client;
use super::error::ApiError;
use super::requests::*;
use super::secret::Secret;
use super::types as wire;

/// Whether a step found its object or made it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ensured<T> {
    Created(T),
    Existed(T),
}

impl<T> Ensured<T> {
    pub fn value(&self) -> &T {
        match self {
            Ensured::Created(v) | Ensured::Existed(v) => v,
        }
    }

    pub fn into_value(self) -> T {
        match self {
            Ensured::Created(v) | Ensured::Existed(v) => v,
        }
    }

    pub fn created(&self) -> bool {
        matches!(self, Ensured::Created(_))
    }
}

/// A provisioner key step: the secret exists only in the create's answer.
#[derive(Debug, Clone)]
pub enum KeyOutcome {
    Created(Secret),
    /// A key of that name was already there; its secret cannot be read back.
    Existed,
    /// Created, but the answer (with the secret) was lost: delete the key and create it again.
    SecretLost,
}

/// Lost answers and conflicts mean "look again".
fn look_again(e: &ApiError) -> bool {
    e.maybe_applied || e.is_conflict()
}

impl Client {
    pub fn ensure_organization(
        &self,
        req: &CreateOrganizationRequest,
    ) -> Result<Ensured<wire::Organization>, ApiError> {
        if let Some(org) = self.find_organization(&req.name)? {
            return Ok(Ensured::Existed(org));
        }
        match self.create_organization(req) {
            Ok(org) => Ok(Ensured::Created(org)),
            Err(e) if look_again(&e) => self.find_organization(&req.name)?.map(Ensured::Created).ok_or(e),
            Err(e) => Err(e),
        }
    }

    /// Make `user` (an id) a member of `org` (an id).
    pub fn ensure_member(&self, org: &str, user: &str) -> Result<Ensured<()>, ApiError> {
        let member = |c: &Client| c.user(user).map(|u| u.organization_ids.iter().any(|o| o == org));
        if member(self)? {
            return Ok(Ensured::Existed(()));
        }
        match self.add_member(org, user) {
            Ok(_) => Ok(Ensured::Created(())),
            // "already a member" is a 400; a lost answer may have added them.
            Err(e) if look_again(&e) || e.status() == Some(400) => {
                if member(self)? {
                    Ok(Ensured::Created(()))
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }

    pub fn ensure_group(&self, org: &str, req: &CreateGroupRequest) -> Result<Ensured<wire::Group>, ApiError> {
        if let Some(g) = self.find_group(org, &req.name)? {
            return Ok(Ensured::Existed(g));
        }
        match self.create_group(org, req) {
            Ok(g) => Ok(Ensured::Created(g)),
            Err(e) if look_again(&e) => self.find_group(org, &req.name)?.map(Ensured::Created).ok_or(e),
            Err(e) => Err(e),
        }
    }

    /// Add whoever of `users` (ids) is not yet in the group. The server
    /// refuses (412) a user already in it, so only the missing are sent;
    /// each must already be a member of the group's organization.
    pub fn ensure_group_members(&self, group: &str, users: &[String]) -> Result<wire::Group, ApiError> {
        let missing = |g: &wire::Group| -> Vec<String> {
            let have: BTreeSet<&str> = g.members.iter().map(|m| m.id.as_str()).collect();
            let want: BTreeSet<&str> = users.iter().map(String::as_str).collect();
            want.difference(&have).map(|s| s.to_string()).collect()
        };
        let current = self.group(group)?;
        let add = missing(&current);
        if add.is_empty() {
            return Ok(current);
        }
        match self.patch_group(group, &PatchGroupRequest { add_users: add, ..Default::default() }) {
            Ok(g) => Ok(g),
            Err(e) if e.maybe_applied => {
                let again = self.group(group)?;
                if missing(&again).is_empty() { Ok(again) } else { Err(e) }
            }
            Err(e) => Err(e),
        }
    }

    /// Create the custom role, or update it when its permissions differ.
    pub fn ensure_custom_role(&self, org: &str, req: &CustomRoleRequest) -> Result<Ensured<wire::Role>, ApiError> {
        let find = |c: &Client| c.roles(org).map(|roles| roles.into_iter().find(|r| r.name == req.name && !r.built_in));
        let same = |r: &wire::Role| {
            let set = |p: &[wire::Permission]| {
                p.iter().map(|p| (p.negate, p.resource_type.clone(), p.action.clone())).collect::<BTreeSet<_>>()
            };
            r.display_name == req.display_name
                && set(&r.organization_permissions) == set(&req.organization_permissions)
                && set(&r.organization_member_permissions) == set(&req.organization_member_permissions)
        };
        match find(self)? {
            Some(r) if same(&r) => Ok(Ensured::Existed(r)),
            Some(_) => self.update_custom_role(org, req).map(Ensured::Existed),
            None => match self.create_custom_role(org, req) {
                Ok(r) => Ok(Ensured::Created(r)),
                Err(e) if look_again(&e) => find(self)?.map(Ensured::Created).ok_or(e),
                Err(e) => Err(e),
            },
        }
    }

    pub fn ensure_provisioner_key(&self, org: &str, req: &CreateProvisionerKeyRequest) -> Result<KeyOutcome, ApiError> {
        let exists = |c: &Client| c.provisioner_keys(org).map(|keys| keys.iter().any(|k| k.name == req.name));
        if exists(self)? {
            return Ok(KeyOutcome::Existed);
        }
        match self.create_provisioner_key(org, req) {
            Ok(secret) => Ok(KeyOutcome::Created(secret)),
            Err(e) if e.maybe_applied && exists(self)? => Ok(KeyOutcome::SecretLost),
            Err(e) if e.is_conflict() => Ok(KeyOutcome::Existed),
            Err(e) => Err(e),
        }
    }

    /// Make the group sync mapping of `org` hold `wanted` (claim -> group ids), adding only what is missing.
    pub fn ensure_group_sync_mapping(
        &self,
        org: &str,
        wanted: &[MappingEntry],
    ) -> Result<wire::GroupSyncSettings, ApiError> {
        let current = self.group_sync(org)?;
        let add = missing_entries(&current.mapping, wanted);
        if add.is_empty() {
            return Ok(current);
        }
        self.patch_group_sync_mapping(org, &PatchMappingRequest { add, remove: Vec::new() })
    }

    /// Make the role sync mapping of `org` hold `wanted` (claim -> role names).
    pub fn ensure_role_sync_mapping(
        &self,
        org: &str,
        wanted: &[MappingEntry],
    ) -> Result<wire::RoleSyncSettings, ApiError> {
        let current = self.role_sync(org)?;
        let add = missing_entries(&current.mapping, wanted);
        if add.is_empty() {
            return Ok(current);
        }
        self.patch_role_sync_mapping(org, &PatchMappingRequest { add, remove: Vec::new() })
    }

    /// Make the organization sync mapping hold `wanted` (claim -> org ids).
    pub fn ensure_org_sync_mapping(&self, wanted: &[MappingEntry]) -> Result<wire::OrganizationSyncSettings, ApiError> {
        let current = self.org_sync()?;
        let add = missing_entries(&current.mapping, wanted);
        if add.is_empty() {
            return Ok(current);
        }
        self.patch_org_sync_mapping(&PatchMappingRequest { add, remove: Vec::new() })
    }
}

/// The entries of `wanted` that `mapping` lacks, sorted, once each.
pub fn missing_entries(mapping: &BTreeMap<String, Vec<String>>, wanted: &[MappingEntry]) -> Vec<MappingEntry> {
    let have = |e: &MappingEntry| mapping.get(&e.given).is_some_and(|v| v.contains(&e.gets));
    let mut out: Vec<MappingEntry> = wanted.iter().filter(|e| !have(e)).cloned().collect();
    out.sort();
    out.dedup();
    out
}

/// A template ACL carried to a template re-created in another organization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemappedAcl {
    /// The PATCH for the new template.
    pub request: UpdateTemplateAcl,
    /// Groups of the old ACL with no counterpart in the new org: not granted.
    pub unmapped_groups: Vec<String>,
}

/// Group ids are per organization, so an ACL cannot be copied as it is: map
/// each old group to its new org's counterpart (`groups`: old id -> new id),
/// the old org's Everyone group (its id is the org's id) to the new org's.
/// Users keep their ids (users are deployment-wide; they must be members of
/// the new org to use it).
pub fn remap_acl(
    acl: &crate::model::TemplateAcl,
    old_org: &str,
    new_org: &str,
    groups: &BTreeMap<String, String>,
) -> RemappedAcl {
    let mut out = RemappedAcl::default();
    for e in &acl.users {
        out.request.user_perms.insert(e.id.clone(), e.role.clone());
    }
    for e in &acl.group {
        let new = if e.id == old_org { Some(new_org.to_string()) } else { groups.get(&e.id).cloned() };
        match new {
            Some(id) => {
                out.request.group_perms.insert(id, e.role.clone());
            }
            None => out.unmapped_groups.push(e.id.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AclEntry, TemplateAcl};

    #[test]
    fn acls_are_remapped_to_the_new_orgs_groups() {
        let entry = |id: &str, role: &str| AclEntry { id: id.into(), role: role.into() };
        let acl = TemplateAcl {
            users: vec![entry("u1", "admin")],
            group: vec![entry("old-org", "use"), entry("g-ml", "use"), entry("g-gone", "admin")],
        };
        let groups = BTreeMap::from([("g-ml".to_string(), "g-ml-new".to_string())]);
        let r = remap_acl(&acl, "old-org", "new-org", &groups);
        let pairs = |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
        assert_eq!(pairs(&r.request.group_perms), ["g-ml-new=use", "new-org=use"], "Everyone maps to the new org's");
        assert_eq!(pairs(&r.request.user_perms), ["u1=admin"]);
        assert_eq!(r.unmapped_groups, ["g-gone"], "no old group id is ever sent to the new template");
    }

    #[test]
    fn only_missing_mapping_entries_are_added() {
        let mapping = BTreeMap::from([("ml".to_string(), vec!["g1".to_string()])]);
        let e = |given: &str, gets: &str| MappingEntry { given: given.into(), gets: gets.into() };
        let add = missing_entries(&mapping, &[e("ml", "g1"), e("ml", "g2"), e("raptix", "g3"), e("ml", "g2")]);
        assert_eq!(add, vec![e("ml", "g2"), e("raptix", "g3")]);
    }
}
