//! The expected after-state: a snapshot with the plan's steps applied, as a
//! pure function of the snapshot and the plan (the split is not needed).
//! New objects get placeholder ids (`planned:<kind>:<org>/<name>`): compare
//! after-states by names (the readable form does), never by ids.
//!
//! Nothing is ever removed: steps only add objects, members, grants and
//! mapping entries, or change settings and deprecation messages. IdP-synced
//! members are included (they arrive at their next login); the caller who
//! creates an org, whom the server also makes a member, is not.

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use super::positions::Positions;
use super::{Action, Plan, Step, StepSpec, TemplateMeta, TemplateSpec};
use crate::error::{Error, Result};
use crate::model::*;

/// A plan whose steps do not fit together (edited by hand, or a bug).
fn inconsistent(what: String) -> Error {
    Error::Refused(format!(
        "the plan does not fit together: {what}; was it edited? make it again with `orgsplit plan SNAPSHOT --split FILE --out plan.json`"
    ))
}

/// A placeholder id for an object the plan creates.
pub fn planned_id(kind: &str, org: &str, name: &str) -> Id {
    format!("planned:{kind}:{org}/{name}")
}

pub fn expected_after(before: &Snapshot, plan: &Plan) -> Result<Snapshot> {
    apply(before.clone(), plan)
}

/// [`expected_after`], consuming the snapshot (saves a copy of a large state
/// when the caller no longer needs the before-state).
pub fn apply(s: Snapshot, plan: &Plan) -> Result<Snapshot> {
    apply_steps(s, &plan.steps)
}

/// [`apply`] of some of a plan's steps, in the plan's order: the steps that
/// touch a few organizations, applied to those organizations' part of the
/// state, give those organizations as the whole plan would leave them.
pub fn apply_steps<'p>(mut s: Snapshot, steps: impl IntoIterator<Item = &'p Step>) -> Result<Snapshot> {
    let mut org_ids: HashMap<String, Id> = s.organizations.iter().map(|o| (o.name.clone(), o.id.clone())).collect();
    let mut touched: BTreeSet<Id> = BTreeSet::new();
    let mut at = Positions::new(&mut s);
    for step in steps.into_iter().filter(|st| st.action != Action::NoOp) {
        let org_id = || -> Result<Id> {
            let name = step.org.as_deref().unwrap_or_default();
            org_ids.get(name).cloned().ok_or_else(|| {
                inconsistent(format!("step `{}` names org `{name}`, which neither exists nor is created", step.key))
            })
        };
        match &step.spec {
            StepSpec::Organization(o) => {
                let id = org_ids.entry(o.name.clone()).or_insert_with(|| planned_id("org", &o.name, &o.name)).clone();
                let org = match s.organizations.iter_mut().find(|x| x.id == id) {
                    Some(org) => org,
                    None => {
                        s.organizations.push(Organization {
                            id: id.clone(),
                            name: o.name.clone(),
                            ..Default::default()
                        });
                        s.organizations.last_mut().expect("just pushed")
                    }
                };
                org.display_name = o.display_name.clone();
                org.description = o.description.clone();
                org.icon = o.icon.clone();
                if o.default_member_roles.is_some() {
                    org.default_org_member_roles = o.default_member_roles.clone();
                }
                if o.workspace_sharing.is_some() {
                    org.shareable_workspace_owners = o.workspace_sharing.clone();
                }
                touched.insert(id);
            }
            StepSpec::ProvisionerKey(k) => {
                let org = org_id()?;
                if !s.provisioner_keys.iter().any(|x| x.organization == org && x.name == k.name) {
                    let id = planned_id("provisioner-key", step.org.as_deref().unwrap_or_default(), &k.name);
                    s.provisioner_keys.push(ProvisionerKey {
                        id,
                        name: k.name.clone(),
                        organization: org,
                        tags: k.tags.clone(),
                        created_at: None,
                    });
                }
            }
            StepSpec::CustomRole(r) => {
                let org = org_id()?;
                s.custom_roles.retain(|x| !(x.organization_id == org && x.name == r.name));
                s.custom_roles.push(Role {
                    name: r.name.clone(),
                    display_name: r.display_name.clone(),
                    organization_id: org,
                    organization_permissions: r.organization_permissions.clone(),
                    organization_member_permissions: r.organization_member_permissions.clone(),
                    ..Default::default()
                });
            }
            StepSpec::OrganizationSync(o) => {
                let sync = s.idp_sync.organization.get_or_insert_with(Default::default);
                sync.field = o.field.clone();
                sync.organization_assign_default = o.assign_default;
                for (claim, orgs) in &o.add {
                    for name in orgs {
                        let id = org_ids.get(name).cloned().ok_or_else(|| {
                            inconsistent(format!("org sync maps to `{name}`, which neither exists nor is created"))
                        })?;
                        sync.mapping.entry(claim.clone()).or_default().push(id);
                    }
                }
            }
            StepSpec::Member(m) => {
                let org = org_id()?;
                let roles = Some(m.roles.clone());
                match at.member(&s, &org, &m.user.user_id) {
                    Some(i) => s.organization_members[i].roles = roles,
                    None => {
                        at.added_member(&org, &m.user.user_id, s.organization_members.len());
                        let user_id = m.user.user_id.clone();
                        s.organization_members.push(OrganizationMember {
                            organization_id: org.clone(),
                            user_id,
                            roles,
                        });
                    }
                }
                touched.insert(org);
            }
            StepSpec::Group(g) => {
                let org = org_id()?;
                let i = match at.groups.get(&(org.clone(), g.name.clone())) {
                    Some(&i) => i,
                    None => {
                        let id = planned_id("group", step.org.as_deref().unwrap_or_default(), &g.name);
                        at.groups.insert((org.clone(), g.name.clone()), s.groups.len());
                        s.groups.push(Group {
                            id,
                            organization_id: org,
                            name: g.name.clone(),
                            source: "user".into(),
                            ..Default::default()
                        });
                        s.groups.len() - 1
                    }
                };
                let group = &mut s.groups[i];
                group.display_name = g.display_name.clone();
                group.avatar_url = g.avatar_url.clone();
                group.quota_allowance = g.quota_allowance;
                group.members.extend(g.members.iter().map(|u| u.user_id.clone()));
                group.members.sort();
                group.members.dedup();
                group.total_member_count = group.members.len() as i64;
            }
            StepSpec::GroupSync(gs) => {
                let org = org_id()?;
                let ids: BTreeMap<&str, Id> = s
                    .groups
                    .iter()
                    .filter(|g| g.organization_id == org)
                    .map(|g| (g.name.as_str(), g.id.clone()))
                    .collect();
                let mut mapping: BTreeMap<String, Vec<Id>> = BTreeMap::new();
                for (claim, names) in &gs.mapping {
                    for n in names {
                        let id = ids.get(n.as_str()).cloned().ok_or_else(|| {
                            inconsistent(format!("group sync maps to group `{n}`, which neither exists nor is created"))
                        })?;
                        mapping.entry(claim.clone()).or_default().push(id);
                    }
                }
                let sync = match s.idp_sync.groups.iter_mut().find(|x| x.organization_id == org) {
                    Some(x) => x,
                    None => {
                        s.idp_sync.groups.push(OrgGroupSync { organization_id: org.clone(), ..Default::default() });
                        s.idp_sync.groups.last_mut().expect("just pushed")
                    }
                };
                sync.field = gs.field.clone();
                for (claim, ids) in mapping {
                    sync.mapping.entry(claim).or_default().extend(ids);
                }
            }
            StepSpec::RoleSync(rs) => {
                let org = org_id()?;
                let sync = match s.idp_sync.roles.iter_mut().find(|x| x.organization_id == org) {
                    Some(x) => x,
                    None => {
                        s.idp_sync.roles.push(OrgRoleSync { organization_id: org.clone(), ..Default::default() });
                        s.idp_sync.roles.last_mut().expect("just pushed")
                    }
                };
                sync.field = rs.field.clone();
                for (claim, roles) in &rs.mapping {
                    sync.mapping.entry(claim.clone()).or_default().extend(roles.iter().cloned());
                }
            }
            StepSpec::Template(t) => {
                let org = org_id()?;
                apply_template(&mut s, &mut at, &org, step.org.as_deref().unwrap_or_default(), t)?;
            }
            StepSpec::Deprecation(d) => {
                let t = at.template_by_id.get(&d.template_id).map(|&i| &mut s.templates[i]).ok_or_else(|| {
                    inconsistent(format!("it deprecates `{}`, which the snapshot does not hold", d.template_name))
                })?;
                t.deprecated = true;
                t.deprecation_message = d.message.clone();
            }
        }
    }
    everyone_groups(&mut s, &touched);
    s.canonicalize();
    Ok(s)
}

/// Copy `meta` (names and settings) onto a template.
pub fn set_settings(t: &mut Template, meta: &TemplateMeta) {
    t.display_name = meta.display_name.clone();
    t.description = meta.description.clone();
    t.icon = meta.icon.clone();
    t.settings = meta.settings.clone();
}

fn apply_template(s: &mut Snapshot, at: &mut Positions, org: &str, org_name: &str, spec: &TemplateSpec) -> Result<()> {
    let mut groups = Vec::new();
    for (name, role) in &spec.acl.groups {
        let id = match name.as_str() {
            "Everyone" => org.to_string(),
            n => at
                .groups
                .get(&(org.to_string(), n.to_string()))
                .map(|&i| &s.groups[i])
                .filter(|g| !g.is_everyone())
                .map(|g| g.id.clone())
                .ok_or_else(|| {
                    inconsistent(format!(
                        "template `{}` grants group `{n}`, which neither exists nor is created",
                        spec.name
                    ))
                })?,
        };
        groups.push(AclEntry { id, role: role.clone() });
    }
    let users: Vec<AclEntry> =
        spec.acl.users.iter().map(|g| AclEntry { id: g.user.user_id.clone(), role: g.role.clone() }).collect();
    let key = (org.to_string(), spec.name.clone());
    if let Some(&i) = at.templates.get(&key) {
        let t = &mut s.templates[i];
        set_settings(t, &spec.settings);
        let acl = t.acl.get_or_insert_with(Default::default);
        upsert(&mut acl.group, groups);
        upsert(&mut acl.users, users);
        return Ok(());
    }
    let id = planned_id("template", org_name, &spec.name);
    let version_id = planned_id("template-version", org_name, &spec.name);
    let mut tags = spec.provisioner_tags.clone();
    // Coder adds these to every job of an org-scoped version.
    tags.entry("scope".into()).or_insert_with(|| "organization".into());
    tags.entry("owner".into()).or_default();
    s.template_versions.push(TemplateVersion {
        id: version_id.clone(),
        template_id: id.clone(),
        organization_id: org.to_string(),
        name: spec.source.active_version_name.clone(),
        created_at: None,
        job: VersionJob { file_id: String::new(), status: "succeeded".into(), tags },
    });
    let mut t = Template {
        id,
        organization_id: org.to_string(),
        name: spec.name.clone(),
        active_version_id: version_id,
        provisioner: spec.source.provisioner.clone(),
        acl: Some(TemplateAcl { users, group: groups }),
        ..Default::default()
    };
    set_settings(&mut t, &spec.settings);
    at.templates.insert(key, s.templates.len());
    at.template_by_id.insert(t.id.clone(), s.templates.len());
    s.templates.push(t);
    Ok(())
}

/// Add or change grants by id; other grants stay.
fn upsert(list: &mut Vec<AclEntry>, entries: Vec<AclEntry>) {
    for e in entries {
        list.retain(|x| x.id != e.id);
        list.push(e);
    }
}

/// Every org has an Everyone group (id = org id) holding all its members.
fn everyone_groups(s: &mut Snapshot, orgs: &BTreeSet<Id>) {
    // One pass over the memberships for all the orgs, not one per org.
    let mut members_of: HashMap<&str, Vec<Id>> = HashMap::new();
    for m in s.organization_members.iter().filter(|m| orgs.contains(&m.organization_id)) {
        members_of.entry(&m.organization_id).or_default().push(m.user_id.clone());
    }
    for org in orgs {
        let members = members_of.remove(org.as_str()).unwrap_or_default();
        match s.groups.iter_mut().find(|g| &g.id == org) {
            Some(g) => {
                g.members = members;
                g.total_member_count = g.members.len() as i64;
            }
            None => s.groups.push(Group {
                id: org.clone(),
                organization_id: org.clone(),
                name: "Everyone".into(),
                display_name: String::new(),
                source: "user".into(),
                total_member_count: members.len() as i64,
                members,
                ..Default::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applying a plan to its own after-state changes nothing, even when
    /// the memberships are out of order and one member's roles were changed
    /// meanwhile (the member step sets them back, without a second row).
    #[test]
    fn a_plan_applied_to_its_after_state_gives_it_back() {
        let (before, plan) = crate::plan::megaco_plan();
        let after = expected_after(&before, &plan).unwrap();
        let mut changed = after.clone();
        changed.organization_members.reverse();
        let member = plan
            .steps
            .iter()
            .find_map(|s| match &s.spec {
                StepSpec::Member(m) if !m.roles.is_empty() => Some(m),
                _ => None,
            })
            .expect("a member with an org role");
        let row = changed
            .organization_members
            .iter_mut()
            .find(|m| m.user_id == member.user.user_id && m.roles.as_ref() == Some(&member.roles))
            .unwrap();
        row.roles = Some(vec![]);
        let again = apply(changed, &plan).unwrap();
        assert_eq!(again.organization_members, after.organization_members);
        assert!(again == after, "the same state");
    }
}
