//! What the steps of one run share: the client, the journal, the console,
//! and what the run has learnt about the deployment (org ids by name, each
//! org's members and their roles, each org's provisioner daemons), read on
//! first use and kept up to date with what the run itself changes.

use std::collections::{BTreeMap, HashMap};

use super::journal::{self, Event, Journal};
use super::{Checkpoint, Console, Options, Point};
use crate::coder::types as wire;
use crate::coder::{ApiError, Client};
use crate::plan::Plan;

pub(crate) struct Ctx<'a> {
    pub client: &'a Client,
    pub plan: &'a Plan,
    pub me: &'a wire::User,
    pub options: &'a Options,
    pub console: &'a mut dyn Console,
    pub journal: &'a mut Journal,
    pub earlier: Option<&'a journal::Read>,
    /// The step being carried out (position in the plan, key).
    pub index: usize,
    pub key: String,
    orgs: BTreeMap<String, String>,
    members: HashMap<String, BTreeMap<String, Vec<String>>>,
    daemons: HashMap<String, Vec<wire::ProvisionerDaemon>>,
    /// Versions created in this run, by step.
    versions: BTreeMap<String, String>,
    /// Set when the run must stop at once: a test's checkpoint, or the
    /// journal could not be written (`fatal`).
    stop: bool,
    pub fatal: Option<crate::error::Error>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        client: &'a Client,
        plan: &'a Plan,
        me: &'a wire::User,
        options: &'a Options,
        console: &'a mut dyn Console,
        journal: &'a mut Journal,
        earlier: Option<&'a journal::Read>,
    ) -> Ctx<'a> {
        Ctx {
            client,
            plan,
            me,
            options,
            console,
            journal,
            earlier,
            index: 0,
            key: String::new(),
            orgs: BTreeMap::new(),
            members: HashMap::new(),
            daemons: HashMap::new(),
            versions: BTreeMap::new(),
            stop: false,
            fatal: None,
        }
    }

    /// The id of the org named `name`, if it exists (read again when unknown).
    pub fn org_id(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        if let Some(id) = self.orgs.get(name) {
            return Ok(Some(id.clone()));
        }
        for o in self.client.organizations()? {
            self.orgs.insert(o.name, o.id);
        }
        Ok(self.orgs.get(name).cloned())
    }

    pub fn remember_org(&mut self, name: &str, id: &str) {
        self.orgs.insert(name.to_string(), id.to_string());
    }

    /// The members of `org` (an id) and their org roles, read once per run.
    pub fn members(&mut self, org: &str) -> Result<&mut BTreeMap<String, Vec<String>>, ApiError> {
        if !self.members.contains_key(org) {
            let list = self.client.organization_members(org)?;
            let map = list
                .into_iter()
                .map(|m| {
                    let roles = m.roles.into_iter().map(|r| r.name).filter(|r| r != crate::model::ORG_MEMBER_ROLE);
                    (m.user_id, roles.collect())
                })
                .collect();
            self.members.insert(org.to_string(), map);
        }
        Ok(self.members.get_mut(org).expect("just read"))
    }

    /// Whether a daemon of `org` (an id) that is not offline serves org-scoped
    /// jobs with all of `tags`. `fresh` reads the daemons again.
    pub fn has_provisioner(
        &mut self,
        org: &str,
        tags: &BTreeMap<String, String>,
        fresh: bool,
    ) -> Result<bool, ApiError> {
        if fresh || !self.daemons.contains_key(org) {
            let daemons = self.client.provisioner_daemons(org)?;
            self.daemons.insert(org.to_string(), daemons);
        }
        Ok(self.daemons[org].iter().any(|d| serves(d, tags)))
    }

    /// The template version an earlier try or run created for the current step.
    pub fn recorded_version(&self) -> Option<String> {
        self.versions
            .get(&self.key)
            .cloned()
            .or_else(|| self.earlier.and_then(|j| j.version_of(&self.key)).map(str::to_string))
    }

    /// Record a version created for the current step, then let a test stop here.
    pub fn record_version(&mut self, id: &str) {
        self.versions.insert(self.key.clone(), id.to_string());
        let event = Event::TemplateVersion { step: self.key.clone(), version_id: id.to_string() };
        if let Err(e) = self.journal.append(&event) {
            self.fatal = Some(e);
            self.stop = true;
        } else if self.stop_here(Point::VersionCreated) {
            self.stop = true;
        }
    }

    /// Whether the run must stop at once (see `stop`).
    pub fn stopped(&self) -> bool {
        self.stop
    }

    /// Whether a test asked to stop the run at this point.
    pub fn stop_here(&self, point: Point) -> bool {
        self.options
            .stop_at
            .as_ref()
            .is_some_and(|stop| stop(&Checkpoint { index: self.index, key: self.key.clone(), point }))
    }

    pub fn interrupted(&self) -> bool {
        self.options.interrupted.is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// A daemon serves an org-scoped job when it is not offline, is org-scoped
/// itself, and has every tag of the job.
pub fn serves(d: &wire::ProvisionerDaemon, tags: &BTreeMap<String, String>) -> bool {
    d.status != "offline"
        && d.tags.get("scope").is_none_or(|s| s == "organization")
        && tags.iter().all(|(k, v)| d.tags.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daemon_serves_a_job_when_online_org_scoped_and_tagged_alike() {
        let tags = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let daemon = |status: &str, t: &[(&str, &str)]| wire::ProvisionerDaemon {
            status: status.into(),
            tags: tags(t),
            ..Default::default()
        };
        let job = tags(&[("cluster", "gke")]);
        assert!(serves(&daemon("idle", &[("cluster", "gke"), ("scope", "organization"), ("owner", "")]), &job));
        assert!(serves(&daemon("busy", &[("cluster", "gke")]), &job));
        assert!(!serves(&daemon("offline", &[("cluster", "gke")]), &job), "offline");
        assert!(!serves(&daemon("idle", &[("cluster", "eks")]), &job), "other tags");
        assert!(!serves(&daemon("idle", &[("cluster", "gke"), ("scope", "user")]), &job), "a user's daemon");
        assert!(serves(&daemon("idle", &[]), &tags(&[])), "untagged jobs");
    }
}
