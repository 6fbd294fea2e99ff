//! POST, PUT and PATCH on custom roles, provisioner keys and IdP sync
//! mappings: reserved names refused (400), a taken name a 409, a provisioner
//! key's secret answered once, sync mappings changed entry by entry.

use fixtures::api;
use orgsplit::model::*;
use serde_json::{Value, json};

use super::http::{Reply, Request};
use super::reads::{error, json as reply, not_found, validation};
use super::state::{NOW, State};
use super::writes::{body, premium, str_field, valid_name};

pub fn custom_role(st: &mut State, org: &str, req: &Request, create: bool) -> Result<Reply, Reply> {
    if !st.entitled("custom_roles") {
        return Err(premium("Custom Roles"));
    }
    let b = body(req)?;
    let name = str_field(&b, "name");
    if api::builtin_roles(org).iter().any(|r| r["name"] == name.as_str()) {
        return Err(error(
            400,
            "Reserved role name",
            &format!("{name:?} is a reserved role name, and not allowed to be used"),
        ));
    }
    if !valid_name(&name) {
        return Err(error(400, "Invalid role name", "must be a valid name"));
    }
    let perms = |key: &str| -> Result<Vec<Permission>, Reply> {
        serde_json::from_value(b.get(key).cloned().filter(|v| !v.is_null()).unwrap_or(json!([])))
            .map_err(|e| error(400, "Request body must be valid JSON.", &e.to_string()))
    };
    if !perms("site_permissions")?.is_empty() || !perms("user_permissions")?.is_empty() {
        return Err(error(
            400,
            "Invalid request, not allowed to assign site wide permissions for an organization role.",
            "",
        ));
    }
    let role = Role {
        name: name.clone(),
        display_name: str_field(&b, "display_name"),
        organization_id: org.into(),
        organization_permissions: perms("organization_permissions")?,
        organization_member_permissions: perms("organization_member_permissions")?,
        site_permissions: Vec::new(),
        user_permissions: Vec::new(),
    };
    let existing = st.s.custom_roles.iter().position(|r| r.organization_id == org && r.name == name);
    match (create, existing) {
        (true, Some(_)) => return Err(error(409, &format!("A role named {name:?} already exists."), "")),
        (false, None) => return Err(not_found()),
        (true, None) => st.s.custom_roles.push(sorted_role(&role)),
        (false, Some(i)) => st.s.custom_roles[i] = sorted_role(&role),
    }
    // One role object, although the spec says an array (coderd/roles.go writes db2sdk.Role).
    let mut body = api::custom_role(&role);
    if let Some(map) = body.as_object_mut() {
        map.remove("assignable");
        map.remove("built_in");
    }
    Ok(reply(200, &body))
}

/// A role's permissions as `Snapshot::canonicalize` leaves them.
fn sorted_role(role: &Role) -> Role {
    let mut role = role.clone();
    for perms in [
        &mut role.organization_permissions,
        &mut role.organization_member_permissions,
        &mut role.site_permissions,
        &mut role.user_permissions,
    ] {
        super::state::sort_dedup(perms);
    }
    role
}

/// The sync settings' mappings as `Snapshot::canonicalize` leaves them.
fn sort_mappings(idp: &mut IdpSync) {
    let sorted = |m: &mut std::collections::BTreeMap<String, Vec<String>>| {
        m.values_mut().for_each(super::state::sort_dedup);
    };
    if let Some(o) = &mut idp.organization {
        sorted(&mut o.mapping);
    }
    idp.groups.iter_mut().for_each(|g| sorted(&mut g.mapping));
    idp.roles.iter_mut().for_each(|r| sorted(&mut r.mapping));
}

pub fn create_key(st: &mut State, org: &str, req: &Request) -> Result<Reply, Reply> {
    if !st.entitled("external_provisioner_daemons") {
        return Err(premium("External Provisioner Daemons"));
    }
    let b = body(req)?;
    let name = str_field(&b, "name");
    if name.is_empty() || name.len() > 64 || ["built-in", "user-auth", "psk"].contains(&name.to_lowercase().as_str()) {
        return Err(validation(
            400,
            "Invalid provisioner key name.",
            "name",
            &format!("{name:?} is reserved or not a valid name"),
        ));
    }
    if st.s.provisioner_keys.iter().any(|k| k.organization == org && k.name == name) {
        return Err(error(
            409,
            &format!("Provisioner key with name {name:?} already exists in this organization."),
            "",
        ));
    }
    let tags = serde_json::from_value(b.get("tags").cloned().filter(|v| !v.is_null()).unwrap_or(json!({})))
        .unwrap_or_default();
    let id = st.new_id("provisioner-key", &name);
    let secret = format!("pk-{}", st.new_id("secret", &name).replace('-', ""));
    st.key_secrets.insert(id.clone(), secret.clone());
    st.s.provisioner_keys.push(ProvisionerKey {
        id,
        name,
        organization: org.into(),
        tags,
        created_at: Some(NOW.into()),
    });
    if st.start_daemons {
        let key = st.s.provisioner_keys.last().cloned().expect("the key just pushed");
        super::provisioners::start_daemon(st, &key);
    }
    Ok(reply(201, &json!({ "key": secret })))
}

pub fn sync_mapping(st: &mut State, org: Option<&str>, kind: &str, req: &Request) -> Result<Reply, Reply> {
    let b = body(req)?;
    let entries = |key: &str| -> Vec<(String, String)> {
        b.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| (str_field(e, "given"), str_field(e, "gets")))
            .collect()
    };
    let (add, remove) = (entries("add"), entries("remove"));
    let apply = |mapping: &mut std::collections::BTreeMap<String, Vec<String>>| {
        for (given, gets) in &remove {
            if let Some(v) = mapping.get_mut(given) {
                v.retain(|g| g != gets);
            }
        }
        for (given, gets) in &add {
            let v = mapping.entry(given.clone()).or_default();
            if !v.contains(gets) {
                v.push(gets.clone());
            }
        }
        mapping.retain(|_, v| !v.is_empty());
    };
    let idp = &mut st.s.idp_sync;
    let body = match (org, kind) {
        (None, _) => {
            let s = idp.organization.get_or_insert_with(|| OrganizationSyncSettings {
                organization_assign_default: true,
                ..Default::default()
            });
            apply(&mut s.mapping);
            api::org_sync(s)
        }
        (Some(org), "groups") => {
            if !idp.groups.iter().any(|g| g.organization_id == org) {
                idp.groups.push(OrgGroupSync { organization_id: org.into(), ..Default::default() });
            }
            let s = idp.groups.iter_mut().find(|g| g.organization_id == org).expect("inserted");
            apply(&mut s.mapping);
            api::group_sync(s)
        }
        (Some(org), _) => {
            if !idp.roles.iter().any(|r| r.organization_id == org) {
                idp.roles.push(OrgRoleSync { organization_id: org.into(), ..Default::default() });
            }
            let s = idp.roles.iter_mut().find(|r| r.organization_id == org).expect("inserted");
            apply(&mut s.mapping);
            api::role_sync(s)
        }
    };
    sort_mappings(&mut st.s.idp_sync);
    Ok(reply(200, &body))
}

/// `PATCH .../idpsync/{organization,groups,roles}/config`: the claim and
/// flags, leaving the mapping alone; answers the whole settings object.
pub fn sync_config(st: &mut State, org: Option<&str>, kind: &str, req: &Request) -> Result<Reply, Reply> {
    let b = body(req)?;
    let field = str_field(&b, "field");
    let flag = |key: &str| b.get(key).and_then(Value::as_bool);
    let idp = &mut st.s.idp_sync;
    let body = match (org, kind) {
        (None, _) => {
            let s = idp.organization.get_or_insert_with(|| OrganizationSyncSettings {
                organization_assign_default: true,
                ..Default::default()
            });
            s.field = field;
            if let Some(a) = flag("assign_default") {
                s.organization_assign_default = a;
            }
            api::org_sync(s)
        }
        (Some(org), "groups") => {
            if !idp.groups.iter().any(|g| g.organization_id == org) {
                idp.groups.push(OrgGroupSync { organization_id: org.into(), ..Default::default() });
            }
            let s = idp.groups.iter_mut().find(|g| g.organization_id == org).expect("inserted");
            s.field = field;
            s.regex_filter = b.get("regex_filter").and_then(Value::as_str).map(String::from);
            s.auto_create_missing_groups = flag("auto_create_missing_groups").unwrap_or(false);
            api::group_sync(s)
        }
        (Some(org), _) => {
            if !idp.roles.iter().any(|r| r.organization_id == org) {
                idp.roles.push(OrgRoleSync { organization_id: org.into(), ..Default::default() });
            }
            let s = idp.roles.iter_mut().find(|r| r.organization_id == org).expect("inserted");
            s.field = field;
            api::role_sync(s)
        }
    };
    Ok(reply(200, &body))
}
