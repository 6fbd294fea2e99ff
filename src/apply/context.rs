//! What the steps of one run share ([`Shared`]): the client, the journal,
//! the console, and what the run has learnt about the deployment (org ids by
//! name, each org's members and their roles, each org's provisioner daemons),
//! read on first use and kept up to date with what the run itself changes.
//! Steps run on several threads at once, so each of these sits behind its
//! own lock; a step holds one only for a lookup or an update, never across a
//! request other than the first read of what it guards. Each running step
//! has its own [`Ctx`]: the shared part, and which step it is.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::journal::{self, Event, Journal};
use super::{Checkpoint, Console, NewKey, Options, Point};
use crate::coder::types as wire;
use crate::coder::{ApiError, Client};
use crate::model::Snapshot;
use crate::plan::Plan;

/// A lock that a panicking step left poisoned is still usable: what it
/// guards is a cache or a file handle, each left whole by every update.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct Shared<'a> {
    pub client: &'a Client,
    pub plan: &'a Plan,
    pub me: &'a wire::User,
    pub options: &'a Options,
    pub console: Mutex<&'a mut (dyn Console + Send)>,
    pub journal: Mutex<&'a mut Journal>,
    pub earlier: Option<&'a journal::Read>,
    /// The deployment as read at the start of the run.
    pub before: &'a Snapshot,
    /// No earlier run of this plan: nothing the plan creates existed at the
    /// start unless `before` holds it.
    pub fresh: bool,
    orgs: Mutex<BTreeMap<String, String>>,
    members: Mutex<HashMap<String, BTreeMap<String, Vec<String>>>>,
    daemons: Mutex<HashMap<String, Vec<wire::ProvisionerDaemon>>>,
    /// Each org's groups, name to id (from the start's read, and the run's own).
    groups: Mutex<HashMap<String, BTreeMap<String, String>>>,
    /// Versions created in this run, by step.
    versions: Mutex<BTreeMap<String, String>>,
    /// Steps in flight when a checkpoint is reached (tests look at it).
    pub in_flight: std::sync::atomic::AtomicUsize,
}

impl<'a> Shared<'a> {
    pub fn new(
        client: &'a Client,
        prepared: &'a super::Prepared,
        options: &'a Options,
        console: &'a mut (dyn Console + Send),
        journal: &'a mut Journal,
    ) -> Shared<'a> {
        let (plan, me, earlier, before) = (&prepared.plan, &prepared.me, prepared.earlier.as_ref(), &prepared.before);
        // What the start's read says: orgs by name, and each org's members
        // with their roles (where the read had them).
        let orgs = before.organizations.iter().map(|o| (o.name.clone(), o.id.clone())).collect();
        let mut members: HashMap<String, BTreeMap<String, Vec<String>>> = HashMap::new();
        let mut unknown = std::collections::HashSet::new();
        for m in &before.organization_members {
            match &m.roles {
                Some(roles) => {
                    let roles = roles.iter().filter(|r| *r != crate::model::ORG_MEMBER_ROLE).cloned().collect();
                    members.entry(m.organization_id.clone()).or_default().insert(m.user_id.clone(), roles);
                }
                None => {
                    unknown.insert(m.organization_id.clone());
                }
            }
        }
        for o in &before.organizations {
            members.entry(o.id.clone()).or_default();
        }
        members.retain(|org, _| !unknown.contains(org));
        let mut groups: HashMap<String, BTreeMap<String, String>> = HashMap::new();
        for o in &before.organizations {
            groups.entry(o.id.clone()).or_default();
        }
        for g in &before.groups {
            groups.entry(g.organization_id.clone()).or_default().insert(g.name.clone(), g.id.clone());
        }
        Shared {
            client,
            plan,
            me,
            options,
            console: Mutex::new(console),
            journal: Mutex::new(journal),
            earlier,
            before,
            fresh: earlier.is_none(),
            orgs: Mutex::new(orgs),
            members: Mutex::new(members),
            groups: Mutex::new(groups),
            daemons: Mutex::new(HashMap::new()),
            versions: Mutex::new(BTreeMap::new()),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    pub fn interrupted(&self) -> bool {
        self.options.interrupted.is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Whether a test asked to stop the run at this point of step `index`.
    pub fn stop_here(&self, index: usize, key: &str, point: Point) -> bool {
        let in_flight = self.in_flight.load(std::sync::atomic::Ordering::SeqCst);
        self.options
            .stop_at
            .as_ref()
            .is_some_and(|stop| stop(&Checkpoint { index, key: key.to_string(), point, in_flight }))
    }
}

/// One step being carried out.
pub(crate) struct Ctx<'s, 'a> {
    pub shared: &'s Shared<'a>,
    pub client: &'a Client,
    pub plan: &'a Plan,
    pub me: &'a wire::User,
    pub options: &'a Options,
    pub earlier: Option<&'a journal::Read>,
    /// The step being carried out (position in the plan, key).
    pub index: usize,
    pub key: String,
    /// The step's first try (a retry must look: its earlier try may have acted).
    pub first_try: bool,
    /// Set when the run must stop at once: a test's checkpoint, or the
    /// journal could not be written (`fatal`).
    stop: bool,
    pub fatal: Option<crate::error::Error>,
}

impl<'s, 'a> Ctx<'s, 'a> {
    pub fn new(shared: &'s Shared<'a>, index: usize, key: &str) -> Ctx<'s, 'a> {
        Ctx {
            shared,
            client: shared.client,
            plan: shared.plan,
            me: shared.me,
            options: shared.options,
            earlier: shared.earlier,
            index,
            key: key.to_string(),
            first_try: true,
            stop: false,
            fatal: None,
        }
    }

    /// Whether what the run read at the start still tells what this step
    /// finds: a first run (no journal: nothing of the plan was done), and
    /// the step's first try. Objects of the plan are made only by the plan's
    /// own steps, so an object absent at the start is absent now; a create
    /// that meets one all the same (409, or another admin's work) looks
    /// again, as on a rerun.
    pub fn knows_start(&self) -> bool {
        self.shared.fresh && self.first_try
    }

    /// Members of an org this run creates: the server makes its creator one.
    pub fn new_org_members(&mut self, org: &str) {
        let me = self.me.id.clone();
        lock(&self.shared.members).entry(org.to_string()).or_insert_with(|| BTreeMap::from([(me, Vec::new())]));
    }

    /// The id of the org named `name`, if it exists (read again when unknown).
    pub fn org_id(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        let mut orgs = lock(&self.shared.orgs);
        if let Some(id) = orgs.get(name) {
            return Ok(Some(id.clone()));
        }
        for o in self.client.organizations()? {
            orgs.insert(o.name, o.id);
        }
        Ok(orgs.get(name).cloned())
    }

    pub fn remember_org(&mut self, name: &str, id: &str) {
        lock(&self.shared.orgs).insert(name.to_string(), id.to_string());
    }

    /// Look at (or update) the members of `org` (an id) and their org roles,
    /// read once per run.
    pub fn with_members<R>(
        &mut self,
        org: &str,
        f: impl FnOnce(&mut BTreeMap<String, Vec<String>>) -> R,
    ) -> Result<R, ApiError> {
        let mut members = lock(&self.shared.members);
        if !members.contains_key(org) {
            let list = self.client.organization_members(org)?;
            let map = list
                .into_iter()
                .map(|m| {
                    let roles = m.roles.into_iter().map(|r| r.name).filter(|r| r != crate::model::ORG_MEMBER_ROLE);
                    (m.user_id, roles.collect())
                })
                .collect();
            members.insert(org.to_string(), map);
        }
        Ok(f(members.get_mut(org).expect("just read")))
    }

    /// The groups of `org` (an id), name to id: known from the start's read
    /// and from the run's own group steps (which this step's dependencies
    /// are), read for an org that neither knows.
    pub fn group_ids(&mut self, org: &str) -> Result<BTreeMap<String, String>, ApiError> {
        let mut groups = lock(&self.shared.groups);
        if !groups.contains_key(org) {
            let list = self.client.groups(org)?.into_iter().map(|g| (g.name, g.id)).collect();
            groups.insert(org.to_string(), list);
        }
        Ok(groups[org].clone())
    }

    pub fn remember_group(&mut self, org: &str, name: &str, id: &str) {
        lock(&self.shared.groups).entry(org.to_string()).or_default().insert(name.to_string(), id.to_string());
    }

    /// Whether a daemon of `org` (an id) that is not offline serves org-scoped
    /// jobs with all of `tags`. `fresh` reads the daemons again.
    pub fn has_provisioner(
        &mut self,
        org: &str,
        tags: &BTreeMap<String, String>,
        fresh: bool,
    ) -> Result<bool, ApiError> {
        let mut daemons = lock(&self.shared.daemons);
        if fresh || !daemons.contains_key(org) {
            let list = self.client.provisioner_daemons(org)?;
            daemons.insert(org.to_string(), list);
        }
        Ok(daemons[org].iter().any(|d| serves(d, tags)))
    }

    /// The template version an earlier try or run created for the current step.
    pub fn recorded_version(&self) -> Option<String> {
        lock(&self.shared.versions)
            .get(&self.key)
            .cloned()
            .or_else(|| self.earlier.and_then(|j| j.version_of(&self.key)).map(str::to_string))
    }

    /// Record a version created for the current step (synced to disk at
    /// once: a rerun must wait for it rather than push another), then let a
    /// test stop here.
    pub fn record_version(&mut self, id: &str) {
        lock(&self.shared.versions).insert(self.key.clone(), id.to_string());
        let event = Event::TemplateVersion { step: self.key.clone(), version_id: id.to_string() };
        if let Err(e) = lock(&self.shared.journal).append(&event) {
            self.fatal = Some(e);
            self.stop = true;
        } else if self.shared.stop_here(self.index, &self.key, Point::VersionCreated) {
            self.stop = true;
        }
    }

    /// Whether the run must stop at once (see `stop`).
    pub fn stopped(&self) -> bool {
        self.stop
    }

    pub fn interrupted(&self) -> bool {
        self.shared.interrupted()
    }

    pub fn can_show_secret(&self) -> bool {
        lock(&self.shared.console).can_show_secret()
    }

    pub fn show_secret(&self, key: &NewKey<'_>) -> std::io::Result<()> {
        lock(&self.shared.console).show_secret(key)
    }

    pub fn note(&self, message: &str) {
        lock(&self.shared.console).note(message);
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
