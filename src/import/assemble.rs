//! Join the collected pieces by id into a snapshot. Nothing is dropped
//! silently: a reference to something the export does not hold is kept as it
//! is and reported as a warning.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::collect::Collected;
use crate::coder::types as wire;
use crate::model::*;

/// Turn collected pieces into a snapshot (not yet holding people or template sources).
pub fn assemble(mut c: Collected, source: Source) -> Snapshot {
    let mut w = std::mem::take(&mut c.warnings);
    let orgs = Orgs::new(&c);

    let organizations: Vec<Organization> = c.organizations.values().map(|i| organization(&i.value)).collect();
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
    let workspaces = workspaces(&c, &orgs, &user_ids, &mut w);
    check_active_versions(&templates, &template_versions, &mut w);
    check_page_counts(&c, &mut w);

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
    }
}

fn members(c: &Collected, orgs: &Orgs, user_ids: &HashSet<&str>, w: &mut Vec<Warning>) -> Vec<OrganizationMember> {
    let listed: HashSet<String> = c.member_lists.iter().map(|o| orgs.resolve(o)).collect();
    let mut out: BTreeMap<(String, String), OrganizationMember> = BTreeMap::new();
    for item in c.members.values() {
        let m = &item.value;
        let org = orgs.resolve(&m.organization_id);
        if !orgs.known(&org) && !c.organizations.is_empty() {
            w.push(Warning::new(
                "dangling-member-org",
                format!(
                    "`{}`: member `{}` belongs to organization `{org}`, which is not in the export",
                    item.file, m.username
                ),
            ));
        }
        if !user_ids.contains(m.user_id.as_str()) && !c.users.is_empty() {
            w.push(Warning::new(
                "dangling-member-user",
                format!(
                    "`{}`: organization member `{}` ({}) is not in the export's users",
                    item.file, m.username, m.user_id
                ),
            ));
        }
        let roles = m.roles.iter().map(|r| r.name.clone()).collect();
        out.insert(
            (org.clone(), m.user_id.clone()),
            OrganizationMember { organization_id: org, user_id: m.user_id.clone(), roles: Some(roles) },
        );
    }
    // Users list their orgs too; where no member list covered that org, the
    // membership is known but its roles are not.
    let mut unknown_roles: BTreeMap<String, usize> = BTreeMap::new();
    for u in c.users.values() {
        for org in &u.value.organization_ids {
            let org = orgs.resolve(org);
            let key = (org.clone(), u.value.id.clone());
            if out.contains_key(&key) {
                continue;
            }
            if !listed.contains(&org) {
                *unknown_roles.entry(org.clone()).or_default() += 1;
            }
            out.insert(key, OrganizationMember { organization_id: org, user_id: u.value.id.clone(), roles: None });
        }
    }
    for (org, n) in unknown_roles {
        w.push(Warning::new(
            "org-roles-unknown",
            format!(
                "the export has no member list for organization `{org}`: {n} memberships come from users' \
                 `organization_ids`, their org roles are unknown (export GET /api/v2/organizations/{{org}}/members)"
            ),
        ));
    }
    out.into_values().collect()
}

fn groups(
    c: &Collected,
    orgs: &Orgs,
    user_ids: &HashSet<&str>,
    members: &[OrganizationMember],
    w: &mut Vec<Warning>,
) -> Vec<Group> {
    let membership: HashSet<(&str, &str)> =
        members.iter().map(|m| (m.organization_id.as_str(), m.user_id.as_str())).collect();
    let mut out = Vec::with_capacity(c.groups.len());
    for item in c.groups.values() {
        let g = &item.value;
        let org = orgs.resolve(&g.organization_id);
        if !orgs.known(&org) && !c.organizations.is_empty() {
            w.push(Warning::new(
                "dangling-group-org",
                format!("group `{}` belongs to organization `{org}`, which is not in the export", g.name),
            ));
        }
        let ids: Vec<String> = g.members.iter().map(|m| m.id.clone()).collect();
        if !c.users.is_empty() {
            let missing: Vec<&str> = ids.iter().map(String::as_str).filter(|id| !user_ids.contains(id)).collect();
            if !missing.is_empty() {
                w.push(Warning::new(
                    "dangling-group-member",
                    format!(
                        "group `{}` lists {} member(s) not in the export's users: {}",
                        g.name,
                        missing.len(),
                        preview(&missing)
                    ),
                ));
            }
        }
        let is_everyone = g.id == org;
        if !is_everyone && !membership.is_empty() {
            let outside: Vec<&str> = ids
                .iter()
                .map(String::as_str)
                .filter(|id| user_ids.contains(id) && !membership.contains(&(org.as_str(), id)))
                .collect();
            if !outside.is_empty() {
                w.push(Warning::new(
                    "group-member-not-in-org",
                    format!(
                        "group `{}` lists {} user(s) who are not members of its organization in the export: {}",
                        g.name,
                        outside.len(),
                        preview(&outside)
                    ),
                ));
            }
        }
        out.push(Group {
            id: g.id.clone(),
            organization_id: org,
            name: g.name.clone(),
            display_name: g.display_name.clone(),
            source: g.source.clone(),
            quota_allowance: g.quota_allowance,
            avatar_url: g.avatar_url.clone(),
            total_member_count: g.total_member_count.max(ids.len() as i64),
            members: ids,
        });
    }
    out
}

fn templates(
    c: &Collected,
    orgs: &Orgs,
    user_ids: &HashSet<&str>,
    group_ids: &HashSet<&str>,
    w: &mut Vec<Warning>,
) -> Vec<Template> {
    let mut acls: HashMap<&str, &wire::TemplateAcl> = HashMap::new();
    for acl in &c.acls {
        match acl.owner.as_deref() {
            Some(t) if c.templates.contains_key(t) => {
                acls.insert(t, &acl.value);
            }
            Some(t) => w.push(Warning::new(
                "dangling-acl",
                format!("`{}`: ACL of template `{t}`, which is not in the export", acl.file),
            )),
            None => w.push(Warning::new(
                "unattributed-acl",
                format!(
                    "`{}` holds a template ACL but does not say which template it belongs to; save it as \
                     {{\"endpoint\": \"/api/v2/templates/<id>/acl\", \"body\": ...}}",
                    acl.file
                ),
            )),
        }
    }
    let mut out = Vec::with_capacity(c.templates.len());
    for item in c.templates.values() {
        let t = &item.value;
        let org = orgs.resolve(&t.organization_id);
        if !orgs.known(&org) && !c.organizations.is_empty() {
            w.push(Warning::new(
                "dangling-template-org",
                format!("template `{}` belongs to organization `{org}`, which is not in the export", t.name),
            ));
        }
        let acl = acls.get(t.id.as_str()).map(|a| {
            for e in &a.users {
                if !user_ids.contains(e.id.as_str()) && !c.users.is_empty() {
                    w.push(Warning::new(
                        "dangling-acl-entry",
                        format!("template `{}` grants user `{}`, who is not in the export", t.name, e.id),
                    ));
                }
            }
            for e in &a.group {
                if !group_ids.contains(e.id.as_str()) && !c.groups.is_empty() {
                    w.push(Warning::new(
                        "dangling-acl-entry",
                        format!("template `{}` grants group `{}`, which is not in the export", t.name, e.id),
                    ));
                }
            }
            TemplateAcl {
                users: a.users.iter().map(|e| AclEntry { id: e.id.clone(), role: e.role.clone() }).collect(),
                group: a.group.iter().map(|e| AclEntry { id: e.id.clone(), role: e.role.clone() }).collect(),
            }
        });
        out.push(Template {
            id: t.id.clone(),
            organization_id: org,
            name: t.name.clone(),
            display_name: t.display_name.clone(),
            description: t.description.clone(),
            icon: t.icon.clone(),
            active_version_id: t.active_version_id.clone(),
            provisioner: t.provisioner.clone(),
            deprecated: t.deprecated,
            deprecation_message: t.deprecation_message.clone(),
            created_by_id: t.created_by_id.clone(),
            created_by_name: t.created_by_name.clone(),
            created_at: ts(&t.created_at),
            updated_at: ts(&t.updated_at),
            active_user_count: t.active_user_count,
            default_ttl_ms: t.default_ttl_ms,
            activity_bump_ms: t.activity_bump_ms,
            failure_ttl_ms: t.failure_ttl_ms,
            time_til_dormant_ms: t.time_til_dormant_ms,
            time_til_dormant_autodelete_ms: t.time_til_dormant_autodelete_ms,
            require_active_version: t.require_active_version,
            allow_user_autostart: t.allow_user_autostart,
            allow_user_autostop: t.allow_user_autostop,
            allow_user_cancel_workspace_jobs: t.allow_user_cancel_workspace_jobs,
            max_port_share_level: t.max_port_share_level.clone(),
            autostop_requirement: AutostopRequirement {
                days_of_week: t.autostop_requirement.days_of_week.clone(),
                weeks: t.autostop_requirement.weeks,
            },
            autostart_requirement: AutostartRequirement { days_of_week: t.autostart_requirement.days_of_week.clone() },
            acl,
        });
    }
    out
}

fn versions(c: &Collected, w: &mut Vec<Warning>) -> Vec<TemplateVersion> {
    let mut out = Vec::with_capacity(c.versions.len());
    for item in c.versions.values() {
        let v = &item.value;
        if !v.template_id.is_empty() && !c.templates.contains_key(&v.template_id) {
            w.push(Warning::new(
                "dangling-version",
                format!(
                    "template version `{}` ({}) belongs to template `{}`, which is not in the export",
                    v.name, v.id, v.template_id
                ),
            ));
        }
        out.push(TemplateVersion {
            id: v.id.clone(),
            template_id: v.template_id.clone(),
            organization_id: v.organization_id.clone(),
            name: v.name.clone(),
            created_at: ts(&v.created_at),
            job: VersionJob { file_id: v.job.file_id.clone(), status: v.job.status.clone(), tags: v.job.tags.clone() },
        });
    }
    out
}

fn check_active_versions(templates: &[Template], versions: &[TemplateVersion], w: &mut Vec<Warning>) {
    if templates.is_empty() {
        return;
    }
    if versions.is_empty() {
        w.push(Warning::new(
            "no-template-versions",
            "the export has no template versions: re-creating a template needs its active version's source \
             archive and provisioner tags (export GET /api/v2/templateversions/{active_version_id})",
        ));
        return;
    }
    let ids: HashSet<&str> = versions.iter().map(|v| v.id.as_str()).collect();
    for t in templates {
        if !t.active_version_id.is_empty() && !ids.contains(t.active_version_id.as_str()) {
            w.push(Warning::new(
                "missing-active-version",
                format!("template `{}`: its active version `{}` is not in the export", t.name, t.active_version_id),
            ));
        }
    }
}

fn workspaces(c: &Collected, orgs: &Orgs, user_ids: &HashSet<&str>, w: &mut Vec<Warning>) -> Vec<Workspace> {
    let mut out = Vec::with_capacity(c.workspaces.len());
    for item in c.workspaces.values() {
        let x = &item.value;
        let label = format!("{}/{}", x.owner_name, x.name);
        match c.templates.get(&x.template_id) {
            None if !c.templates.is_empty() => w.push(Warning::new(
                "dangling-template",
                format!(
                    "workspace `{label}` uses template `{}` ({}), which is not in the export (GET /api/v2/templates \
                     hides deprecated templates unless asked with q=deprecated:true)",
                    x.template_name, x.template_id
                ),
            )),
            Some(t) if orgs.resolve(&t.value.organization_id) != orgs.resolve(&x.organization_id) => {
                w.push(Warning::new(
                    "template-org-mismatch",
                    format!(
                        "workspace `{label}` is in organization `{}` but its template is in `{}`",
                        x.organization_id, t.value.organization_id
                    ),
                ))
            }
            _ => {}
        }
        if !user_ids.contains(x.owner_id.as_str()) && !c.users.is_empty() {
            w.push(Warning::new(
                "dangling-owner",
                format!(
                    "workspace `{label}` is owned by `{}` ({}), who is not in the export's users",
                    x.owner_name, x.owner_id
                ),
            ));
        }
        let org = orgs.resolve(&x.organization_id);
        if !orgs.known(&org) && !c.organizations.is_empty() {
            w.push(Warning::new(
                "dangling-organization",
                format!("workspace `{label}` is in organization `{org}`, which is not in the export"),
            ));
        }
        let b = &x.latest_build;
        out.push(Workspace {
            id: x.id.clone(),
            name: x.name.clone(),
            owner_id: x.owner_id.clone(),
            owner_name: x.owner_name.clone(),
            organization_id: org,
            template_id: x.template_id.clone(),
            template_name: x.template_name.clone(),
            created_at: ts(&x.created_at),
            last_used_at: ts(&x.last_used_at),
            dormant_at: ts(&x.dormant_at),
            deleting_at: ts(&x.deleting_at),
            automatic_updates: x.automatic_updates.clone(),
            autostart_schedule: x.autostart_schedule.clone(),
            ttl_ms: x.ttl_ms,
            outdated: x.outdated,
            latest_build: WorkspaceBuild {
                id: b.id.clone(),
                build_number: b.build_number,
                status: b.status.clone(),
                transition: b.transition.clone(),
                template_version_id: b.template_version_id.clone(),
                created_at: ts(&b.created_at),
            },
        });
    }
    out
}

fn check_page_counts(c: &Collected, w: &mut Vec<Warning>) {
    for (list, (count, file)) in &c.page_counts {
        let found = match *list {
            "users" => c.users.len(),
            "workspaces" => c.workspaces.len(),
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

fn idp_sync(c: &Collected, orgs: &Orgs, group_ids: &HashSet<&str>, w: &mut Vec<Warning>) -> IdpSync {
    let organization = c.org_sync.as_ref().map(|s| {
        for (claim, targets) in &s.value.mapping {
            for t in targets {
                if !orgs.known(t) && !c.organizations.is_empty() {
                    w.push(Warning::new(
                        "dangling-sync-target",
                        format!("organization sync maps `{claim}` to organization `{t}`, which is not in the export"),
                    ));
                }
            }
        }
        OrganizationSyncSettings {
            field: s.value.field.clone(),
            mapping: s.value.mapping.clone(),
            organization_assign_default: s.value.organization_assign_default,
        }
    });
    let group_org: HashMap<&str, &str> =
        c.groups.values().map(|g| (g.value.id.as_str(), g.value.organization_id.as_str())).collect();
    let mut groups = Vec::new();
    for s in &c.group_sync {
        let org = s.owner.as_deref().map(|o| orgs.resolve(o)).or_else(|| {
            // A bare body: the org of the groups it maps to, if they agree.
            let owners: BTreeSet<String> = s
                .value
                .mapping
                .values()
                .flatten()
                .filter_map(|g| group_org.get(g.as_str()).map(|o| orgs.resolve(o)))
                .collect();
            if owners.len() == 1 { owners.into_iter().next() } else { orgs.only_one() }
        });
        let Some(org) = org else {
            w.push(Warning::new(
                "unattributed-sync",
                format!(
                    "`{}` holds group sync settings but does not say for which organization; save it as \
                     {{\"endpoint\": \"/api/v2/organizations/<org>/settings/idpsync/groups\", \"body\": ...}}",
                    s.file
                ),
            ));
            continue;
        };
        for (claim, targets) in &s.value.mapping {
            for g in targets {
                if !group_ids.contains(g.as_str()) && !c.groups.is_empty() {
                    w.push(Warning::new(
                        "dangling-sync-target",
                        format!("group sync of `{org}` maps `{claim}` to group `{g}`, which is not in the export"),
                    ));
                }
            }
        }
        groups.push(OrgGroupSync {
            organization_id: org,
            field: s.value.field.clone(),
            mapping: s.value.mapping.clone(),
            regex_filter: s.value.regex_filter.clone(),
            auto_create_missing_groups: s.value.auto_create_missing_groups,
            legacy_group_name_mapping: s.value.legacy_group_name_mapping.clone(),
        });
    }
    let mut roles = Vec::new();
    for s in &c.role_sync {
        let Some(org) = s.owner.as_deref().map(|o| orgs.resolve(o)).or_else(|| orgs.only_one()) else {
            w.push(Warning::new(
                "unattributed-sync",
                format!(
                    "`{}` holds role sync settings but does not say for which organization; save it as \
                     {{\"endpoint\": \"/api/v2/organizations/<org>/settings/idpsync/roles\", \"body\": ...}}",
                    s.file
                ),
            ));
            continue;
        };
        roles.push(OrgRoleSync {
            organization_id: org,
            field: s.value.field.clone(),
            mapping: s.value.mapping.clone(),
        });
    }
    IdpSync { organization, groups, roles }
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
