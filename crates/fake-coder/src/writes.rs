//! POST, PUT and PATCH on organizations, members and groups, with the
//! server's refusals: 409 for a taken name, 412 for a group member outside
//! the org, 400 for manual membership or role changes of users the IdP
//! syncs, 403 for a feature outside the license. Custom roles, provisioner
//! keys and sync mappings are in `settings.rs`; templates and files in
//! `templates.rs`.

use fixtures::api;
use orgsplit::model::*;
use serde_json::{Value, json};

use super::http::{Reply, Request};
use super::reads::{error, json as reply, not_found, validation};
use super::state::{NOW, State};
use super::{settings, templates};

/// Parse a JSON request body, or the server's 400.
pub fn body(req: &Request) -> Result<Value, Reply> {
    serde_json::from_slice(&req.body).map_err(|e| error(400, "Request body must be valid JSON.", &e.to_string()))
}

pub fn str_field(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// A Coder name: letters and digits in hyphen-separated words, at most 32 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.split('-').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric()))
}

pub fn premium(feature: &str) -> Reply {
    error(403, &format!("{feature} is a Premium feature. Contact sales!"), "")
}

pub fn handle(st: &mut State, me: &str, req: &Request, seg: &[&str]) -> Reply {
    let method = req.method.as_str();
    let org = match seg {
        ["organizations", o, ..] if seg.len() > 2 => match st.org(o) {
            Some(org) => Some(org.id.clone()),
            None => return not_found(),
        },
        _ => None,
    };
    let org = org.as_deref().unwrap_or_default();
    let result = match (method, seg) {
        ("POST", ["organizations"]) => create_org(st, me, req),
        ("PATCH", ["organizations", o]) => update_org(st, o, req),
        ("PATCH", ["organizations", _, "settings", "workspace-sharing"]) => patch_sharing(st, org, req),
        ("POST", ["organizations", _, "members", "roles"]) => settings::custom_role(st, org, req, true),
        ("PUT", ["organizations", _, "members", "roles"]) => settings::custom_role(st, org, req, false),
        ("POST", ["organizations", _, "members", user]) => add_member(st, org, user),
        ("DELETE", ["organizations", _, "members", user]) => remove_member(st, me, org, user),
        ("PUT", ["organizations", _, "members", user, "roles"]) => set_roles(st, me, org, user, req),
        ("POST", ["organizations", _, "groups"]) => create_group(st, org, req),
        ("PATCH", ["groups", id]) => patch_group(st, id, req),
        ("POST", ["organizations", _, "provisionerkeys"]) => settings::create_key(st, org, req),
        ("PATCH", ["settings", "idpsync", "organization", "mapping"]) => {
            settings::sync_mapping(st, None, "organization", req)
        }
        ("PATCH", ["organizations", _, "settings", "idpsync", kind @ ("groups" | "roles"), "mapping"]) => {
            settings::sync_mapping(st, Some(org), kind, req)
        }
        ("PATCH", ["settings", "idpsync", "organization", "config"]) => {
            settings::sync_config(st, None, "organization", req)
        }
        ("PATCH", ["organizations", _, "settings", "idpsync", kind @ ("groups" | "roles"), "config"]) => {
            settings::sync_config(st, Some(org), kind, req)
        }
        _ => templates::handle(st, me, req, seg, org),
    };
    result.unwrap_or_else(|reply| reply)
}

fn create_org(st: &mut State, me: &str, req: &Request) -> Result<Reply, Reply> {
    if !st.entitled("multiple_organizations") {
        return Err(premium("Multiple Organizations"));
    }
    let b = body(req)?;
    let name = str_field(&b, "name");
    if name == "default" || !valid_name(&name) {
        return Err(validation(
            400,
            "Validation failed.",
            "name",
            "Validation failed for tag \"organization_name\" with value: \"\"",
        ));
    }
    if st.idx.org_name.contains_key(&name) {
        return Err(error(409, &format!("Organization already exists with the name {name:?}."), ""));
    }
    let id = st.new_id("org", &name);
    let display = Some(str_field(&b, "display_name")).filter(|d| !d.is_empty()).unwrap_or_else(|| name.clone());
    let org = Organization {
        id: id.clone(),
        name,
        display_name: display,
        description: str_field(&b, "description"),
        icon: str_field(&b, "icon"),
        is_default: false,
        created_at: Some(NOW.into()),
        // A release with default member roles (its default org reports them)
        // starts a new org with workspace access for members; older ones have none.
        default_org_member_roles: st
            .s
            .organizations
            .iter()
            .find(|o| o.is_default)
            .and_then(|o| o.default_org_member_roles.as_ref())
            .map(|_| vec!["organization-workspace-access".to_string()]),
        // With the `workspace-sharing` experiment on, a new org lets its members share (v2.30.0).
        shareable_workspace_owners: st.sharing_on().then(|| "everyone".to_string()),
    };
    st.push_org(org.clone());
    // The creator becomes a member, and the org gets its Everyone group (id = org id).
    st.push_member(OrganizationMember { organization_id: id.clone(), user_id: me.into(), roles: Some(Vec::new()) });
    st.push_group(Group {
        id: id.clone(),
        organization_id: id.clone(),
        name: "Everyone".into(),
        source: "user".into(),
        members: vec![me.to_string()],
        total_member_count: 1,
        ..Group::default()
    });
    Ok(reply(201, &api::organization(&org)))
}

/// The organization roles coderd v2.36.1 has built in (`rbac.RoleByName`).
const BUILT_IN_ORG_ROLES: &[&str] = &[
    "organization-admin",
    "organization-auditor",
    "organization-template-admin",
    "organization-user-admin",
    "organization-workspace-access",
    "organization-workspace-creation-ban",
];

/// `PATCH /organizations/{org}`: a non-empty name or display name changes
/// them; `description` and `icon` are pointers (omitted keeps, "" clears).
fn update_org(st: &mut State, org: &str, req: &Request) -> Result<Reply, Reply> {
    let org = st.org(org).ok_or_else(not_found)?.id.clone();
    let org = org.as_str();
    let b = body(req)?;
    let name = str_field(&b, "name");
    if !name.is_empty() && (name == "default" || !valid_name(&name)) {
        return Err(validation(400, "Validation failed.", "name", "Validation failed for tag \"organization_name\""));
    }
    if !name.is_empty() && st.idx.org_name.get(&name).is_some_and(|i| st.s.organizations[*i].id != org) {
        return Err(error(409, &format!("Organization already exists with the name {name:?}."), ""));
    }
    if !name.is_empty() {
        st.rename_org(org, name);
    }
    let o = st.org_mut(org).ok_or_else(not_found)?;
    if let Some(d) = b.get("display_name").and_then(Value::as_str).filter(|d| !d.is_empty()) {
        o.display_name = d.into();
    }
    for (key, slot) in [("description", &mut o.description), ("icon", &mut o.icon)] {
        if let Some(v) = b.get(key).and_then(Value::as_str) {
            *slot = v.into();
        }
    }
    // Only a release that has default member roles reads the field; an older one ignores it.
    if let (Some(slot), Some(roles)) = (&mut o.default_org_member_roles, b.get("default_org_member_roles")) {
        let roles: Option<Vec<String>> =
            roles.as_array().and_then(|a| a.iter().map(|r| r.as_str().map(String::from)).collect());
        let roles = roles.ok_or_else(|| error(400, "Invalid default_org_member_roles.", ""))?;
        // v2.36.1 takes built-in organization roles only (a custom role is refused).
        if let Some(r) = roles.iter().find(|r| !BUILT_IN_ORG_ROLES.contains(&r.as_str())) {
            return Err(validation(
                400,
                "Invalid default_org_member_roles entry.",
                "default_org_member_roles",
                &format!("{r:?} is not a built-in role."),
            ));
        }
        *slot = roles;
    }
    let o = o.clone();
    Ok(reply(200, &api::organization(&o)))
}

/// `PATCH /organizations/{org}/settings/workspace-sharing` (v2.30.0:
/// `{"sharing_disabled": bool}`). Disabling also deletes every workspace
/// share in the org, as the server does.
fn patch_sharing(st: &mut State, org: &str, req: &Request) -> Result<Reply, Reply> {
    if !st.sharing_on() {
        return Err(super::reads::sharing_off());
    }
    let b = body(req)?;
    let disabled = b.get("sharing_disabled").and_then(Value::as_bool).unwrap_or(false);
    if st.current_release() {
        return patch_sharing_current(st, org, &b, disabled);
    }
    let o = st.org_mut(org).ok_or_else(not_found)?;
    o.shareable_workspace_owners = Some(if disabled { "none" } else { "everyone" }.into());
    if disabled {
        for w in st.s.workspaces.iter_mut().filter(|w| w.organization_id == org) {
            if w.shares.is_some() {
                w.shares = Some(WorkspaceShares::default());
            }
        }
    }
    Ok(reply(200, &json!({"sharing_disabled": disabled})))
}

/// The same on a current release (v2.36.1): `shareable_workspace_owners`
/// (`none`, `everyone`, `service_accounts`), else the deprecated
/// `sharing_disabled`; anything but `everyone` deletes the org's shares,
/// except those of service accounts' workspaces under `service_accounts`.
fn patch_sharing_current(st: &mut State, org: &str, b: &Value, disabled: bool) -> Result<Reply, Reply> {
    let owners = match str_field(b, "shareable_workspace_owners") {
        o if o.is_empty() && disabled => "none".to_string(),
        o if o.is_empty() => "everyone".to_string(),
        o => o,
    };
    if !["none", "everyone", "service_accounts"].contains(&owners.as_str()) {
        return Err(validation(
            400,
            "Invalid shareable workspace owners value.",
            "shareable_workspace_owners",
            &format!("invalid value {owners:?}, must be one of [none, everyone, service_accounts]"),
        ));
    }
    st.org_mut(org).ok_or_else(not_found)?.shareable_workspace_owners = Some(owners.clone());
    if owners != "everyone" {
        let service_accounts: std::collections::BTreeSet<String> =
            st.s.users.iter().filter(|u| u.is_service_account).map(|u| u.id.clone()).collect();
        for w in st.s.workspaces.iter_mut().filter(|w| w.organization_id == org) {
            let kept = owners == "service_accounts" && service_accounts.contains(&w.owner_id);
            if w.shares.is_some() && !kept {
                w.shares = Some(WorkspaceShares::default());
            }
        }
    }
    Ok(reply(200, &super::reads::sharing_json(&owners)))
}

fn member_json(org: &str, user: &str, roles: &[String]) -> Value {
    let roles: Vec<Value> = roles
        .iter()
        .map(|r| json!({"name": r, "display_name": api::role_display_name(r), "organization_id": org}))
        .collect();
    json!({"user_id": user, "organization_id": org, "created_at": NOW, "updated_at": NOW, "roles": roles})
}

/// Whether the IdP owns this user's membership (OIDC user, organization sync on).
fn org_synced(st: &State, user: &User) -> bool {
    user.login_type == "oidc"
        && !user.is_service_account
        && st.s.idp_sync.organization.as_ref().is_some_and(|s| !s.field.is_empty())
}

fn add_member(st: &mut State, org: &str, user: &str) -> Result<Reply, Reply> {
    let u = st.user(user).ok_or_else(not_found)?.clone();
    if st.is_member(org, &u.id) {
        return Err(error(400, "User is already an organization member", ""));
    }
    if org_synced(st, &u) {
        return Err(error(
            400,
            "Organization sync is enabled for OIDC users, meaning manual organization assignment is not allowed for this user.",
            "",
        ));
    }
    st.push_member(OrganizationMember { organization_id: org.into(), user_id: u.id.clone(), roles: Some(Vec::new()) });
    if st.add_to_group(org, &u.id)
        && let Some(everyone) = st.group_mut(org)
    {
        everyone.total_member_count += 1;
    }
    Ok(reply(200, &member_json(org, &u.id, &[])))
}

/// `DELETE /organizations/{org}/members/{user}`: 204; yourself, 400; the
/// user's group memberships in the org go with it (a database trigger in
/// Coder); their workspaces there stay (the server does not check them).
fn remove_member(st: &mut State, me: &str, org: &str, user: &str) -> Result<Reply, Reply> {
    let u = st.user(user).ok_or_else(not_found)?.clone();
    if u.id == me {
        return Err(error(400, "cannot remove self from an organization", ""));
    }
    if !st.is_member(org, &u.id) {
        return Err(not_found());
    }
    st.remove_member(org, &u.id);
    for g in st.s.groups.iter_mut().filter(|g| g.organization_id == org) {
        if let Ok(at) = g.members.binary_search(&u.id) {
            g.members.remove(at);
            g.total_member_count -= 1;
        }
    }
    Ok(Reply { status: 204, headers: Vec::new(), body: Vec::new() })
}

fn set_roles(st: &mut State, me: &str, org: &str, user: &str, req: &Request) -> Result<Reply, Reply> {
    let u = st.user(user).ok_or_else(not_found)?.clone();
    if !st.is_member(org, &u.id) {
        return Err(not_found());
    }
    if u.id == me {
        return Err(error(400, "You cannot change your own organization roles.", ""));
    }
    let role_synced = st.s.idp_sync.roles.iter().any(|r| r.organization_id == org && !r.field.is_empty());
    if u.login_type == "oidc" && role_synced {
        return Err(error(
            400,
            "Cannot modify roles for OIDC users when role sync is enabled. This organization member's roles are managed by the identity provider.",
            "",
        ));
    }
    let b = body(req)?;
    let roles: Vec<String> = serde_json::from_value(b.get("roles").cloned().unwrap_or(json!([])))
        .map_err(|e| error(400, "Request body must be valid JSON.", &e.to_string()))?;
    let known = |r: &str| {
        r == ORG_MEMBER_ROLE
            || api::builtin_roles(org).iter().any(|b| b["name"] == r)
            || st.s.custom_roles.iter().any(|c| c.organization_id == org && c.name == r)
    };
    if let Some(bad) = roles.iter().find(|r| !known(r)) {
        return Err(validation(
            400,
            "Invalid role.",
            "roles",
            &format!("role {bad:?} does not exist in this organization"),
        ));
    }
    let kept: Vec<String> = roles.into_iter().filter(|r| r != ORG_MEMBER_ROLE).collect();
    if let Some(m) = st.member_mut(org, &u.id) {
        let mut sorted = kept.clone();
        super::state::sort_dedup(&mut sorted);
        m.roles = Some(sorted);
    }
    Ok(reply(200, &member_json(org, &u.id, &kept)))
}

fn create_group(st: &mut State, org: &str, req: &Request) -> Result<Reply, Reply> {
    if !st.entitled("template_rbac") {
        return Err(premium("Template RBAC"));
    }
    let b = body(req)?;
    let name = str_field(&b, "name");
    if name == "Everyone" || name.is_empty() {
        return Err(validation(400, "Invalid group name.", "name", &format!("{name:?} is a reserved group name.")));
    }
    if st.group_by_name(org, &name).is_some() {
        return Err(error(409, &format!("A group named {name:?} already exists."), ""));
    }
    let group = Group {
        id: st.new_id("group", &name),
        organization_id: org.into(),
        display_name: str_field(&b, "display_name"),
        avatar_url: str_field(&b, "avatar_url"),
        quota_allowance: b.get("quota_allowance").and_then(Value::as_i64).unwrap_or(0),
        source: "user".into(),
        name,
        ..Group::default()
    };
    st.push_group(group.clone());
    Ok(reply(201, &st.group_json(&group)))
}

fn patch_group(st: &mut State, id: &str, req: &Request) -> Result<Reply, Reply> {
    let g = st.group(id).ok_or_else(not_found)?.clone();
    let b = body(req)?;
    let list = |key: &str| -> Vec<String> {
        serde_json::from_value(b.get(key).cloned().unwrap_or(json!([]))).unwrap_or_default()
    };
    let (add, remove) = (list("add_users"), list("remove_users"));
    if g.id == g.organization_id && !(add.is_empty() && remove.is_empty()) {
        return Err(error(400, "Cannot add or remove users from the \"Everyone\" group.", ""));
    }
    for u in &add {
        if !st.is_member(&g.organization_id, u) {
            return Err(error(
                412,
                &format!("User {u:?} must be a member of organization {:?} to be added to a group.", g.organization_id),
                "",
            ));
        }
        if g.members.contains(u) {
            return Err(error(412, &format!("User {u:?} is already a member of group {:?}.", g.name), ""));
        }
    }
    let name = str_field(&b, "name");
    if !name.is_empty() && name != g.name && st.group_by_name(&g.organization_id, &name).is_some() {
        return Err(error(409, &format!("A group named {name:?} already exists."), ""));
    }
    let group = st.group_mut(id).expect("found above");
    group.members.retain(|m| !remove.contains(m));
    group.members.extend(add);
    group.total_member_count = group.members.len() as i64;
    if !name.is_empty() {
        group.name = name;
    }
    for (key, slot) in [("display_name", &mut group.display_name), ("avatar_url", &mut group.avatar_url)] {
        if let Some(v) = b.get(key).and_then(Value::as_str).filter(|v| !v.is_empty()) {
            *slot = v.to_string();
        }
    }
    if let Some(q) = b.get("quota_allowance").and_then(Value::as_i64) {
        group.quota_allowance = q;
    }
    let group = group.clone();
    st.group_changed(id, &g.name);
    Ok(reply(200, &st.group_json(&group)))
}
