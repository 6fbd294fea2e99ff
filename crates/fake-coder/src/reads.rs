//! GET endpoints: the bodies `swagger.json` defines, rendered from the state
//! with `fixtures::api`, paged the way the server pages them.

use fixtures::api;
use serde_json::{Value, json};

use super::http::{Reply, Request};
use super::state::State;

pub fn json(status: u16, body: &Value) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::to_vec(body).expect("JSON values serialise"),
    }
}

/// A `codersdk.Response` error body.
pub fn error(status: u16, message: &str, detail: &str) -> Reply {
    json(status, &json!({"message": message, "detail": detail, "validations": null}))
}

pub fn validation(status: u16, message: &str, field: &str, detail: &str) -> Reply {
    json(status, &json!({"message": message, "detail": "", "validations": [{"field": field, "detail": detail}]}))
}

pub fn not_found() -> Reply {
    error(404, "Resource not found or you do not have access to this resource", "")
}

/// `limit` and `offset` as the server parses them; 0 or no limit means all.
fn page(req: &Request) -> Result<(usize, usize), Reply> {
    let mut out = (usize::MAX, 0);
    for (key, slot) in [("limit", 0), ("offset", 1)] {
        if let Some(v) = req.query_value(key) {
            let n: usize = v.parse().map_err(|_| {
                validation(
                    400,
                    "Query parameters have invalid values.",
                    key,
                    &format!("Query param {key:?} must be a valid integer"),
                )
            })?;
            if slot == 0 {
                out.0 = if n == 0 { usize::MAX } else { n };
            } else {
                out.1 = n;
            }
        }
    }
    Ok(out)
}

fn slice<T>(items: &[T], (limit, offset): (usize, usize)) -> &[T] {
    let start = offset.min(items.len());
    &items[start..start.saturating_add(limit).min(items.len())]
}

/// Terms of a `q` search (`key:value` separated by spaces).
fn search(req: &Request) -> Vec<(String, String)> {
    let q = req.query_value("q").unwrap_or_default();
    q.split_whitespace().filter_map(|t| t.split_once(':')).map(|(k, v)| (k.to_lowercase(), v.to_string())).collect()
}

/// The licensed feature a read needs (the server answers 403 without it).
fn feature(seg: &[&str]) -> Option<(&'static str, &'static str)> {
    match seg {
        ["organizations", _, "groups", ..] | ["groups", ..] | ["templates", _, "acl"] => {
            Some(("template_rbac", "Template RBAC"))
        }
        ["organizations", _, "provisionerkeys", ..] => {
            Some(("external_provisioner_daemons", "External Provisioner Daemons"))
        }
        ["workspaceproxies"] => Some(("workspace_proxy", "Workspace Proxies")),
        _ => None,
    }
}

pub fn get(st: &State, me: &str, req: &Request, seg: &[&str]) -> Reply {
    if let Some((key, name)) = feature(seg).filter(|(key, _)| !st.entitled(key)) {
        let _ = key;
        return super::writes::premium(name);
    }
    let s = &st.s;
    let page = match page(req) {
        Ok((limit, offset)) => (limit.min(st.max_page.unwrap_or(usize::MAX)), offset),
        Err(reply) => return reply,
    };
    match seg {
        // v2.30.0 lists the enabled experiments (`[]` when none); a current
        // release has no `workspace-sharing` experiment (sharing is always on).
        ["experiments"] => json(
            200,
            &json!(if st.sharing_on() && !st.current_release() {
                vec!["workspace-sharing"]
            } else {
                Vec::<&str>::new()
            }),
        ),
        ["buildinfo"] => {
            json(200, &s.build_info.as_ref().map(api::build_info).unwrap_or(json!({"version": "v2.18.0"})))
        }
        ["entitlements"] => match &s.entitlements {
            Some(e) => json(200, &api::entitlements(e)),
            None => not_found(),
        },
        ["users", "me"] => st.user(me).map_or_else(not_found, |u| json(200, &st.user_json(u))),
        ["users", u] => st.user(u).map_or_else(not_found, |u| json(200, &st.user_json(u))),
        ["users"] => {
            let users: Vec<Value> = slice(&s.users, page).iter().map(|u| st.user_json(u)).collect();
            json(200, &json!({"users": users, "count": s.users.len()}))
        }
        ["workspaces"] => {
            let fallback = orgsplit::model::Organization::default();
            let ws: Vec<Value> = slice(&s.workspaces, page)
                .iter()
                .map(|w| {
                    let mut body =
                        api::workspace(w, st.org(&w.organization_id).unwrap_or(&fallback), st.template(&w.template_id));
                    if let Some(shared) = shared_with(st, w) {
                        body["shared_with"] = shared;
                    }
                    body
                })
                .collect();
            json(200, &json!({"workspaces": ws, "count": s.workspaces.len()}))
        }
        // v2.30.0 (behind the `workspace-sharing` experiment): who a
        // workspace is shared with, users as minimal users and groups in
        // full, each with its role.
        ["workspaces", w, "acl"] => match s.workspaces.iter().find(|x| x.id == *w) {
            _ if !st.sharing_on() => sharing_off(),
            Some(w) => json(200, &workspace_acl_json(st, w)),
            None => not_found(),
        },
        ["organizations"] => {
            json(200, &Value::from(st.organizations().into_iter().map(api::organization).collect::<Vec<_>>()))
        }
        ["organizations", o, rest @ ..] => match st.org(o) {
            Some(org) => org_get(st, &org.id.clone(), req, rest, page),
            None => not_found(),
        },
        ["groups"] => {
            let org = req.query_value("organization").and_then(|o| st.org(&o).map(|o| o.id.clone()));
            let groups: Vec<Value> = st.groups(org.as_deref()).into_iter().map(|g| st.group_json(g)).collect();
            json(200, &Value::from(groups))
        }
        ["groups", g] => st.group(g).map_or_else(not_found, |g| json(200, &st.group_json(g))),
        ["templates"] => {
            let terms = search(req);
            let deprecated = terms.iter().find(|(k, _)| k == "deprecated").map(|(_, v)| v == "true");
            let org =
                terms.iter().find(|(k, _)| k == "organization").and_then(|(_, v)| st.org(v).map(|o| o.id.clone()));
            let templates: Vec<Value> = st
                .templates(org.as_deref())
                .into_iter()
                .filter(|t| deprecated.is_none_or(|d| t.deprecated == d))
                .map(|t| st.template_json(t))
                .collect();
            json(200, &Value::from(templates))
        }
        ["templates", t] => st.template(t).map_or_else(not_found, |t| json(200, &st.template_json(t))),
        ["templates", t, "acl"] => match st.template(t) {
            Some(t) => json(200, &acl_json(st, t)),
            None => not_found(),
        },
        ["templateversions", v] => st.version(v).map_or_else(not_found, |v| json(200, &st.version_json(v))),
        ["templateversions", v, "variables"] => super::provisioners::variables(st, v),
        ["files", id] => match st.file(id) {
            Some(f) => Reply { status: 200, headers: vec![("Content-Type".into(), f.content_type)], body: f.bytes },
            None => not_found(),
        },
        ["workspaceproxies"] => {
            json(200, &json!({"regions": s.workspace_proxies.iter().map(api::workspace_proxy).collect::<Vec<_>>()}))
        }
        ["settings", "idpsync", "organization"] => json(
            200,
            &s.idp_sync.organization.as_ref().map_or_else(
                || json!({"field": "", "mapping": {}, "organization_assign_default": true}),
                api::org_sync,
            ),
        ),
        _ => not_found(),
    }
}

/// `/organizations/{org}/...`, with the org resolved to its id.
fn org_get(st: &State, org: &str, req: &Request, rest: &[&str], page: (usize, usize)) -> Reply {
    let s = &st.s;
    let member_json = |m: &&orgsplit::model::OrganizationMember| st.user(&m.user_id).map(|u| api::member(m, u));
    match rest {
        [] => json(200, &api::organization(st.org(org).expect("resolved"))),
        ["members"] => json(200, &Value::from(st.members_of(org).iter().filter_map(member_json).collect::<Vec<_>>())),
        ["paginated-members"] => {
            let members = st.members_of(org);
            // The server reads the total from the first row of the page, so a
            // page past the end fails (ENDPOINTS.md section 0).
            if page.1 >= members.len() {
                return error(500, "Internal error fetching organization members.", "runtime error: index out of range [0] with length 0");
            }
            let rows: Vec<Value> = slice(&members, page).iter().filter_map(member_json).collect();
            json(200, &json!({"members": rows, "count": members.len()}))
        }
        ["members", "roles"] => {
            let mut roles = api::builtin_roles(org);
            roles.extend(st.custom_roles(org).into_iter().map(api::custom_role));
            json(200, &Value::from(roles))
        }
        ["groups"] => json(
            200,
            &Value::from(st.groups(Some(org)).into_iter().map(|g| st.group_json(g)).collect::<Vec<_>>()),
        ),
        ["groups", name] => st.group_by_name(org, name).map_or_else(not_found, |g| json(200, &st.group_json(g))),
        ["templates"] => json(
            200,
            &Value::from(st.templates(Some(org)).into_iter().map(|t| st.template_json(t)).collect::<Vec<_>>()),
        ),
        ["templates", name] => st.template_by_name(org, name).map_or_else(not_found, |t| json(200, &st.template_json(t))),
        ["provisionerkeys"] => json(
            200,
            &Value::from(st.provisioner_keys(org).into_iter().map(api::provisioner_key).collect::<Vec<_>>()),
        ),
        ["provisionerjobs"] => super::provisioners::jobs(st, org, req),
        ["provisionerdaemons"] => {
            // No offset, no count, and `limit` defaults to 50 (coderd's provisionerDaemons).
            let limit = req.query_value("limit").and_then(|l| l.parse().ok()).unwrap_or(50);
            let daemons = st.provisioner_daemons(org).into_iter().take(limit);
            json(200, &Value::from(daemons.map(api::provisioner_daemon).collect::<Vec<_>>()))
        }
        ["settings", "idpsync", "groups"] => json(
            200,
            &s.idp_sync.groups.iter().find(|g| g.organization_id == org).map_or_else(
                || json!({"field": "", "mapping": {}, "regex_filter": null, "auto_create_missing_groups": false, "legacy_group_name_mapping": {}}),
                api::group_sync,
            ),
        ),
        ["settings", "workspace-sharing"] => match st.org(org) {
            Some(_) if !st.sharing_on() => sharing_off(),
            // A current release says whose workspaces may be shared.
            Some(o) if st.current_release() => json(200, &sharing_json(&st.shareable_owners(o))),
            // v2.30.0's shape: sharing is on or off.
            Some(o) => json(200, &json!({"sharing_disabled": o.shareable_workspace_owners.as_deref() == Some("none")})),
            None => not_found(),
        },
        ["settings", "idpsync", "roles"] => json(
            200,
            &s.idp_sync.roles.iter().find(|r| r.organization_id == org).map_or_else(|| json!({"field": "", "mapping": {}}), api::role_sync),
        ),
        _ => not_found(),
    }
}

/// `codersdk.WorkspaceSharingSettings` of a current release (v2.36.1).
pub fn sharing_json(owners: &str) -> Value {
    json!({"sharing_globally_disabled": false, "sharing_disabled": owners == "none", "shareable_workspace_owners": owners})
}

/// v2.30.0's answer on the routes behind the `workspace-sharing` experiment when it is off.
pub fn sharing_off() -> Reply {
    error(403, "Workspace Sharing functionality requires enabling the 'workspace-sharing' experiment.", "")
}

/// A workspace's `shared_with` (v2.30.0): only with the experiment on, and
/// left out when empty (`omitempty`).
fn shared_with(st: &State, w: &orgsplit::model::Workspace) -> Option<Value> {
    let shares = w.shares.as_ref().filter(|_| st.sharing_on())?;
    let actor = |e: &orgsplit::model::AclEntry, kind: &str, name: String| json!({"id": e.id, "actor_type": kind, "name": name, "roles": [e.role]});
    let mut out: Vec<Value> = Vec::new();
    for e in &shares.users {
        out.push(actor(e, "user", st.user(&e.id).map(|u| u.name.clone()).unwrap_or_default()));
    }
    for e in &shares.groups {
        out.push(actor(e, "group", st.group(&e.id).map(|g| g.name.clone()).unwrap_or_default()));
    }
    (!out.is_empty()).then(|| Value::from(out))
}

/// `codersdk.WorkspaceACL` of v2.30.0: `users` (MinimalUser and role) and
/// `group` (Group and role); users and groups that no longer exist are
/// left out, as coderd does.
pub fn workspace_acl_json(st: &State, w: &orgsplit::model::Workspace) -> Value {
    let none = orgsplit::model::WorkspaceShares::default();
    let shares = w.shares.as_ref().unwrap_or(&none);
    let users: Vec<Value> = shares
        .users
        .iter()
        .filter_map(|e| {
            let u = st.user(&e.id)?;
            // MinimalUser: `name` and `avatar_url` are left out when empty (the fake has no avatars).
            let mut user = json!({"id": u.id, "username": u.username, "role": e.role});
            if !u.name.is_empty() {
                user["name"] = json!(u.name);
            }
            Some(user)
        })
        .collect();
    let groups: Vec<Value> = shares
        .groups
        .iter()
        .filter_map(|e| {
            let mut g = st.group_json(st.group(&e.id)?);
            g["role"] = json!(e.role);
            Some(g)
        })
        .collect();
    json!({"users": users, "group": groups})
}

/// A template's ACL: every granted group with its full member list (the
/// size trap of ENDPOINTS.md section 7). A template whose snapshot holds no
/// ACL gets an empty one.
pub fn acl_json(st: &State, t: &orgsplit::model::Template) -> Value {
    let Some(acl) = &t.acl else { return json!({"group": [], "users": []}) };
    let users = |id: &str| st.user(id).map(|u| st.user_json(u));
    let groups = |id: &str| st.group(id).map(|g| st.group_json(g));
    api::template_acl(acl, &users, &groups)
}
