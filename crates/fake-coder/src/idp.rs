//! A stand-in for an OIDC login: what Coder's IdP sync does when a user
//! logs in with some claim values. Organization sync adds the user to the
//! orgs their claims map to (and the default org when `assign_default`),
//! group sync adds them to the mapped groups of each of their orgs, and role
//! sync sets their org roles to the mapped ones. (The real server also takes
//! users out of orgs and groups their claims no longer map to; the tests do
//! not need that.)

use std::collections::BTreeSet;

use orgsplit::model::OrganizationMember;

use super::FakeCoder;
use super::state::State;

impl FakeCoder {
    /// `user` (id or username) logs in with these values of the sync claim.
    pub fn oidc_login(&self, user: &str, claims: &[String]) {
        self.state_mut(|st| login(st, user, claims));
    }
}

fn mapped(mapping: &std::collections::BTreeMap<String, Vec<String>>, claims: &[String]) -> BTreeSet<String> {
    claims.iter().filter_map(|c| mapping.get(c)).flatten().cloned().collect()
}

fn login(st: &mut State, user: &str, claims: &[String]) {
    let Some(user) = st.user(user).map(|u| u.id.clone()) else { return };
    if let Some(sync) = st.s.idp_sync.organization.clone().filter(|s| !s.field.is_empty()) {
        let mut orgs = mapped(&sync.mapping, claims);
        if sync.organization_assign_default {
            orgs.extend(st.s.organizations.iter().filter(|o| o.is_default).map(|o| o.id.clone()));
        }
        for org in orgs {
            if st.is_member(&org, &user) || st.org(&org).is_none() {
                continue;
            }
            st.s.organization_members.push(OrganizationMember {
                organization_id: org.clone(),
                user_id: user.clone(),
                roles: Some(Vec::new()),
            });
            if let Some(everyone) = st.s.groups.iter_mut().find(|g| g.id == org) {
                everyone.members.push(user.clone());
            }
            st.reindex();
        }
    }
    let orgs: Vec<String> = st.idx.orgs_of_user.get(&user).cloned().unwrap_or_default();
    for org in orgs {
        if let Some(sync) = st.s.idp_sync.groups.iter().find(|g| g.organization_id == org && !g.field.is_empty()) {
            let groups = mapped(&sync.mapping, claims);
            for g in st.s.groups.iter_mut().filter(|g| groups.contains(&g.id) && !g.members.contains(&user)) {
                g.members.push(user.clone());
                g.total_member_count = g.members.len() as i64;
            }
        }
        if let Some(sync) = st.s.idp_sync.roles.iter().find(|r| r.organization_id == org && !r.field.is_empty()) {
            let roles: Vec<String> = mapped(&sync.mapping, claims).into_iter().collect();
            if let Some(m) =
                st.s.organization_members.iter_mut().find(|m| m.organization_id == org && m.user_id == user)
            {
                m.roles = Some(roles);
            }
        }
    }
}
