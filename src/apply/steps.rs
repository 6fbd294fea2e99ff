//! The steps other than templates: each looks at the deployment first and
//! does only what is missing, so it can run again after a crash or a lost
//! answer. They add and change; they never remove (roles are only added to
//! a member's list, mapping entries only added, grants only added).

use std::collections::{BTreeMap, BTreeSet};

use super::NewKey;
use super::context::Ctx;
use super::ledger::Status;
use crate::coder::requests::*;
use crate::coder::types as wire;
use crate::coder::{ApiError, KeyOutcome};
use crate::plan::*;

pub(crate) type Outcome = Result<Status, ApiError>;

/// The id of the step's org, or the failure to report when it does not exist.
pub(crate) fn org_of(ctx: &mut Ctx<'_, '_>, org: &str) -> Result<Result<String, Status>, ApiError> {
    Ok(ctx.org_id(org)?.ok_or_else(|| Status::Failed(format!("organization `{org}` does not exist"))))
}

macro_rules! org_or_fail {
    ($ctx:expr, $org:expr) => {
        match org_of($ctx, $org)? {
            Ok(id) => id,
            Err(status) => return Ok(status),
        }
    };
}
pub(crate) use org_or_fail;

pub(crate) fn organization(ctx: &mut Ctx<'_, '_>, spec: &OrganizationSpec) -> Outcome {
    let req = CreateOrganizationRequest {
        name: spec.name.clone(),
        display_name: spec.display_name.clone(),
        description: spec.description.clone(),
        icon: spec.icon.clone(),
    };
    let absent = ctx.knows_start() && !ctx.shared.before.organizations.iter().any(|o| o.name == spec.name);
    let ensured = match absent {
        true => match ctx.client.create_organization(&req) {
            Ok(org) => {
                ctx.new_org_members(&org.id);
                crate::coder::Ensured::Created(org)
            }
            Err(e) if e.maybe_applied || e.is_conflict() => ctx.client.ensure_organization(&req)?,
            Err(e) => return Err(e),
        },
        false => ctx.client.ensure_organization(&req)?,
    };
    let created = ensured.created();
    let org = ensured.into_value();
    ctx.remember_org(&org.name, &org.id);
    let mut changed = Vec::new();
    // An empty display name is the server's to choose (it uses the name).
    if !spec.display_name.is_empty() && org.display_name != spec.display_name {
        changed.push("display name");
    }
    if org.description != spec.description {
        changed.push("description");
    }
    if org.icon != spec.icon {
        changed.push("icon");
    }
    // Sent when the server reports other roles, or none (a release that
    // predates them ignores the field, so this is harmless there).
    let roles_differ = spec.default_member_roles.as_ref().is_some_and(|want| {
        let mut have = org.default_org_member_roles.clone();
        if let Some(h) = &mut have {
            h.sort();
            h.dedup();
        }
        have.as_ref() != Some(want)
    });
    if roles_differ {
        changed.push("default member roles");
    }
    if !changed.is_empty() {
        let update = UpdateOrganizationRequest {
            display_name: spec.display_name.clone(),
            description: spec.description.clone(),
            icon: spec.icon.clone(),
            default_org_member_roles: if roles_differ { spec.default_member_roles.clone() } else { None },
        };
        ctx.client.update_organization(&org.id, &update)?;
    }
    let mut note = String::new();
    if let Some(want) = &spec.workspace_sharing {
        match workspace_sharing(ctx, &org.id, want)? {
            Ok(true) => changed.push("workspace sharing"),
            Ok(false) => {}
            Err(Status::Done(why)) => note = format!("; {why}"),
            Err(status) => return Ok(status),
        }
    }
    Ok(Status::Done(match (created, changed.is_empty()) {
        (true, _) => format!("created{note}"),
        (false, true) => format!("already there{note}"),
        (false, false) => format!("already there; set its {}{note}", changed.join(", ")),
    }))
}

/// Make `org`'s workspace sharing `want` (`none`, `everyone` or
/// `service_accounts`): whether it changed, or the status to report when the
/// server cannot say or cannot do it.
fn workspace_sharing(ctx: &mut Ctx<'_, '_>, org: &str, want: &str) -> Result<Result<bool, Status>, ApiError> {
    let have = match ctx.client.workspace_sharing(org) {
        Ok(have) => have,
        // v2.30.0 without the `workspace-sharing` experiment (403), or a
        // release or license without the route (404): nothing to set.
        Err(e) if matches!(e.status(), Some(403 | 404)) => {
            return Ok(Err(Status::Done(format!(
                "workspace sharing not set to `{want}`: the server does not offer it ({}); turn on the \
                 `workspace-sharing` experiment and run apply again",
                e.status().unwrap_or_default()
            ))));
        }
        Err(e) => return Err(e),
    };
    if have.owners() == want {
        return Ok(Ok(false));
    }
    let newer = have.shareable_workspace_owners.is_some();
    if want == "service_accounts" && !newer {
        return Ok(Err(Status::Failed(
            "workspace sharing `service_accounts` is not something this Coder release has (it can only turn \
             sharing on or off): set `workspace_sharing` to `none` or `everyone` in the split file and plan again"
                .into(),
        )));
    }
    let req = UpdateWorkspaceSharing {
        sharing_disabled: want == "none",
        shareable_workspace_owners: newer.then(|| want.to_string()),
    };
    ctx.client.patch_workspace_sharing(org, &req)?;
    Ok(Ok(true))
}

pub(crate) fn provisioner_key(ctx: &mut Ctx<'_, '_>, org: &str, spec: &ProvisionerKeySpec) -> Outcome {
    let org_id = org_or_fail!(ctx, org);
    let known_absent = ctx.knows_start()
        && !ctx.shared.before.provisioner_keys.iter().any(|k| k.organization == org_id && k.name == spec.name);
    let exists = |ctx: &Ctx<'_, '_>| -> Result<bool, ApiError> {
        Ok(ctx.client.provisioner_keys(&org_id)?.iter().any(|k| k.name == spec.name))
    };
    if !known_absent && exists(ctx)? {
        return Ok(Status::Done("already there".into()));
    }
    if !ctx.can_show_secret() {
        return Ok(Status::Waiting(format!(
            "Coder shows a key's secret only once, and this run has no terminal to show it on (it never goes to a \
             file or a log): create the key yourself with `{}`, hand the secret it prints to the team, have them \
             start a provisioner with `{}`, then run apply again",
            spec.create_command, spec.start_command
        )));
    }
    let req = CreateProvisionerKeyRequest { name: spec.name.clone(), tags: spec.tags.clone() };
    // Absent a moment ago: create it, looking again only when the answer is in doubt.
    let outcome = match ctx.client.create_provisioner_key(&org_id, &req) {
        Ok(secret) => KeyOutcome::Created(secret),
        Err(e) if e.maybe_applied && exists(ctx)? => KeyOutcome::SecretLost,
        Err(e) if e.is_conflict() => KeyOutcome::Existed,
        Err(e) => return Err(e),
    };
    match outcome {
        KeyOutcome::Existed => Ok(Status::Done("already there".into())),
        KeyOutcome::SecretLost => Ok(Status::Failed(format!(
            "the key was created but the answer carrying its secret was lost, and Coder never shows a secret again: \
             delete the key (`coder provisioner keys delete --org {} -- {}`) and run apply again, which creates it anew",
            shell_word(org),
            shell_word(&spec.name)
        ))),
        KeyOutcome::Created(secret) => {
            let shown =
                NewKey { org, name: &spec.name, tags: &spec.tags, secret: &secret, start_command: &spec.start_command };
            match ctx.show_secret(&shown) {
                Ok(()) => Ok(Status::Done("created; its secret was shown on the terminal, and kept nowhere".into())),
                Err(e) => Ok(Status::Failed(format!(
                    "the key was created but its secret could not be shown on the terminal ({e}): delete the key \
                     (`coder provisioner keys delete --org {} -- {}`) and run apply again",
                    shell_word(org),
                    shell_word(&spec.name)
                ))),
            }
        }
    }
}

fn permissions(p: &[crate::model::Permission]) -> Vec<wire::Permission> {
    p.iter()
        .map(|p| wire::Permission {
            negate: p.negate,
            resource_type: p.resource_type.clone(),
            action: p.action.clone(),
        })
        .collect()
}

pub(crate) fn custom_role(ctx: &mut Ctx<'_, '_>, org: &str, spec: &CustomRoleSpec) -> Outcome {
    let org_id = org_or_fail!(ctx, org);
    let req = CustomRoleRequest {
        name: spec.name.clone(),
        display_name: spec.display_name.clone(),
        organization_permissions: permissions(&spec.organization_permissions),
        organization_member_permissions: permissions(&spec.organization_member_permissions),
    };
    let before = ctx.client.roles(&org_id)?.into_iter().find(|r| r.name == spec.name && !r.built_in);
    let ensured = ctx.client.ensure_custom_role(&org_id, &req)?;
    Ok(Status::Done(match (ensured.created(), before) {
        (true, _) | (false, None) => "created".into(),
        (false, Some(r)) if &r == ensured.value() => "already there".into(),
        (false, Some(_)) => "already there; set its permissions".into(),
    }))
}

pub(crate) fn member(ctx: &mut Ctx<'_, '_>, org: &str, spec: &MemberSpec) -> Outcome {
    let org_id = org_or_fail!(ctx, org);
    let user = spec.user.user_id.clone();
    let mut did = Vec::new();
    let current = ctx.with_members(&org_id, |m| m.get(&user).cloned())?;
    let current = match (current, &spec.membership_by) {
        (Some(roles), _) => roles,
        (None, ManagedBy::Api) => {
            // Not a member as far as the run knows: add them, and look only
            // when the server says they are (400) or the answer was lost.
            match ctx.client.add_member(&org_id, &user) {
                Ok(_) => {}
                Err(e) if e.maybe_applied || e.is_conflict() || e.status() == Some(400) => {
                    ctx.client.ensure_member(&org_id, &user)?;
                }
                Err(e) => return Err(e),
            }
            ctx.with_members(&org_id, |m| m.insert(user.clone(), Vec::new()))?;
            did.push("added".to_string());
            Vec::new()
        }
        (None, ManagedBy::IdpSync { field, claims }) if claims.is_empty() => {
            return Ok(Status::Waiting(format!(
                "organization sync owns this OIDC user's memberships and none of their `{field}` values maps to \
                 `{org}`, so they will not get in (the plan's `idp-sync-no-mapping` risk): give them a mapped value \
                 in the IdP, or map one of theirs, and run apply again after they log in"
            )));
        }
        (None, ManagedBy::IdpSync { field, claims }) => {
            let mut why =
                format!("joins at their next login (IdP organization sync: `{field}` = {})", claims.join(", "));
            if matches!(spec.roles_by, ManagedBy::Api) && !spec.roles.is_empty() {
                why.push_str(&format!("; then run apply again to give them {}", spec.roles.join(", ")));
            }
            return Ok(Status::Pending(why));
        }
    };
    let missing: Vec<&String> = spec.roles.iter().filter(|r| !current.contains(r)).collect();
    if !missing.is_empty() {
        match &spec.roles_by {
            ManagedBy::IdpSync { field, .. } => {
                let roles: Vec<&str> = missing.iter().map(|r| r.as_str()).collect();
                return Ok(Status::Pending(format!(
                    "gets {} at their next login (IdP role sync on `{field}`)",
                    roles.join(", ")
                )));
            }
            ManagedBy::Api if user == ctx.me.id => {
                return Ok(Status::Failed(format!(
                    "Coder does not let anyone change their own roles in an organization: ask another owner to give \
                     `{}` {} in `{org}`",
                    spec.user.username,
                    spec.roles.join(", ")
                )));
            }
            ManagedBy::Api => {
                // Roles are only added: the list sent is what they have plus what the plan gives.
                let all: BTreeSet<String> = current.iter().chain(spec.roles.iter()).cloned().collect();
                let all: Vec<String> = all.into_iter().collect();
                ctx.client.set_member_roles(&org_id, &user, &all)?;
                ctx.with_members(&org_id, |m| m.insert(user.clone(), all))?;
                did.push(format!("given {}", missing.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")));
            }
        }
    }
    Ok(Status::Done(if did.is_empty() { "already a member with these roles".into() } else { did.join("; ") }))
}

pub(crate) fn group(ctx: &mut Ctx<'_, '_>, org: &str, spec: &GroupSpec) -> Outcome {
    let org_id = org_or_fail!(ctx, org);
    let req = CreateGroupRequest {
        name: spec.name.clone(),
        display_name: spec.display_name.clone(),
        avatar_url: spec.avatar_url.clone(),
        quota_allowance: spec.quota_allowance,
    };
    let absent = ctx.knows_start()
        && !ctx.shared.before.groups.iter().any(|g| g.organization_id == org_id && g.name == spec.name);
    let ensured = match absent {
        true => match ctx.client.create_group(&org_id, &req) {
            Ok(g) => crate::coder::Ensured::Created(g),
            Err(e) if e.maybe_applied || e.is_conflict() => ctx.client.ensure_group(&org_id, &req)?,
            Err(e) => return Err(e),
        },
        false => ctx.client.ensure_group(&org_id, &req)?,
    };
    let created = ensured.created();
    let g = ensured.into_value();
    ctx.remember_group(&org_id, &g.name, &g.id);
    let mut did = vec![if created { "created".to_string() } else { "already there".to_string() }];
    let patch = PatchGroupRequest {
        display_name: (g.display_name != spec.display_name).then(|| spec.display_name.clone()),
        avatar_url: (g.avatar_url != spec.avatar_url).then(|| spec.avatar_url.clone()),
        quota_allowance: (g.quota_allowance != spec.quota_allowance).then_some(spec.quota_allowance),
        ..Default::default()
    };
    if patch != PatchGroupRequest::default() {
        ctx.client.patch_group(&g.id, &patch)?;
        did.push("set its settings".into());
    }
    // Members must be in the org first: those placed by the API should be by
    // now; those IdP sync places are added once they have logged in.
    let (ready, missing, arrived) = ctx.with_members(&org_id, |members| {
        let in_org = |u: &&UserRef| members.contains_key(&u.user_id);
        let (ready, missing): (Vec<&UserRef>, Vec<&UserRef>) = spec.add_members.iter().partition(in_org);
        let arrived: Vec<&UserRef> = spec.members_after_login.iter().filter(in_org).collect();
        (ready, missing, arrived)
    })?;
    let later = spec.members_after_login.len() - arrived.len();
    let add: Vec<String> = ready.iter().chain(arrived.iter()).map(|u| u.user_id.clone()).collect();
    if !add.is_empty() {
        let had: BTreeSet<String> = g.members.iter().map(|m| m.id.clone()).collect();
        let after = ctx.client.ensure_group_members(&g.id, &add)?;
        let added = after.members.iter().filter(|m| !had.contains(&m.id)).count();
        if added > 0 {
            did.push(format!("added {added} member(s)"));
        }
    }
    if later > 0 {
        did.push(format!("{later} member(s) join at their next login (IdP sync)"));
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|u| u.username.as_str()).collect();
        return Ok(Status::Failed(format!(
            "{}; not added, as they are not members of `{org}` (their member steps did not complete): {}",
            did.join("; "),
            names.join(", ")
        )));
    }
    Ok(Status::Done(did.join("; ")))
}

fn entries(
    mapping: &BTreeMap<String, Vec<String>>,
    resolve: impl Fn(&str) -> Option<String>,
) -> Result<Vec<MappingEntry>, String> {
    let mut out = Vec::new();
    for (claim, names) in mapping {
        for name in names {
            let gets = resolve(name).ok_or_else(|| name.clone())?;
            out.push(MappingEntry { given: claim.clone(), gets });
        }
    }
    Ok(out)
}

pub(crate) fn organization_sync(ctx: &mut Ctx<'_, '_>, spec: &OrganizationSyncSpec) -> Outcome {
    let mut ids = BTreeMap::new();
    for name in spec.add.values().flatten() {
        if let Some(id) = ctx.org_id(name)? {
            ids.insert(name.clone(), id);
        }
    }
    let wanted = match entries(&spec.add, |n| ids.get(n).cloned()) {
        Ok(w) => w,
        Err(missing) => return Ok(Status::Failed(format!("organization `{missing}` does not exist"))),
    };
    let current = ctx.client.org_sync()?;
    let mut did = Vec::new();
    if current.field != spec.field || current.organization_assign_default != spec.assign_default {
        let req = PatchOrganizationSyncConfig { field: spec.field.clone(), assign_default: spec.assign_default };
        ctx.client.patch_org_sync_config(&req)?;
        did.push(format!("set the claim to `{}`", spec.field));
    }
    let before = current.mapping.values().map(Vec::len).sum::<usize>();
    let after = ctx.client.ensure_org_sync_mapping(&wanted)?;
    let added = after.mapping.values().map(Vec::len).sum::<usize>().saturating_sub(before);
    did.push(if added > 0 { format!("mapped {added} claim value(s)") } else { "mapping already in place".into() });
    Ok(Status::Done(did.join("; ")))
}

pub(crate) fn group_sync(ctx: &mut Ctx<'_, '_>, org: &str, spec: &GroupSyncSpec) -> Outcome {
    let org_id = org_or_fail!(ctx, org);
    let groups = ctx.group_ids(&org_id)?;
    let wanted = match entries(&spec.mapping, |n| groups.get(n).cloned()) {
        Ok(w) => w,
        Err(missing) => return Ok(Status::Failed(format!("group `{missing}` does not exist in `{org}`"))),
    };
    let current = ctx.client.group_sync(&org_id)?;
    let mut did = Vec::new();
    if current.field != spec.field
        || current.regex_filter != spec.regex_filter
        || current.auto_create_missing_groups != spec.auto_create_missing_groups
    {
        let req = PatchGroupSyncConfig {
            field: spec.field.clone(),
            regex_filter: spec.regex_filter.clone(),
            auto_create_missing_groups: spec.auto_create_missing_groups,
        };
        ctx.client.patch_group_sync_config(&org_id, &req)?;
        did.push(format!("set the claim to `{}`", spec.field));
    }
    // The mapping as read above: add what it lacks, without reading it again.
    let add = crate::coder::missing_entries(&current.mapping, &wanted);
    if !add.is_empty() {
        ctx.client.patch_group_sync_mapping(&org_id, &PatchMappingRequest { add, remove: Vec::new() })?;
    }
    did.push("mapping in place".into());
    Ok(Status::Done(did.join("; ")))
}

pub(crate) fn role_sync(ctx: &mut Ctx<'_, '_>, org: &str, spec: &RoleSyncSpec) -> Outcome {
    let org_id = org_or_fail!(ctx, org);
    let wanted = entries(&spec.mapping, |n| Some(n.to_string())).unwrap_or_default();
    let current = ctx.client.role_sync(&org_id)?;
    let mut did = Vec::new();
    if current.field != spec.field {
        ctx.client.patch_role_sync_config(&org_id, &PatchRoleSyncConfig { field: spec.field.clone() })?;
        did.push(format!("set the claim to `{}`", spec.field));
    }
    let add = crate::coder::missing_entries(&current.mapping, &wanted);
    if !add.is_empty() {
        ctx.client.patch_role_sync_mapping(&org_id, &PatchMappingRequest { add, remove: Vec::new() })?;
    }
    did.push("mapping in place".into());
    Ok(Status::Done(did.join("; ")))
}
