//! Join the collected pieces by id into a snapshot. Nothing is dropped
//! silently: a reference to something the export does not hold is kept as it
//! is and reported as a warning.

use std::collections::{BTreeMap, HashMap, HashSet};

mod idp;
mod members;
mod templates;

use idp::idp_sync;
use members::{groups, members};
use templates::{check_active_versions, templates, versions};

use super::collect::{Collected, Item};
use crate::coder::types as wire;
use crate::model::*;

/// Turn collected pieces into a snapshot (not yet holding people or template sources).
pub fn assemble(mut c: Collected, source: Source) -> Snapshot {
    let mut w = std::mem::take(&mut c.warnings);
    let orgs = Orgs::new(&c);

    let mut organizations: Vec<Organization> = c.organizations.values().map(|i| organization(&i.value)).collect();
    for s in &c.workspace_sharing {
        let org = s.owner.as_deref().map(|o| orgs.resolve(o)).unwrap_or_default();
        match organizations.iter_mut().find(|o| o.id == org) {
            Some(o) => o.shareable_workspace_owners = Some(s.value.owners()),
            None => w.push(Warning::new(
                "dangling-workspace-sharing",
                format!("`{}`: workspace sharing settings of an organization not in the export", s.file),
            )),
        }
    }
    if organizations.is_empty() && !(c.users.is_empty() && c.templates.is_empty()) {
        w.push(Warning::new(
            "no-organizations",
            "the export has no organizations (GET /api/v2/organizations): org names and the default org are unknown",
        ));
    } else if !organizations.is_empty() && !organizations.iter().any(|o| o.is_default) {
        w.push(Warning::new("no-default-organization", "no organization in the export is marked `is_default`"));
    }

    let users: Vec<User> = c.users.values().map(|i| user(&i.value)).collect();
    let user_ids: HashSet<&str> = c.users.keys().map(String::as_str).collect();

    let organization_members = members(&c, &orgs, &user_ids, &mut w);
    let groups = groups(&c, &orgs, &user_ids, &organization_members, &mut w);
    let group_ids: HashSet<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let templates = templates(&c, &orgs, &user_ids, &group_ids, &mut w);
    let template_versions = versions(&c, &mut w);
    // The workspaces are the bulk of an export: each is moved out of what
    // was collected, so the two forms are not held whole at once.
    let wire_workspaces = std::mem::take(&mut c.workspaces);
    let workspace_count = wire_workspaces.len();
    let workspaces = workspaces(wire_workspaces, &c, &orgs, &user_ids, &mut w);
    check_active_versions(&templates, &template_versions, &mut w);
    check_page_counts(&c, workspace_count, &mut w);

    let provisioner_daemons = c
        .daemons
        .values()
        .map(|i| {
            let d = &i.value;
            ProvisionerDaemon {
                id: d.id.clone(),
                name: d.name.clone(),
                organization_id: orgs.resolve(&d.organization_id),
                key_id: d.key_id.clone(),
                key_name: d.key_name.clone(),
                status: d.status.clone(),
                version: d.version.clone(),
                last_seen_at: ts(&d.last_seen_at),
                provisioners: d.provisioners.clone(),
                tags: d.tags.clone(),
            }
        })
        .collect();
    let provisioner_keys = c
        .keys
        .values()
        .map(|i| {
            let k = &i.value;
            ProvisionerKey {
                id: k.id.clone(),
                name: k.name.clone(),
                organization: orgs.resolve(&k.organization),
                tags: k.tags.clone(),
                created_at: ts(&k.created_at),
            }
        })
        .collect();
    let workspace_proxies = c
        .proxies
        .values()
        .map(|i| {
            let p = &i.value;
            WorkspaceProxy {
                id: p.id.clone(),
                name: p.name.clone(),
                display_name: p.display_name.clone(),
                healthy: p.healthy,
                deleted: p.deleted,
                path_app_url: p.path_app_url.clone(),
                wildcard_hostname: p.wildcard_hostname.clone(),
                derp_enabled: p.derp_enabled,
                derp_only: p.derp_only,
            }
        })
        .collect();
    let custom_roles = c
        .roles
        .values()
        .map(|i| {
            let r = &i.value;
            Role {
                name: r.name.clone(),
                display_name: r.display_name.clone(),
                organization_id: orgs.resolve(&r.organization_id),
                organization_permissions: permissions(&r.organization_permissions),
                organization_member_permissions: permissions(&r.organization_member_permissions),
                site_permissions: permissions(&r.site_permissions),
                user_permissions: permissions(&r.user_permissions),
            }
        })
        .collect();
    let idp_sync = idp_sync(&c, &orgs, &group_ids, &mut w);

    let mut taken_at = source.taken_at.clone();
    if taken_at.is_none() {
        taken_at = c.entitlements.as_ref().and_then(|e| ts(&e.value.refreshed_at));
    }
    let mut snapshot = Snapshot {
        format_version: FORMAT_VERSION,
        source: Source { taken_at, ..source },
        build_info: c.build_info.as_ref().map(|b| BuildInfo {
            version: b.value.version.clone(),
            external_url: b.value.external_url.clone(),
            dashboard_url: b.value.dashboard_url.clone(),
            deployment_id: b.value.deployment_id.clone(),
        }),
        entitlements: c.entitlements.as_ref().map(|e| entitlements(&e.value)),
        organizations,
        users,
        organization_members,
        groups,
        templates,
        template_versions,
        workspaces,
        provisioner_daemons,
        provisioner_keys,
        workspace_proxies,
        custom_roles,
        idp_sync,
        people: None,
        template_sources: Vec::new(),
        warnings: w,
    };
    // The address read from (live) or given (`--deployment-url`) wins over
    // what the deployment says of itself.
    if snapshot.source.deployment_url.is_none() {
        snapshot.source.deployment_url = snapshot.self_reported_url();
    }
    let refused = crate::model::names::refused_names(&snapshot);
    snapshot.warnings.extend(refused);
    snapshot.canonicalize();
    snapshot
}

/// Resolves what a path or body calls an organization (id, name, or the
/// reserved word `default`) to its id.
struct Orgs {
    ids: HashSet<String>,
    by_name: HashMap<String, String>,
    default: Option<String>,
}

impl Orgs {
    fn new(c: &Collected) -> Orgs {
        let ids = c.organizations.keys().cloned().collect();
        let by_name = c.organizations.values().map(|o| (o.value.name.clone(), o.value.id.clone())).collect();
        let default = c.organizations.values().find(|o| o.value.is_default).map(|o| o.value.id.clone());
        Orgs { ids, by_name, default }
    }

    /// The org's id if known; otherwise the reference unchanged.
    fn resolve(&self, r: &str) -> String {
        if self.ids.contains(r) {
            return r.to_string();
        }
        if let (true, Some(d)) = (r == "default", &self.default) {
            return d.clone();
        }
        self.by_name.get(r).cloned().unwrap_or_else(|| r.to_string())
    }

    fn known(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    fn only_one(&self) -> Option<String> {
        (self.ids.len() == 1).then(|| self.ids.iter().next().cloned()).flatten()
    }
}

fn organization(o: &wire::Organization) -> Organization {
    Organization {
        id: o.id.clone(),
        name: o.name.clone(),
        display_name: o.display_name.clone(),
        description: o.description.clone(),
        icon: o.icon.clone(),
        is_default: o.is_default,
        created_at: ts(&o.created_at),
        default_org_member_roles: o.default_org_member_roles.clone(),
        shareable_workspace_owners: None,
    }
}

fn user(u: &wire::User) -> User {
    User {
        id: u.id.clone(),
        username: u.username.clone(),
        email: u.email.clone(),
        name: u.name.clone(),
        status: u.status.clone(),
        login_type: u.login_type.clone(),
        // Site roles have no organization; org roles come from member lists.
        roles: u.roles.iter().filter(|r| r.organization_id.is_empty()).map(|r| r.name.clone()).collect(),
        created_at: ts(&u.created_at),
        last_seen_at: ts(&u.last_seen_at),
        is_service_account: u.is_service_account,
    }
}

fn workspaces(
    collected: BTreeMap<String, Item<wire::Workspace>>,
    c: &Collected,
    orgs: &Orgs,
    user_ids: &HashSet<&str>,
    w: &mut Vec<Warning>,
) -> Vec<Workspace> {
    let mut out = Vec::with_capacity(collected.len());
    let mut shares: HashMap<String, WorkspaceShares> = HashMap::new();
    // With sharing on (v2.30.0's `workspace-sharing` experiment, or a newer
    // release), every workspace in a list says who it is shared with (an
    // empty `shared_with` is left out); without it, or when the export does
    // not say, only a non-empty one does.
    let sharing_on = wire::sharing_on(c.experiments.as_deref(), c.organizations.values().map(|i| &i.value));
    for item in collected.values() {
        let x = &item.value;
        if !sharing_on && x.shared_with.is_empty() {
            continue;
        }
        let mut s = WorkspaceShares::default();
        for a in &x.shared_with {
            let list = if a.actor_type == "group" { &mut s.groups } else { &mut s.users };
            // v2.30.0 sends one role per actor; the strongest stands for it.
            let role = if a.roles.iter().any(|r| r == "admin") { "admin" } else { "use" };
            list.push(AclEntry { id: a.id.clone(), role: role.into() });
        }
        s.users.sort();
        s.groups.sort();
        shares.insert(x.id.clone(), s);
    }
    for acl in &c.workspace_acls {
        match acl.owner.as_deref() {
            Some(id) if collected.contains_key(id) => {
                let entries = |v: &[wire::AclEntry]| {
                    let mut out: Vec<AclEntry> =
                        v.iter().map(|e| AclEntry { id: e.id.clone(), role: e.role.clone() }).collect();
                    out.sort();
                    out
                };
                shares.insert(
                    id.to_string(),
                    WorkspaceShares { users: entries(&acl.value.users), groups: entries(&acl.value.group) },
                );
            }
            _ => w.push(Warning::new(
                "dangling-workspace-acl",
                format!(
                    "`{}`: shares of a workspace not in the export (save it as {{\"endpoint\": \"/api/v2/workspaces/<id>/acl\", \"body\": ...}})",
                    acl.file
                ),
            )),
        }
    }
    for item in collected.into_values() {
        let x = item.value;
        let label = || format!("{}/{}", x.owner_name, x.name);
        match c.templates.get(&x.template_id) {
            None if !c.templates.is_empty() => w.push(Warning::new(
                "dangling-template",
                format!(
                    "workspace `{}` uses template `{}` ({}), which is not in the export (GET /api/v2/templates \
                     hides deprecated templates unless asked with q=deprecated:true)",
                    label(),
                    x.template_name,
                    x.template_id
                ),
            )),
            Some(t) if orgs.resolve(&t.value.organization_id) != orgs.resolve(&x.organization_id) => {
                w.push(Warning::new(
                    "template-org-mismatch",
                    format!(
                        "workspace `{}` is in organization `{}` but its template is in `{}`",
                        label(),
                        x.organization_id,
                        t.value.organization_id
                    ),
                ))
            }
            _ => {}
        }
        if !user_ids.contains(x.owner_id.as_str()) && !c.users.is_empty() {
            w.push(Warning::new(
                "dangling-owner",
                format!(
                    "workspace `{}` is owned by `{}` ({}), who is not in the export's users",
                    label(),
                    x.owner_name,
                    x.owner_id
                ),
            ));
        }
        let org = orgs.resolve(&x.organization_id);
        if !orgs.known(&org) && !c.organizations.is_empty() {
            w.push(Warning::new(
                "dangling-organization",
                format!("workspace `{}` is in organization `{org}`, which is not in the export", label()),
            ));
        }
        let b = x.latest_build;
        out.push(Workspace {
            shares: shares.remove(x.id.as_str()),
            id: x.id,
            name: x.name,
            owner_id: x.owner_id,
            owner_name: x.owner_name,
            organization_id: org,
            template_id: x.template_id,
            template_name: x.template_name,
            created_at: ts_owned(x.created_at),
            last_used_at: ts_owned(x.last_used_at),
            dormant_at: ts_owned(x.dormant_at),
            deleting_at: ts_owned(x.deleting_at),
            automatic_updates: x.automatic_updates,
            autostart_schedule: x.autostart_schedule,
            ttl_ms: x.ttl_ms,
            outdated: x.outdated,
            latest_build: WorkspaceBuild {
                id: b.id,
                build_number: b.build_number,
                status: b.status,
                transition: b.transition,
                template_version_id: b.template_version_id,
                created_at: ts_owned(b.created_at),
            },
        });
    }
    out
}

/// `workspaces`: how many the export held (they have left `c` by now).
fn check_page_counts(c: &Collected, workspaces: usize, w: &mut Vec<Warning>) {
    for (list, (count, file)) in &c.page_counts {
        let found = match *list {
            "users" => c.users.len(),
            "workspaces" => workspaces,
            _ => continue,
        };
        if (found as i64) < *count {
            w.push(Warning::new(
                "incomplete-pages",
                format!(
                    "`{file}` says there are {count} {list}, but the export holds {found}: a page is missing \
                     (export every page: offset/limit until `count` rows are read)"
                ),
            ));
        }
    }
}

fn permissions(p: &[wire::Permission]) -> Vec<Permission> {
    p.iter()
        .map(|p| Permission { negate: p.negate, resource_type: p.resource_type.clone(), action: p.action.clone() })
        .collect()
}

fn entitlements(e: &wire::Entitlements) -> Entitlements {
    Entitlements {
        has_license: e.has_license,
        trial: e.trial,
        refreshed_at: ts(&e.refreshed_at),
        features: e
            .features
            .iter()
            .map(|(k, f)| {
                (
                    k.clone(),
                    Feature {
                        enabled: f.enabled,
                        entitlement: f.entitlement.clone(),
                        limit: f.limit,
                        actual: f.actual,
                    },
                )
            })
            .collect(),
        errors: e.errors.clone(),
        warnings: e.warnings.clone(),
    }
}

/// The first few items of a list, for messages.
fn preview(items: &[&str]) -> String {
    const MAX: usize = 5;
    let mut s = items.iter().take(MAX).map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ");
    if items.len() > MAX {
        s.push_str(&format!(" and {} more", items.len() - MAX));
    }
    s
}

/// A timestamp, or None for the empty string and Go's zero time, which the
/// server sends for "never" (a user who never logged in, say).
fn ts(t: &Option<String>) -> Option<String> {
    t.as_ref().filter(|s| !s.is_empty() && !s.starts_with("0001-01-01")).cloned()
}

/// [`ts`], taking the string.
fn ts_owned(t: Option<String>) -> Option<String> {
    t.filter(|s| !s.is_empty() && !s.starts_with("0001-01-01"))
}
