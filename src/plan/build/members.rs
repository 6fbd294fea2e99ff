//! Who ends up in each target org with which roles, and who puts them
//! there: the API, or IdP sync (for OIDC users when organization or role
//! sync is on, the server refuses manual changes).

use std::collections::{BTreeMap, BTreeSet};

use super::{Builder, Member};
use crate::model::{ORG_MEMBER_ROLE, User};
use crate::plan::{Action, Affected, Finding, ManagedBy, MemberSpec, Severity, StepSpec};

impl<'a> Builder<'a, '_> {
    /// Values of the organization-sync claim a user has (from the people attributes).
    fn claims_of(&self, user: &str, field: &str) -> Vec<&'a str> {
        let Some(people) = &self.s.people else { return Vec::new() };
        let Some(record) = self.people.get(user).map(|&i| &people.records[i]) else { return Vec::new() };
        record
            .attributes
            .get(field)
            .map(|v| v.split(';').map(str::trim).filter(|v| !v.is_empty()).collect())
            .unwrap_or_default()
    }

    /// Claim values organization sync maps to org `o`, after the plan.
    fn org_sync_claims(&self, o: usize) -> BTreeSet<String> {
        let t = &self.orgs[o];
        let mut claims: BTreeSet<String> = t.spec.org_sync_claims.iter().cloned().collect();
        if let (Some(existing), Some(sync)) = (t.existing, &self.s.idp_sync.organization) {
            claims.extend(sync.mapping.iter().filter(|(_, ids)| ids.contains(&existing.id)).map(|(c, _)| c.clone()));
        }
        claims
    }

    /// Role sync for org `o` after the plan: the split's, else the org's existing one.
    fn role_sync(&self, o: usize) -> Option<(String, BTreeMap<String, Vec<String>>)> {
        let t = &self.orgs[o];
        if let Some(rs) = &t.spec.role_sync {
            return Some((rs.field.clone(), rs.mapping.clone()));
        }
        let existing = t.existing?;
        let rs = self.s.idp_sync.roles.iter().find(|r| r.organization_id == existing.id && !r.field.is_empty())?;
        Some((rs.field.clone(), rs.mapping.clone()))
    }

    pub(super) fn plan_members(&mut self) {
        for o in 0..self.orgs.len() {
            let mut selected: BTreeMap<&'a str, (BTreeSet<String>, BTreeSet<String>)> =
                self.orgs[o].members.iter().map(|(u, s)| (*u, (s.reasons.clone(), s.roles.clone()))).collect();
            let mapped = self.org_sync_claims(o);
            if let Some(field) = self.org_sync_field.clone().filter(|_| !mapped.is_empty()) {
                self.members_from_org_sync(o, &field, &mapped, &mut selected);
            }
            let mut members = BTreeMap::new();
            let (mut no_mapping, mut refused_roles) = (Vec::new(), Vec::new());
            let role_sync = self.role_sync(o);
            for (user, (reasons, roles)) in selected {
                let wanted = Wanted { reasons, roles, mapped: &mapped, role_sync: role_sync.as_ref() };
                let m = self.member(o, user, wanted, &mut no_mapping, &mut refused_roles);
                members.insert(user, m);
            }
            self.idp_findings(o, no_mapping, refused_roles);
            self.members[o] = members;
        }
        for (o, members) in self.members.iter().enumerate() {
            for u in members.keys() {
                self.member_orgs.entry(u).or_default().push(o);
            }
        }
    }

    /// OIDC users the sync mapping will put in the org at their next login,
    /// whether or not the split selected them: they are part of the after-state.
    fn members_from_org_sync(
        &mut self,
        o: usize,
        field: &str,
        mapped: &BTreeSet<String>,
        selected: &mut BTreeMap<&'a str, (BTreeSet<String>, BTreeSet<String>)>,
    ) {
        let mut added = Vec::new();
        // Only people with a mapped value can be added: look those up, not every user.
        let candidates: std::collections::BTreeSet<&'a str> = match &self.s.people {
            Some(people) => people
                .records
                .iter()
                .filter(|r| r.attributes.get(field).is_some_and(|v| v.split(';').any(|c| mapped.contains(c.trim()))))
                .map(|r| r.user_id.as_str())
                .collect(),
            None => Default::default(),
        };
        let by_idp = |u: &&&User| u.login_type == "oidc" && !u.is_service_account;
        for u in candidates.into_iter().filter_map(|id| self.ix.user_by_id.get(id)).filter(by_idp) {
            let claims: Vec<&str> = self.claims_of(&u.id, field).into_iter().filter(|c| mapped.contains(*c)).collect();
            if claims.is_empty() {
                continue;
            }
            let entry = selected.entry(u.id.as_str()).or_insert_with(|| {
                added.push(self.user_affected(&u.id));
                Default::default()
            });
            entry.0.extend(claims.iter().map(|c| format!("org-sync:{c}")));
        }
        if !added.is_empty() {
            let t = &self.orgs[o].name;
            self.findings.push(Finding {
                code: "idp-sync-adds-members".into(),
                severity: Severity::Warning,
                message: format!(
                    "organization sync will also put {} user(s) the split does not select into `{t}`: their `{field}` \
                     claim has a value mapped to it",
                    added.len()
                ),
                help: Some(format!("select them in `{t}` too, or take those claim values out of `org_sync_claims`")),
                affects: added,
            });
        }
    }

    fn member(
        &self,
        o: usize,
        user: &'a str,
        want: Wanted<'_>,
        no_mapping: &mut Vec<Affected>,
        refused_roles: &mut Vec<(Affected, Vec<String>)>,
    ) -> Member {
        let Wanted { reasons, roles: wanted, mapped, role_sync } = want;
        let t = &self.orgs[o];
        // Service accounts never log in through the IdP: the API moves them.
        let oidc = self.ix.user_by_id.get(user).is_some_and(|u| u.login_type == "oidc" && !u.is_service_account);
        let existing = t.existing.and_then(|org| self.ix.membership.get(&(org.id.as_str(), user)));
        let had: BTreeSet<String> = existing.and_then(|m| m.roles.clone()).unwrap_or_default().into_iter().collect();
        let membership_by = match &self.org_sync_field {
            Some(field) if oidc => {
                let claims: Vec<String> =
                    self.claims_of(user, field).into_iter().filter(|c| mapped.contains(*c)).map(String::from).collect();
                if claims.is_empty() && existing.is_none() {
                    no_mapping.push(self.user_affected(user));
                }
                ManagedBy::IdpSync { field: field.clone(), claims }
            }
            _ => ManagedBy::Api,
        };
        let (roles_by, mut roles) = match role_sync {
            Some((field, mapping)) if oidc => {
                let claims: Vec<String> = self
                    .claims_of(user, field)
                    .into_iter()
                    .filter(|c| mapping.contains_key(*c))
                    .map(String::from)
                    .collect();
                let synced: BTreeSet<String> = claims.iter().flat_map(|c| mapping[c].iter().cloned()).collect();
                let refused: Vec<String> = wanted.difference(&synced).cloned().collect();
                if !refused.is_empty() {
                    refused_roles.push((self.user_affected(user), refused));
                }
                (ManagedBy::IdpSync { field: field.clone(), claims }, synced)
            }
            _ => (ManagedBy::Api, wanted),
        };
        roles.remove(ORG_MEMBER_ROLE);
        let add_roles: Vec<String> = roles.difference(&had).cloned().collect();
        roles.extend(had);
        let action = match existing {
            None => Action::Create,
            Some(_) if add_roles.is_empty() => Action::NoOp,
            Some(_) => Action::Update,
        };
        let spec = MemberSpec {
            user: self.user_ref(user),
            roles: roles.into_iter().collect(),
            add_roles,
            reasons: reasons.into_iter().collect(),
            membership_by,
            roles_by,
        };
        Member { spec, action, existing: existing.is_some() }
    }

    fn idp_findings(&mut self, o: usize, no_mapping: Vec<Affected>, refused_roles: Vec<(Affected, Vec<String>)>) {
        let t = &self.orgs[o].name;
        let field = self.org_sync_field.clone().unwrap_or_default();
        if !no_mapping.is_empty() {
            self.findings.push(Finding {
                code: "idp-sync-no-mapping".into(),
                severity: Severity::Risk,
                message: format!(
                    "{} OIDC user(s) selected for `{t}` cannot be added by hand (organization sync owns their \
                     memberships), and none of their `{field}` values is mapped to `{t}`: they will not get in",
                    no_mapping.len()
                ),
                help: Some(format!(
                    "give them a `{field}` value that is mapped to `{t}` in the IdP, or map one they have with `org_sync_claims`"
                )),
                affects: no_mapping,
            });
        }
        if !refused_roles.is_empty() {
            let mut roles: Vec<String> = refused_roles.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
            roles.sort();
            roles.dedup();
            self.findings.push(Finding {
                code: "idp-sync-owns-roles".into(),
                severity: Severity::Risk,
                message: format!(
                    "role sync owns the org roles of {} OIDC user(s) in `{t}`, so the server refuses the roles the \
                     split gives them by hand ({}); they get what the role sync mapping gives",
                    refused_roles.len(),
                    roles.join(", ")
                ),
                help: Some(format!("map a claim value they have to those roles in `role_sync` of `{t}`")),
                affects: refused_roles.into_iter().map(|(a, _)| a).collect(),
            });
        }
    }

    pub(super) fn member_steps(&mut self) {
        for o in 0..self.orgs.len() {
            let org = self.orgs[o].name.clone();
            let org_key = self.org_key(o);
            let custom: BTreeSet<String> = self.orgs[o].custom_roles.iter().map(|r| r.name.clone()).collect();
            let role_sync_key = self.orgs[o]
                .spec
                .role_sync
                .as_ref()
                .map(|rs| crate::plan::step_key(Some(&org), "role-sync", &rs.field));
            let members: Vec<(String, Member)> =
                self.members[o].values().map(|m| (m.spec.user.username.clone(), m.clone())).collect();
            for (username, m) in members {
                let mut deps = vec![org_key.clone()];
                deps.extend(
                    m.spec
                        .roles
                        .iter()
                        .filter(|r| custom.contains(*r))
                        .map(|r| crate::plan::step_key(Some(&org), "custom-role", r)),
                );
                if matches!(m.spec.membership_by, ManagedBy::IdpSync { .. }) {
                    deps.extend(self.org_sync_key.clone());
                }
                if matches!(m.spec.roles_by, ManagedBy::IdpSync { .. }) {
                    deps.extend(role_sync_key.clone());
                }
                let changes = match m.action {
                    Action::Create => vec![format!("add to `{org}`{}", roles_note(&m.spec.roles))],
                    Action::Update => vec![format!("add roles {}", m.spec.add_roles.join(", "))],
                    Action::NoOp => vec!["already a member with these roles".into()],
                };
                self.push(Some(&org), &username, m.action, deps, changes, StepSpec::Member(m.spec));
            }
        }
    }
}

/// What the split wants for one member, and the org's sync settings.
struct Wanted<'m> {
    reasons: BTreeSet<String>,
    roles: BTreeSet<String>,
    mapped: &'m BTreeSet<String>,
    role_sync: Option<&'m (String, BTreeMap<String, Vec<String>>)>,
}

fn roles_note(roles: &[String]) -> String {
    if roles.is_empty() { String::new() } else { format!(" as {}", roles.join(", ")) }
}
