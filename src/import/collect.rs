//! The pieces read from an export, keyed by id, before they are joined.
//! Several files of one kind merge here (pages); the same object seen twice
//! with different content is kept once, from the later file, with a warning.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;

use crate::coder::types as wire;
use crate::model::Warning;

/// One object and the file it came from (one name shared by all the file's objects).
#[derive(Debug, Clone)]
pub struct Item<T> {
    pub value: T,
    pub file: Arc<str>,
}

/// Settings or an ACL whose owner (org or template) may come from the
/// endpoint the body was saved from, or not be known at all.
#[derive(Debug, Clone)]
pub struct Owned<T> {
    /// Org id/name, or template id, when the file says.
    pub owner: Option<String>,
    pub value: T,
    pub file: String,
}

#[derive(Debug, Default)]
pub struct Collected {
    pub build_info: Option<Item<wire::BuildInfo>>,
    pub entitlements: Option<Item<wire::Entitlements>>,
    pub organizations: BTreeMap<String, Item<wire::Organization>>,
    pub users: BTreeMap<String, Item<wire::User>>,
    /// (organization id or name, user id) -> membership.
    pub members: BTreeMap<(String, String), Item<wire::OrganizationMember>>,
    pub groups: BTreeMap<String, Item<wire::Group>>,
    pub templates: BTreeMap<String, Item<wire::Template>>,
    pub versions: BTreeMap<String, Item<wire::TemplateVersion>>,
    pub workspaces: BTreeMap<String, Item<wire::Workspace>>,
    pub daemons: BTreeMap<String, Item<wire::ProvisionerDaemon>>,
    pub keys: BTreeMap<String, Item<wire::ProvisionerKey>>,
    pub proxies: BTreeMap<String, Item<wire::WorkspaceProxy>>,
    /// Organizations (ids or names) whose member list the export holds, so
    /// their members' org roles are known.
    pub member_lists: BTreeSet<String>,
    /// (organization id or name, role name) -> custom role.
    pub roles: BTreeMap<(String, String), Item<wire::Role>>,
    pub org_sync: Option<Item<wire::OrganizationSyncSettings>>,
    pub group_sync: Vec<Owned<wire::GroupSyncSettings>>,
    pub role_sync: Vec<Owned<wire::RoleSyncSettings>>,
    pub acls: Vec<Owned<wire::TemplateAcl>>,
    /// Workspace ACLs, owned by workspace id.
    pub workspace_acls: Vec<Owned<wire::WorkspaceAcl>>,
    /// Workspace sharing settings, owned by organization id or name.
    pub workspace_sharing: Vec<Owned<wire::WorkspaceSharingSettings>>,
    /// The deployment's enabled experiments (`GET /experiments`), when the export holds them.
    pub experiments: Option<Vec<String>>,
    /// List name -> the largest `count` a page reported, and the file.
    pub page_counts: BTreeMap<&'static str, (i64, String)>,
    /// Files that held each kind, for the import summary.
    pub files_per_kind: BTreeMap<String, Vec<String>>,
    pub warnings: Vec<Warning>,
}

impl Collected {
    pub fn warn(&mut self, code: &str, message: impl Into<String>) {
        self.warnings.push(Warning::new(code, message));
    }

    pub fn note_file(&mut self, kind: &str, file: &str) {
        let files = self.files_per_kind.entry(kind.to_string()).or_default();
        if files.last().map(String::as_str) != Some(file) {
            files.push(file.to_string());
        }
    }

    pub fn note_count(&mut self, list: &'static str, count: i64, file: &str) {
        let entry = self.page_counts.entry(list).or_insert((0, String::new()));
        if count > entry.0 {
            *entry = (count, file.to_string());
        }
    }
}

/// Insert `value` under `key`; on a conflicting duplicate keep the new one and warn.
pub fn merge<K, T>(
    map: &mut BTreeMap<K, Item<T>>,
    warnings: &mut Vec<Warning>,
    what: &str,
    key: K,
    value: T,
    file: &Arc<str>,
) where
    K: Ord + Debug,
    T: PartialEq,
{
    use std::collections::btree_map::Entry;
    match map.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(Item { value, file: file.clone() });
        }
        Entry::Occupied(old) if old.get().value == value => {}
        Entry::Occupied(mut old) => {
            warnings.push(Warning::new(
                "conflicting-duplicate",
                format!(
                    "{what} {:?} differs between `{}` and `{file}`; using `{file}` (the later file)",
                    old.key(),
                    old.get().file
                ),
            ));
            old.insert(Item { value, file: file.clone() });
        }
    }
}
