//! Whether the people whose workspaces move to a re-created template can use
//! it in its new organization: the plan's after-state, through the same rule
//! the access diff uses (org roles with the org's default member roles, then
//! the template's access list). A copy someone cannot use is a finding.

use std::collections::BTreeMap;

use super::access::template_access;
use super::{Affected, Finding, Plan, Severity};
use crate::model::{Index, Snapshot};

/// One finding per template copy that some of the owners moving to it
/// cannot use. `after` is the plan applied to the snapshot.
pub(crate) fn findings(after: &Snapshot, plan: &Plan) -> Vec<Finding> {
    if plan.workspace_migrations.is_empty() {
        return Vec::new();
    }
    let ix = Index::new(after);
    let org_ids: BTreeMap<&str, &str> = after.organizations.iter().map(|o| (o.name.as_str(), o.id.as_str())).collect();
    let templates: BTreeMap<(&str, &str), usize> =
        after.templates.iter().enumerate().map(|(i, t)| ((t.organization_id.as_str(), t.name.as_str()), i)).collect();
    // (org, template) -> (owners moving to it, those who cannot use it)
    let mut copies: BTreeMap<(&str, &str), (usize, Vec<&str>)> = BTreeMap::new();
    for m in &plan.workspace_migrations {
        let key = (m.new.org.as_str(), m.new.template.as_str());
        let Some(&t) = org_ids.get(key.0).and_then(|o| templates.get(&(*o, key.1))) else { continue };
        let Some(user) = ix.user_by_id.get(m.owner.user_id.as_str()) else { continue };
        let entry = copies.entry(key).or_default();
        if !entry.1.contains(&m.owner.user_id.as_str()) {
            entry.0 += 1;
            if template_access(&ix, user, &after.templates[t]).is_none() {
                entry.1.push(m.owner.user_id.as_str());
            }
        }
    }
    let mut out = Vec::new();
    for ((org, name), (owners, cannot)) in copies {
        if cannot.is_empty() {
            continue;
        }
        let defaults =
            org_ids.get(org).and_then(|id| ix.org_by_id.get(id)).and_then(|o| o.default_org_member_roles.as_ref());
        let why = match defaults {
            Some(roles) if roles.is_empty() => format!(
                "`{org}` gives its members no default roles, so members without a workspace role cannot create or use workspaces"
            ),
            Some(roles) => format!(
                "`{org}`'s default member roles ({}) and their own roles there let them use no workspaces, or its access list grants them nothing",
                roles.join(", ")
            ),
            None => "its access list grants them nothing (not by name, not through a group, not through Everyone)"
                .to_string(),
        };
        let mut cannot = cannot;
        cannot.sort_by_key(|u| ix.username(u));
        let mut affects =
            vec![Affected { kind: "template".into(), org: Some(org.into()), name: name.into(), id: None }];
        affects.extend(cannot.iter().map(|id| Affected {
            kind: "user".into(),
            org: None,
            name: ix.username(id).to_string(),
            id: Some(id.to_string()),
        }));
        out.push(Finding {
            code: "template-unusable-in-new-org".into(),
            severity: Severity::Risk,
            message: format!(
                "{} of the {owners} user(s) whose workspaces move to `{org}/{name}` cannot use it there: {why}",
                cannot.len()
            ),
            help: Some(format!(
                "give `{org}` default member roles that let members use workspaces (`default_member_roles = \
                 [\"organization-workspace-access\"]` in the split file), or grant them the template (list their \
                 group under `{org}`)"
            )),
            affects,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MegaCo's plan: everyone whose workspace moves can use the copy. With
    /// one copy's access list emptied, its movers (but site owners and
    /// template admins) cannot, and the finding says it is the access list.
    #[test]
    fn a_copy_whose_access_list_grants_the_movers_nothing_is_a_risk() {
        let (before, plan) = crate::plan::megaco_plan();
        let mut after = crate::plan::expected_after(&before, &plan).unwrap();
        assert!(findings(&after, &plan).is_empty(), "MegaCo's copies are usable");
        let m = &plan.workspace_migrations[0];
        let org = after.organizations.iter().find(|o| o.name == m.new.org).unwrap().id.clone();
        let t = after.templates.iter_mut().find(|t| t.organization_id == org && t.name == m.new.template).unwrap();
        t.acl = Some(Default::default());
        let found = findings(&after, &plan);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.code, "template-unusable-in-new-org");
        assert!(f.message.contains(&format!("move to `{}/{}`", m.new.org, m.new.template)), "{}", f.message);
        assert!(f.message.contains("its access list grants them nothing"), "{}", f.message);
        assert!(f.affects.iter().any(|a| a.kind == "user" && a.name == m.owner.username), "{:?}", f.affects);
    }
}
