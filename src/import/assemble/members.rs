//! Organization memberships (from member lists, or users' `organization_ids`
//! when no list covers an org) and groups, with every dangling reference reported.

use std::collections::{BTreeMap, HashSet};

use super::{Orgs, preview};
use crate::import::collect::Collected;
use crate::model::*;

pub(super) fn members(
    c: &Collected,
    orgs: &Orgs,
    user_ids: &HashSet<&str>,
    w: &mut Vec<Warning>,
) -> Vec<OrganizationMember> {
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

pub(super) fn groups(
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
