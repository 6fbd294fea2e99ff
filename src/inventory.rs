//! What a deployment holds, per organization, and who uses which template.
//! A pure function of the snapshot; `render::inventory` turns it into text.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Index, Snapshot, Source, Warning};

#[derive(Debug, Serialize)]
pub struct Inventory {
    pub source: Source,
    pub deployment_url: Option<String>,
    pub version: Option<String>,
    /// Whether the license allows organizations (null: the snapshot holds no entitlements).
    pub multiple_organizations: Option<bool>,
    pub totals: Totals,
    pub organizations: Vec<OrgSummary>,
    /// Templates, most used first.
    pub templates: Vec<TemplateUsage>,
    pub users_in_several_orgs: Vec<UserOrgs>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub organizations: usize,
    pub users: usize,
    pub active_users: usize,
    pub suspended_users: usize,
    pub dormant_users: usize,
    pub groups: usize,
    pub templates: usize,
    pub deprecated_templates: usize,
    pub workspaces: usize,
    pub provisioner_daemons: usize,
    pub provisioner_keys: usize,
    pub workspace_proxies: usize,
}

#[derive(Debug, Serialize)]
pub struct OrgSummary {
    pub name: String,
    pub id: String,
    pub is_default: bool,
    pub members: usize,
    pub active_members: usize,
    /// Groups other than Everyone.
    pub groups: Vec<GroupSummary>,
    pub templates: usize,
    pub workspaces: usize,
    pub workspaces_by_status: BTreeMap<String, usize>,
    pub provisioner_daemons: Vec<DaemonSummary>,
    pub provisioner_keys: Vec<KeySummary>,
}

#[derive(Debug, Serialize)]
pub struct GroupSummary {
    pub name: String,
    pub source: String,
    pub members: usize,
}

#[derive(Debug, Serialize)]
pub struct DaemonSummary {
    pub name: String,
    pub key_name: String,
    pub status: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct KeySummary {
    pub name: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct TemplateUsage {
    pub organization: String,
    pub name: String,
    pub deprecated: bool,
    pub created_by: String,
    /// Users with a live workspace on it, or granted it directly or through a group.
    pub users: usize,
    /// Groups of those users (Everyone excluded), with how many of their members use it.
    pub groups: Vec<GroupUse>,
    pub workspaces: usize,
}

#[derive(Debug, Serialize)]
pub struct GroupUse {
    pub name: String,
    pub users: usize,
}

#[derive(Debug, Serialize)]
pub struct UserOrgs {
    pub username: String,
    pub organizations: Vec<String>,
}

pub fn inventory(s: &Snapshot) -> Inventory {
    let idx = Index::new(s);
    let count_status = |status: &str| s.users.iter().filter(|u| u.status == status).count();
    let totals = Totals {
        organizations: s.organizations.len(),
        users: s.users.len(),
        active_users: count_status("active"),
        suspended_users: count_status("suspended"),
        dormant_users: count_status("dormant"),
        groups: s.groups.iter().filter(|g| !g.is_everyone()).count(),
        templates: s.templates.len(),
        deprecated_templates: s.templates.iter().filter(|t| t.deprecated).count(),
        workspaces: s.workspaces.len(),
        provisioner_daemons: s.provisioner_daemons.len(),
        provisioner_keys: s.provisioner_keys.len(),
        workspace_proxies: s.workspace_proxies.iter().filter(|p| !p.deleted).count(),
    };

    let mut organizations: Vec<OrgSummary> = s
        .organizations
        .iter()
        .map(|o| {
            let members = idx.members_of_org.get(o.id.as_str()).map_or(&[][..], |v| v.as_slice());
            let active_members =
                members.iter().filter(|u| idx.user_by_id.get(*u).is_some_and(|u| u.is_active())).count();
            let mut workspaces_by_status: BTreeMap<String, usize> = BTreeMap::new();
            let mut workspaces = 0;
            for w in s.workspaces.iter().filter(|w| w.organization_id == o.id) {
                workspaces += 1;
                *workspaces_by_status.entry(w.latest_build.status.clone()).or_default() += 1;
            }
            OrgSummary {
                name: o.name.clone(),
                id: o.id.clone(),
                is_default: o.is_default,
                members: members.len(),
                active_members,
                groups: s
                    .groups
                    .iter()
                    .filter(|g| g.organization_id == o.id && !g.is_everyone())
                    .map(|g| GroupSummary { name: g.name.clone(), source: g.source.clone(), members: g.members.len() })
                    .collect(),
                templates: s.templates.iter().filter(|t| t.organization_id == o.id).count(),
                workspaces,
                workspaces_by_status,
                provisioner_daemons: s
                    .provisioner_daemons
                    .iter()
                    .filter(|d| d.organization_id == o.id)
                    .map(|d| DaemonSummary {
                        name: d.name.clone(),
                        key_name: d.key_name.clone(),
                        status: d.status.clone(),
                        tags: d.tags.clone(),
                    })
                    .collect(),
                provisioner_keys: s
                    .provisioner_keys
                    .iter()
                    .filter(|k| k.organization == o.id)
                    .map(|k| KeySummary { name: k.name.clone(), tags: k.tags.clone() })
                    .collect(),
            }
        })
        .collect();
    // The default org first, then by name.
    organizations.sort_by(|a, b| (!a.is_default, &a.name).cmp(&(!b.is_default, &b.name)));

    let mut templates: Vec<TemplateUsage> = s
        .templates
        .iter()
        .map(|t| {
            let users = idx.template_users(t);
            let mut groups: Vec<GroupUse> = idx
                .template_groups(t)
                .into_iter()
                .map(|(g, n)| GroupUse {
                    name: idx.group_by_id.get(g).map_or(g.to_string(), |g| g.name.clone()),
                    users: n,
                })
                .collect();
            groups.sort_by(|a, b| (b.users, &a.name).cmp(&(a.users, &b.name)));
            TemplateUsage {
                organization: idx.org_name(&t.organization_id).to_string(),
                name: t.name.clone(),
                deprecated: t.deprecated,
                created_by: t.created_by_name.clone(),
                users: users.len(),
                groups,
                workspaces: idx.workspaces_of_template.get(t.id.as_str()).map_or(0, Vec::len),
            }
        })
        .collect();
    templates.sort_by(|a, b| (b.users, &a.organization, &a.name).cmp(&(a.users, &b.organization, &b.name)));

    let users_in_several_orgs = s
        .users
        .iter()
        .filter_map(|u| {
            let orgs = idx.orgs_of_user.get(u.id.as_str())?;
            (orgs.len() > 1).then(|| {
                let mut names: Vec<String> = orgs.iter().map(|o| idx.org_name(o).to_string()).collect();
                names.sort();
                UserOrgs { username: u.username.clone(), organizations: names }
            })
        })
        .collect();

    Inventory {
        source: s.source.clone(),
        deployment_url: s.deployment_url(),
        version: s.build_info.as_ref().map(|b| b.version.clone()),
        multiple_organizations: s.multiple_organizations_entitled(),
        totals,
        organizations,
        templates,
        users_in_several_orgs,
        warnings: s.warnings.clone(),
    }
}
