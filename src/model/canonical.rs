//! Canonical order. Every list is sorted by a natural key with the id as the
//! tie-break, and every inner list is sorted and de-duplicated, so the same
//! state always serialises to the same bytes.

use super::*;

fn sort_dedup<T: Ord>(v: &mut Vec<T>) {
    v.sort();
    v.dedup();
}

impl Snapshot {
    pub fn canonicalize(&mut self) {
        // The largest lists are sorted on a second core (taken out and put
        // back: moving a list moves three words).
        let mut users = std::mem::take(&mut self.users);
        let mut workspaces = std::mem::take(&mut self.workspaces);
        let mut people = self.people.take();
        crate::cores::join(
            || self.canonicalize_the_rest(),
            || {
                for u in &mut users {
                    sort_dedup(&mut u.roles);
                }
                users.sort_by(|a, b| (&a.username, &a.id).cmp(&(&b.username, &b.id)));
                workspaces.sort_by(|a, b| (&a.owner_name, &a.name, &a.id).cmp(&(&b.owner_name, &b.name, &b.id)));
                if let Some(people) = &mut people {
                    people.records.sort_by(|a, b| (&a.username, &a.user_id).cmp(&(&b.username, &b.user_id)));
                }
            },
        );
        (self.users, self.workspaces, self.people) = (users, workspaces, people);
    }

    /// `canonicalize`, but for users, workspaces and people.
    fn canonicalize_the_rest(&mut self) {
        self.organizations.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        for m in &mut self.organization_members {
            if let Some(roles) = &mut m.roles {
                roles.retain(|r| r != ORG_MEMBER_ROLE);
                sort_dedup(roles);
            }
        }
        self.organization_members
            .sort_by(|a, b| (&a.organization_id, &a.user_id).cmp(&(&b.organization_id, &b.user_id)));
        self.organization_members.dedup_by(|a, b| a.organization_id == b.organization_id && a.user_id == b.user_id);
        for g in &mut self.groups {
            sort_dedup(&mut g.members);
        }
        self.groups.sort_by(|a, b| (&a.organization_id, &a.name, &a.id).cmp(&(&b.organization_id, &b.name, &b.id)));
        for t in &mut self.templates {
            if let Some(acl) = &mut t.acl {
                sort_dedup(&mut acl.users);
                sort_dedup(&mut acl.group);
            }
        }
        self.templates.sort_by(|a, b| (&a.organization_id, &a.name, &a.id).cmp(&(&b.organization_id, &b.name, &b.id)));
        self.template_versions.sort_by(|a, b| (&a.template_id, &a.name, &a.id).cmp(&(&b.template_id, &b.name, &b.id)));
        for d in &mut self.provisioner_daemons {
            sort_dedup(&mut d.provisioners);
        }
        self.provisioner_daemons
            .sort_by(|a, b| (&a.organization_id, &a.name, &a.id).cmp(&(&b.organization_id, &b.name, &b.id)));
        self.provisioner_keys.sort_by(|a, b| (&a.organization, &a.name, &a.id).cmp(&(&b.organization, &b.name, &b.id)));
        self.workspace_proxies.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        for r in &mut self.custom_roles {
            sort_dedup(&mut r.organization_permissions);
            sort_dedup(&mut r.organization_member_permissions);
            sort_dedup(&mut r.site_permissions);
            sort_dedup(&mut r.user_permissions);
        }
        self.custom_roles.sort_by(|a, b| (&a.organization_id, &a.name).cmp(&(&b.organization_id, &b.name)));
        self.idp_sync.canonicalize();
        for s in &mut self.template_sources {
            sort_dedup(&mut s.files);
            s.signals.sort_by(|a, b| (&a.file, a.line, &a.kind, &a.value).cmp(&(&b.file, b.line, &b.kind, &b.value)));
            s.signals.dedup();
        }
        self.template_sources.sort_by(|a, b| a.path.cmp(&b.path));
        sort_dedup(&mut self.warnings);
        if let Some(e) = &mut self.entitlements {
            e.errors.sort();
            e.warnings.sort();
        }
    }
}

/// Sorted and without repeats, as `sort_dedup` leaves a list.
fn is_sorted_set<T: Ord>(v: &[T]) -> bool {
    v.windows(2).all(|w| w[0] < w[1])
}

impl Snapshot {
    /// True when `canonicalize` would not change the sections the
    /// fingerprint digests (so it can digest them without a copy). It checks
    /// the same orders `canonicalize` sets; when in doubt it says false,
    /// which only costs a copy.
    pub fn is_canonical(&self) -> bool {
        fn by<'t, T, K: Ord + 't>(v: &'t [T], key: impl Fn(&'t T) -> K) -> bool {
            v.windows(2).all(|w| key(&w[0]) <= key(&w[1]))
        }
        by(&self.organizations, |o| (&o.name, &o.id))
            && self.users.iter().all(|u| is_sorted_set(&u.roles))
            && by(&self.users, |u| (&u.username, &u.id))
            && self
                .organization_members
                .iter()
                .all(|m| m.roles.as_ref().is_none_or(|r| is_sorted_set(r) && !r.iter().any(|x| x == ORG_MEMBER_ROLE)))
            && self
                .organization_members
                .windows(2)
                .all(|w| (&w[0].organization_id, &w[0].user_id) < (&w[1].organization_id, &w[1].user_id))
            && self.groups.iter().all(|g| is_sorted_set(&g.members))
            && by(&self.groups, |g| (&g.organization_id, &g.name, &g.id))
            && self
                .templates
                .iter()
                .all(|t| t.acl.as_ref().is_none_or(|a| is_sorted_set(&a.users) && is_sorted_set(&a.group)))
            && by(&self.templates, |t| (&t.organization_id, &t.name, &t.id))
            && by(&self.template_versions, |v| (&v.template_id, &v.name, &v.id))
            && by(&self.workspaces, |w| (&w.owner_name, &w.name, &w.id))
            && by(&self.provisioner_keys, |k| (&k.organization, &k.name, &k.id))
            && self.custom_roles.iter().all(|r| {
                is_sorted_set(&r.organization_permissions)
                    && is_sorted_set(&r.organization_member_permissions)
                    && is_sorted_set(&r.site_permissions)
                    && is_sorted_set(&r.user_permissions)
            })
            && by(&self.custom_roles, |r| (&r.organization_id, &r.name))
            && self.idp_sync.is_canonical()
    }
}

impl IdpSync {
    fn is_canonical(&self) -> bool {
        self.organization.as_ref().is_none_or(|o| o.mapping.values().all(|v| is_sorted_set(v)))
            && self.groups.iter().all(|g| g.mapping.values().all(|v| is_sorted_set(v)))
            && self.groups.windows(2).all(|w| w[0].organization_id <= w[1].organization_id)
            && self.roles.iter().all(|r| r.mapping.values().all(|v| is_sorted_set(v)))
            && self.roles.windows(2).all(|w| w[0].organization_id <= w[1].organization_id)
    }

    fn canonicalize(&mut self) {
        if let Some(o) = &mut self.organization {
            o.mapping.values_mut().for_each(sort_dedup);
        }
        for g in &mut self.groups {
            g.mapping.values_mut().for_each(sort_dedup);
        }
        self.groups.sort_by(|a, b| a.organization_id.cmp(&b.organization_id));
        for r in &mut self.roles {
            r.mapping.values_mut().for_each(sort_dedup);
        }
        self.roles.sort_by(|a, b| a.organization_id.cmp(&b.organization_id));
    }
}
