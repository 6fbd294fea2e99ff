//! Provisioner jobs, template variables and daemons: the list of an org's
//! jobs (what apply reads to find a template version whose answer was lost),
//! the variables of a version (sensitive values redacted, as the server
//! does), and daemons that appear when someone starts a provisioner with a
//! key's secret (what the admin does after apply creates the key).

use std::collections::BTreeMap;

use orgsplit::model::{ProvisionerDaemon, TemplateVersion};
use serde_json::{Value, json};

use super::FakeCoder;
use super::http::{Reply, Request};
use super::reads::{json as reply, not_found};
use super::state::{NOW, State};

/// What the server writes for a sensitive variable's value and default.
pub const REDACTED: &str = "*redacted*";

/// `GET /organizations/{org}/provisionerjobs?initiator=&limit=`: the import
/// jobs of versions created through the API, newest first.
pub fn jobs(st: &State, org: &str, req: &Request) -> Reply {
    let initiator = req.query_value("initiator");
    let limit: usize = req.query_value("limit").and_then(|l| l.parse().ok()).filter(|l| *l > 0).unwrap_or(50);
    let mut rows: Vec<(&TemplateVersion, &super::state::Job)> =
        st.s.template_versions
            .iter()
            .filter(|v| v.organization_id == org)
            .filter_map(|v| st.jobs.get(&v.id).map(|j| (v, j)))
            .filter(|(_, j)| initiator.as_ref().is_none_or(|i| *i == j.initiator))
            .collect();
    // Ids grow with creation order; newest first, as the server sorts.
    rows.sort_by_key(|(v, _)| std::cmp::Reverse(st.created_order(&v.id)));
    let body: Vec<Value> = rows.into_iter().take(limit).map(|(v, j)| job_json(st, v, j)).collect();
    reply(200, &Value::from(body))
}

fn job_json(st: &State, v: &TemplateVersion, j: &super::state::Job) -> Value {
    let done = !matches!(v.job.status.as_str(), "pending" | "running");
    let template = st.template(&v.template_id);
    json!({
        "available_workers": [],
        "canceled_at": null,
        "completed_at": if done { Value::from(NOW) } else { Value::Null },
        "created_at": NOW,
        "error": j.error.as_deref().filter(|_| v.job.status == "failed").unwrap_or(""),
        "file_id": v.job.file_id,
        "id": fixtures::id("job", &v.id),
        "initiator_id": j.initiator,
        "input": {"template_version_id": v.id},
        "logs_overflowed": false,
        "metadata": {
            "template_display_name": template.map_or("", |t| t.display_name.as_str()),
            "template_icon": template.map_or("", |t| t.icon.as_str()),
            "template_id": v.template_id,
            "template_name": template.map_or("", |t| t.name.as_str()),
            "template_version_name": v.name,
        },
        "organization_id": v.organization_id,
        "queue_position": 0,
        "queue_size": 0,
        "started_at": if v.job.status == "pending" { Value::Null } else { Value::from(NOW) },
        "status": v.job.status,
        "tags": v.job.tags,
        "type": "template_version_import",
        "worker_id": null,
        "worker_name": "",
    })
}

/// `GET /templateversions/{id}/variables`.
pub fn variables(st: &State, id: &str) -> Reply {
    if st.version(id).is_none() {
        return not_found();
    }
    let body: Vec<Value> = st
        .variables
        .get(id)
        .into_iter()
        .flatten()
        .map(|v| {
            let hide = |s: &str| if v.sensitive { REDACTED.to_string() } else { s.to_string() };
            json!({
                "name": v.name,
                "description": "",
                "type": "string",
                "value": hide(&v.value),
                "default_value": hide(&v.default_value),
                "required": v.required,
                "sensitive": v.sensitive,
            })
        })
        .collect();
    reply(200, &Value::from(body))
}

impl State {
    /// Position of an id among those this fake made (0 for the snapshot's own).
    pub fn created_order(&self, id: &str) -> u64 {
        self.created_ids.get(id).copied().unwrap_or(0)
    }
}

impl FakeCoder {
    /// What the admin does with a key's secret: `coder provisioner start`
    /// with it. A daemon of the key's org appears, with the key's tags and
    /// the org scope, and picks up matching jobs. `None` for an unknown secret.
    pub fn start_provisioner(&self, secret: &str) -> Option<String> {
        self.state_mut(|st| {
            let key_id = st.key_secrets.iter().find(|(_, s)| s.as_str() == secret).map(|(k, _)| k.clone())?;
            let key = st.s.provisioner_keys.iter().find(|k| k.id == key_id)?.clone();
            start_daemon(st, &key);
            Some(key.organization)
        })
    }

    /// Create a provisioner key as an admin would with the coder CLI, and
    /// start a daemon with it: for runs that cannot show a secret.
    pub fn admin_creates_key_and_starts_provisioner(&self, org_name: &str, key: &str, tags: &BTreeMap<String, String>) {
        let secret = self.state_mut(|st| {
            let org = st.org(org_name).expect("a known organization").id.clone();
            let id = st.new_id("provisioner-key", key);
            let secret = format!("pk-admin-{}", id.replace('-', ""));
            st.key_secrets.insert(id.clone(), secret.clone());
            st.s.provisioner_keys.push(orgsplit::model::ProvisionerKey {
                id,
                name: key.into(),
                organization: org,
                tags: tags.clone(),
                created_at: Some(NOW.into()),
            });
            secret
        });
        self.start_provisioner(&secret).expect("the key just made");
    }
}

/// A daemon started with `key`'s secret: the key's tags, organization scope.
pub fn start_daemon(st: &mut State, key: &orgsplit::model::ProvisionerKey) {
    let mut tags: BTreeMap<String, String> = key.tags.clone();
    tags.insert("scope".into(), "organization".into());
    tags.insert("owner".into(), String::new());
    let id = st.new_id("daemon", &key.name);
    st.s.provisioner_daemons.push(ProvisionerDaemon {
        id,
        name: format!("{}-daemon", key.name),
        organization_id: key.organization.clone(),
        key_id: key.id.clone(),
        key_name: key.name.clone(),
        status: "idle".into(),
        version: "v2.18.1".into(),
        last_seen_at: Some(NOW.into()),
        provisioners: vec!["terraform".into()],
        tags,
    });
}
