//! The v1 snapshot: what orgsplit read from a Coder v1 ("Coder Enterprise")
//! deployment. It is its own document (`coder_v1_snapshot: 1`), never a v2
//! `Snapshot`: no v1 object pretends to be a v2 one. Every object keeps the
//! fields orgsplit does not know in `extra` (v1 releases after mid-2021 added
//! fields no public source documents), so nothing read is dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Diagnostic, Result};
use crate::model::Warning;

/// The version of the v1 snapshot document this build writes and reads.
pub const FORMAT: u32 = 1;

pub type Extra = BTreeMap<String, Value>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct V1Snapshot {
    pub coder_v1_snapshot: u32,
    pub source: V1Source,
    #[serde(default)]
    pub organizations: Vec<Org>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default)]
    pub registries: Vec<Registry>,
    #[serde(default)]
    pub workspaces: Vec<Workspace>,
    #[serde(default)]
    pub providers: Vec<Provider>,
    #[serde(default)]
    pub devurls: Vec<DevUrl>,
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// Where the state came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct V1Source {
    /// `export-dir`, `live` or `builtin`.
    pub kind: String,
    pub location: String,
    /// The server's version (`coder-version` header), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub members: Vec<Member>,
    #[serde(default, flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub organization_roles: Vec<String>,
    #[serde(default, flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub email: String,
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub login_type: String,
    #[serde(default, flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub organization_id: String,
    pub repository: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub registry: Option<Registry>,
    #[serde(default)]
    pub default_tag: Option<ImageTag>,
    #[serde(default)]
    pub default_cpu_cores: f64,
    #[serde(default)]
    pub default_memory_gb: f64,
    #[serde(default)]
    pub default_disk_gb: f64,
    #[serde(default)]
    pub deprecated: bool,
    /// The image's tags, when the export holds them (`/images/{id}/tags`).
    #[serde(default)]
    pub tags: Vec<ImageTag>,
    #[serde(default, flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageTag {
    #[serde(default)]
    pub image_id: String,
    pub tag: String,
    #[serde(default, flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub organization_id: String,
    #[serde(default)]
    pub friendly_name: String,
    /// The registry's host, e.g. `index.docker.io`.
    #[serde(default)]
    pub registry: String,
    #[serde(default, flatten)]
    pub extra: Extra,
}

/// A workspace (an "environment" before 1.20).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub organization_id: String,
    pub image_id: String,
    #[serde(default)]
    pub image_tag: String,
    #[serde(default)]
    pub cpu_cores: f64,
    #[serde(default)]
    pub memory_gb: f64,
    #[serde(default)]
    pub disk_gb: f64,
    #[serde(default)]
    pub gpus: u32,
    #[serde(default)]
    pub use_container_vm: bool,
    #[serde(default)]
    pub resource_pool_id: String,
    #[serde(default, flatten)]
    pub extra: Extra,
}

/// A workspace provider ("resource pool").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub built_in: bool,
    #[serde(default)]
    pub envproxy_access_url: String,
    #[serde(default)]
    pub devurl_host: String,
    /// Orgs allowed to create workspaces here (`org_whitelist`, or the
    /// unmerged `org_allowlist` spelling).
    #[serde(default, alias = "org_allowlist")]
    pub org_whitelist: Vec<String>,
    #[serde(default)]
    pub enable_net_v2: bool,
    #[serde(default)]
    pub config: ProviderConfig,
    #[serde(default, flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderConfig {
    #[serde(default)]
    pub cluster_address: String,
    #[serde(default)]
    pub default_namespace: String,
    #[serde(default)]
    pub storage_class: String,
    #[serde(default)]
    pub ssh_enabled: bool,
    #[serde(default, flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DevUrl {
    pub workspace_id: String,
    #[serde(default)]
    pub name: String,
    pub port: u32,
    #[serde(default)]
    pub access: String,
    #[serde(default)]
    pub scheme: String,
    #[serde(default, flatten)]
    pub extra: Extra,
}

impl V1Snapshot {
    /// Sort everything by id (then name), so the same state always writes
    /// the same bytes whatever order the files or pages came in.
    pub fn canonicalize(&mut self) {
        self.organizations.sort_by(|a, b| (&a.id, &a.name).cmp(&(&b.id, &b.name)));
        for org in &mut self.organizations {
            org.members.sort_by(|a, b| a.id.cmp(&b.id));
            for m in &mut org.members {
                m.organization_roles.sort();
            }
        }
        self.users.sort_by(|a, b| a.id.cmp(&b.id));
        self.images.sort_by(|a, b| a.id.cmp(&b.id));
        for image in &mut self.images {
            image.tags.sort_by(|a, b| a.tag.cmp(&b.tag));
            image.tags.dedup_by(|a, b| a.tag == b.tag);
        }
        self.registries.sort_by(|a, b| a.id.cmp(&b.id));
        self.workspaces.sort_by(|a, b| a.id.cmp(&b.id));
        self.providers.sort_by(|a, b| a.id.cmp(&b.id));
        self.devurls.sort_by(|a, b| (&a.workspace_id, a.port, &a.name).cmp(&(&b.workspace_id, b.port, &b.name)));
    }

    pub fn to_json(&self) -> Result<Vec<u8>> {
        crate::json::pretty(self)
    }

    /// Read a v1 snapshot file's bytes, with a clear error when it is a v2
    /// snapshot or another document.
    pub fn from_json(bytes: &[u8], path: &std::path::Path) -> Result<V1Snapshot> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| Diagnostic::json(path, &e))?;
        match value.get("coder_v1_snapshot").and_then(Value::as_u64) {
            Some(v) if v == u64::from(FORMAT) => {}
            Some(v) => {
                return Err(Diagnostic::new(
                    path,
                    format!("v1 snapshot format {v}; this orgsplit reads format {FORMAT}"),
                )
                .help("import the v1 deployment again with this orgsplit")
                .into());
            }
            None => {
                return Err(Diagnostic::new(path, "not a v1 snapshot (it has no `coder_v1_snapshot` field)")
                    .help("make one with `orgsplit import --from-dir V1-EXPORT --out v1.json` (v1 is read from export folders)")
                    .into());
            }
        }
        serde_json::from_value(value).map_err(|e| {
            Diagnostic::new(path, format!("not a valid v1 snapshot: {e}"))
                .help("import the v1 deployment again rather than editing the snapshot")
                .into()
        })
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn org(&self, id: &str) -> Option<&Org> {
        self.organizations.iter().find(|o| o.id == id)
    }

    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.id == id)
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// The username of a user id (the member record's when the user list lacks it).
    pub fn username(&self, id: &str) -> String {
        if let Some(u) = self.user(id) {
            return u.username.clone();
        }
        self.organizations
            .iter()
            .flat_map(|o| &o.members)
            .find(|m| m.id == id && !m.username.is_empty())
            .map_or_else(|| id.to_string(), |m| m.username.clone())
    }
}
