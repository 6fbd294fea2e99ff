//! Where objects are in a snapshot's lists while a plan's steps are applied
//! to it (`after.rs`): steps are many (22,600 at 50,000 users), and a scan of
//! a list per step added up.

use foldhash::{HashMap, HashMapExt};

use crate::model::*;

/// Where objects are in the snapshot's lists while steps are applied (steps
/// are many; lists only grow until the end, so positions stay valid).
pub(super) struct Positions {
    /// `organization_members` rows before the first step, sorted by (org, user).
    members_before: usize,
    /// Rows added since: org -> user -> row.
    members_added: HashMap<Id, HashMap<Id, usize>>,
    /// (org id, name) -> row, for groups and templates.
    pub groups: HashMap<(Id, String), usize>,
    pub templates: HashMap<(Id, String), usize>,
    pub template_by_id: HashMap<Id, usize>,
}

impl Positions {
    pub fn new(s: &mut Snapshot) -> Positions {
        // Canonical already when loaded: then this is one pass.
        fn key(m: &OrganizationMember) -> (&str, &str) {
            (&m.organization_id, &m.user_id)
        }
        s.organization_members.sort_by(|a, b| key(a).cmp(&key(b)));
        // The first of a name (or id), as a search from the start finds it.
        fn first<K: std::hash::Hash + Eq>(keys: impl Iterator<Item = K>) -> HashMap<K, usize> {
            let mut at = HashMap::new();
            for (i, k) in keys.enumerate() {
                at.entry(k).or_insert(i);
            }
            at
        }
        Positions {
            members_before: s.organization_members.len(),
            members_added: HashMap::new(),
            groups: first(s.groups.iter().map(|g| (g.organization_id.clone(), g.name.clone()))),
            templates: first(s.templates.iter().map(|t| (t.organization_id.clone(), t.name.clone()))),
            template_by_id: first(s.templates.iter().map(|t| t.id.clone())),
        }
    }

    pub fn member(&self, s: &Snapshot, org: &str, user: &str) -> Option<usize> {
        s.organization_members[..self.members_before]
            .binary_search_by(|m| (m.organization_id.as_str(), m.user_id.as_str()).cmp(&(org, user)))
            .ok()
            .or_else(|| self.members_added.get(org).and_then(|users| users.get(user)).copied())
    }

    pub fn added_member(&mut self, org: &str, user: &str, row: usize) {
        self.members_added.entry(org.to_string()).or_default().insert(user.to_string(), row);
    }
}
