//! IdP sync settings: organization sync, and group and role sync per
//! organization, attributed to their org even when a bare body does not say.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::Orgs;
use crate::import::collect::Collected;
use crate::model::*;

pub(super) fn idp_sync(c: &Collected, orgs: &Orgs, group_ids: &HashSet<&str>, w: &mut Vec<Warning>) -> IdpSync {
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
