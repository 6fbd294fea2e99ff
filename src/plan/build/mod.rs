//! Snapshot + resolved split -> steps, migration items and findings. Each
//! step compares what the snapshot holds with what the split wants, so the
//! same split planned again after apply gives only no-ops.

mod copies;
mod copy_names;
mod groups;
mod members;
mod migrate;
mod orgs;
mod templates;

use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeMap;

use super::validate::Target;
use super::{Action, Affected, Finding, MemberSpec, Step, StepSpec, UserRef, WorkspaceMigration, step_key};
use crate::model::{Index, Snapshot};
use crate::split::SplitFile;

pub use orgs::{deployment_url, shell_word};
pub(super) use templates::TemplatePlan;
pub use templates::settings_of;

#[derive(Debug, Clone)]
pub(super) struct Member {
    pub spec: MemberSpec,
    pub action: Action,
    /// Already a member before the plan.
    pub existing: bool,
}

pub(super) struct Builder<'a, 'i> {
    pub s: &'a Snapshot,
    pub ix: &'i Index<'a>,
    pub split: &'a SplitFile,
    pub orgs: Vec<Target<'a>>,
    /// user id -> index of their people record.
    people: HashMap<&'a str, usize>,
    /// The organization-sync claim after the plan, when org sync is on.
    pub org_sync_field: Option<String>,
    pub org_sync_key: Option<String>,
    /// Per target org (same index as `orgs`): members after the plan, by user id.
    pub members: Vec<BTreeMap<&'a str, Member>>,
    /// user id -> the target orgs they are in after the plan (indices, ascending = by name).
    pub member_orgs: HashMap<&'a str, Vec<usize>>,
    pub templates: Vec<TemplatePlan<'a>>,
    pub steps: Vec<Step>,
    pub findings: Vec<Finding>,
    pub migrations: Vec<WorkspaceMigration>,
}

pub(super) struct Built<'a> {
    pub orgs: Vec<Target<'a>>,
    pub members: Vec<BTreeMap<&'a str, Member>>,
    pub templates: Vec<TemplatePlan<'a>>,
    pub steps: Vec<Step>,
    pub findings: Vec<Finding>,
    pub migrations: Vec<WorkspaceMigration>,
}

pub(super) fn build<'a>(s: &'a Snapshot, ix: &Index<'a>, split: &'a SplitFile, orgs: Vec<Target<'a>>) -> Built<'a> {
    let people =
        s.people.iter().flat_map(|p| p.records.iter().enumerate().map(|(i, r)| (r.user_id.as_str(), i))).collect();
    let existing_field = s.idp_sync.organization.as_ref().map(|o| o.field.clone()).filter(|f| !f.is_empty());
    let org_sync_field = split.org_sync.as_ref().map(|o| o.field.clone()).or(existing_field);
    let n = orgs.len();
    let mut b = Builder {
        s,
        ix,
        split,
        orgs,
        people,
        org_sync_field,
        org_sync_key: None,
        members: vec![BTreeMap::new(); n],
        member_orgs: HashMap::new(),
        templates: Vec::new(),
        steps: Vec::new(),
        findings: Vec::new(),
        migrations: Vec::new(),
    };
    b.org_steps();
    b.org_sync_step();
    b.plan_members();
    b.member_steps();
    b.group_steps();
    b.sync_steps();
    b.plan_templates();
    b.template_steps();
    b.plan_migrations();
    Built {
        orgs: b.orgs,
        members: b.members,
        templates: b.templates,
        steps: b.steps,
        findings: b.findings,
        migrations: b.migrations,
    }
}

impl<'a> Builder<'a, '_> {
    /// Add a step; returns its key.
    pub fn push(
        &mut self,
        org: Option<&str>,
        name: &str,
        action: Action,
        depends_on: Vec<String>,
        changes: Vec<String>,
        spec: StepSpec,
    ) -> String {
        let step = Step::new(org, name, action, depends_on, changes, spec);
        let key = step.key.clone();
        self.steps.push(step);
        key
    }

    pub fn org_key(&self, o: usize) -> String {
        step_key(Some(&self.orgs[o].name), "organization", &self.orgs[o].name)
    }

    pub fn user_ref(&self, id: &str) -> UserRef {
        match self.ix.user_by_id.get(id) {
            Some(u) => UserRef { user_id: u.id.clone(), username: u.username.clone(), email: u.email.clone() },
            None => UserRef { user_id: id.to_string(), ..Default::default() },
        }
    }

    pub fn user_affected(&self, id: &str) -> Affected {
        Affected { kind: "user".into(), org: None, name: self.ix.username(id).to_string(), id: Some(id.to_string()) }
    }

    /// The key of a member step, if the user is planned into org `o`.
    pub fn member_key(&self, o: usize, user: &str) -> Option<String> {
        let m = self.members[o].get(user)?;
        Some(step_key(Some(&self.orgs[o].name), "member", &m.spec.user.username))
    }
}
