//! Group steps: each group the split names is copied into the target org
//! with its members (groups cannot move between orgs).

use std::collections::BTreeSet;

use super::Builder;
use crate::plan::{Action, Affected, Finding, GroupSpec, ManagedBy, ObjectRef, Severity, StepSpec, UserRef};

impl<'a> Builder<'a, '_> {
    pub(super) fn group_steps(&mut self) {
        for o in 0..self.orgs.len() {
            let groups = self.orgs[o].groups.clone();
            for g in groups {
                self.group_step(o, g);
            }
        }
    }

    fn group_step(&mut self, o: usize, g: &'a crate::model::Group) {
        let t = &self.orgs[o];
        let org = t.name.clone();
        let existing =
            t.existing.and_then(|e| self.s.groups.iter().find(|x| x.organization_id == e.id && x.name == g.name));
        let had: BTreeSet<&str> = existing.map(|x| x.members.iter().map(String::as_str).collect()).unwrap_or_default();
        let synced: BTreeSet<&str> =
            t.spec.group_sync.iter().flat_map(|gs| gs.mapping.values().flatten().map(String::as_str)).collect();
        let (mut members, mut add, mut later) = (Vec::new(), Vec::new(), Vec::new());
        let mut deps = vec![self.org_key(o)];
        for u in g.members.iter().filter(|u| self.members[o].contains_key(u.as_str())) {
            let m = &self.members[o][u.as_str()];
            members.push(m.spec.user.clone());
            if had.contains(u.as_str()) {
                continue;
            }
            let by_sync = matches!(m.spec.membership_by, ManagedBy::IdpSync { .. }) && !m.existing;
            if by_sync {
                later.push(m.spec.user.clone());
            } else {
                add.push(m.spec.user.clone());
                deps.extend(self.member_key(o, u));
            }
        }
        // Members the group already has stay: nothing is removed.
        for u in had.iter().filter(|u| !g.members.iter().any(|m| m == *u)) {
            members.push(self.user_ref(u));
        }
        let by_name = |v: &mut Vec<UserRef>| v.sort_by(|a, b| a.username.cmp(&b.username));
        by_name(&mut members);
        by_name(&mut add);
        by_name(&mut later);
        if !later.is_empty() && !synced.contains(g.name.as_str()) {
            self.findings.push(Finding {
                code: "group-members-after-login".into(),
                severity: Severity::Warning,
                message: format!(
                    "{} member(s) of group `{}` in `{org}` get their org membership from IdP sync at their next login, \
                     and group sync does not cover `{}`: they can only be added to it after they have logged in",
                    later.len(),
                    g.name,
                    g.name
                ),
                help: Some(format!(
                    "map their claim to `{}` in `group_sync` of `{org}`, or run apply again after they have logged in",
                    g.name
                )),
                affects: later.iter().map(|u| self.user_affected(&u.user_id)).collect(),
            });
        }
        let (action, changes) = match existing {
            None => (Action::Create, vec![format!("create group with {} member(s)", members.len())]),
            Some(x) => {
                self.findings.push(Finding {
                    code: "group-exists".into(),
                    severity: Severity::Info,
                    message: format!(
                        "group `{}` already exists in `{org}`: the plan adds to it, never replaces it",
                        g.name
                    ),
                    help: None,
                    affects: vec![Affected {
                        kind: "group".into(),
                        org: Some(org.clone()),
                        name: g.name.clone(),
                        id: Some(x.id.clone()),
                    }],
                });
                let mut changes = Vec::new();
                if !add.is_empty() || !later.is_empty() {
                    changes.push(format!("add {} member(s)", add.len() + later.len()));
                }
                if x.display_name != g.display_name || x.quota_allowance != g.quota_allowance {
                    changes.push("set display name and quota to the source group's".into());
                }
                if changes.is_empty() {
                    (Action::NoOp, vec!["exists with these members".into()])
                } else {
                    (Action::Update, changes)
                }
            }
        };
        let spec = GroupSpec {
            name: g.name.clone(),
            display_name: g.display_name.clone(),
            avatar_url: g.avatar_url.clone(),
            quota_allowance: g.quota_allowance,
            source: Some(ObjectRef {
                id: g.id.clone(),
                org: self.ix.org_name(&g.organization_id).into(),
                name: g.name.clone(),
            }),
            members,
            add_members: add,
            members_after_login: later,
        };
        self.push(Some(&org), &g.name, action, deps, changes, StepSpec::Group(spec));
    }
}
