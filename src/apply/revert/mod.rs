//! Revert: the way back from an apply that went wrong halfway.
//!
//! The first apply run of a plan writes the deployment as it found it, before
//! its first change, to `PLAN.before` (its digest in the journal's header).
//! Revert reads the journal and that state, reads the deployment now, and for
//! each of the plan's steps undoes what differs from the state before in the
//! way that step changes things, and nothing else:
//!
//! - a deprecation the plan set is lifted, or the template's earlier
//!   deprecation message restored (a message someone changed since is left);
//! - template grants the plan set on templates that existed before go back
//!   to their earlier role, or are removed;
//! - org roles the plan gave members of orgs that existed before are taken
//!   back (roles given since by others stay);
//! - members the API added (the plan's `api` memberships) are removed only
//!   where that loses nothing: they own no workspace in that org;
//! - group members the plan added to groups that existed before are removed;
//! - organization sync mapping entries the plan added are removed, and its
//!   claim and default restored; an existing org's settings are restored.
//!
//! It never deletes a workspace, template, file or organization, nor a
//! group, key or role: every object the plan created stays, and is listed
//! as a leftover with the command an admin would use to remove it by hand.
//! Each undo is computed from the deployment as read at the start of the
//! run, so a second run finds nothing left to do, and a run killed midway
//! simply does the rest when run again. The revert journal
//! (`PLAN.revert.journal`, the apply journal's format) records every outcome
//! before the next undo starts. At the end the deployment is read again and
//! compared, by names, with the state before apply, leaving out the listed
//! leftovers: what remains is drift.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::journal::{self, Event, Journal};
use super::ledger::{Item, Ledger, Status};
use super::verify::sha256;
use crate::coder::Client;
use crate::coder::requests::*;
use crate::coder::types as wire;
use crate::error::{Error, Result, exit};
use crate::import::live::{LiveOptions, import_live};
use crate::model::Snapshot;
use crate::plan::{ManagedBy, Plan, StepSpec, shell_word};
use crate::render::{diff, readable::readable};

mod undos;
use undos::work_out;
#[cfg(test)]
use undos::{api_delete, percent};

/// The revert journal's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevertHeader {
    /// The journal's format version (the apply journal's).
    pub orgsplit_revert_journal: u32,
    pub plan: String,
    pub plan_sha256: String,
    pub deployment: String,
    /// The digest of `PLAN.before`, the state revert restores.
    pub before_sha256: String,
}

/// How revert runs.
#[derive(Clone, Default)]
pub struct RevertOptions {
    /// Draw progress bars for the imports.
    pub progress: bool,
    /// Set by Ctrl-C: no further undo starts.
    pub interrupted: Option<&'static AtomicBool>,
    /// Tests only: stop as if killed once this many undos are recorded (with
    /// undos in flight, their outcomes go unrecorded, as after a kill).
    pub stop_after: Option<usize>,
    /// Undos carried out at once, at most (0 counts as 1); undos that touch
    /// the same template, membership, organization or sync setting still run
    /// one after another, in the plan's order.
    pub concurrency: usize,
}

/// Something apply made or changed that revert leaves in place, and how an
/// admin would remove it by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// `organization`, `template`, `provisioner key`, `group`, `custom role`, `member`.
    pub kind: &'static str,
    /// The org it is in (the org's own name for an organization).
    pub org: String,
    /// Its name (a username for a member).
    pub name: String,
    /// Why it stays.
    pub why: String,
    /// The command that removes it (names shell-quoted).
    pub command: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Act {
    /// Set the deprecation message ("" lifts it).
    Deprecation {
        template_id: String,
        message: String,
    },
    MemberRoles {
        org_id: String,
        user_id: String,
        roles: Vec<String>,
    },
    RemoveMember {
        org_id: String,
        user_id: String,
    },
    Acl {
        template_id: String,
        acl: UpdateTemplateAcl,
    },
    Organization {
        org_id: String,
        req: UpdateOrganizationRequest,
    },
    GroupMembers {
        org_id: String,
        group_id: String,
        remove: Vec<String>,
    },
    OrgSync {
        config: Option<PatchOrganizationSyncConfig>,
        remove: Vec<MappingEntry>,
    },
}

impl Act {
    /// What the undo touches: two undos that share one of these run one
    /// after another, in the plan's order (a member's roles before the
    /// member is removed, a group's members before the member leaves the org).
    fn touches(&self) -> Vec<String> {
        match self {
            Act::Deprecation { template_id, .. } | Act::Acl { template_id, .. } => {
                vec![format!("template {template_id}")]
            }
            Act::MemberRoles { org_id, user_id, .. } | Act::RemoveMember { org_id, user_id } => {
                vec![format!("member {org_id} {user_id}")]
            }
            Act::GroupMembers { org_id, remove, .. } => remove.iter().map(|u| format!("member {org_id} {u}")).collect(),
            Act::Organization { org_id, .. } => vec![format!("organization {org_id}")],
            Act::OrgSync { .. } => vec!["organization sync".into()],
        }
    }
}

/// One thing to undo: the plan step it undoes, what, and how.
#[derive(Debug, Clone, PartialEq)]
struct Undo {
    key: String,
    what: String,
    act: Act,
}

/// What [`prepare`] found.
pub struct PreparedRevert {
    pub plan: Plan,
    pub plan_path: PathBuf,
    pub journal_path: PathBuf,
    header: RevertHeader,
    /// Earlier runs of this revert.
    pub earlier_runs: Option<u32>,
    /// The deployment before apply's first change.
    pub before: Snapshot,
    undos: Vec<Undo>,
    pub leftovers: Vec<Leftover>,
    /// Changes of the plan that revert does not undo, and why.
    pub kept: Vec<String>,
    me: wire::User,
}

impl PreparedRevert {
    /// What this run will undo, one line each.
    pub fn todo(&self) -> Vec<String> {
        self.undos.iter().map(|u| format!("{}: {}", u.key, u.what)).collect()
    }
}

/// How a revert ended.
pub struct RevertOutcome {
    pub ledger: Ledger,
    pub leftovers: Vec<Leftover>,
    pub kept: Vec<String>,
    /// A unified diff of the state before apply and the deployment now, the
    /// leftovers left out (empty: none); `None` when not verified.
    pub differences: Option<String>,
    pub unverified: Option<String>,
    pub interrupted: bool,
    pub journal: PathBuf,
}

impl RevertOutcome {
    /// 0 when every undo is done and the deployment is the state before apply
    /// but for the listed leftovers; 130 when interrupted; 3 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            return exit::INTERRUPTED;
        }
        let clean = self.differences.as_deref() == Some("");
        if self.ledger.complete() && clean { exit::OK } else { exit::PARTIAL }
    }

    /// The ledger, the leftovers with their commands, the verification.
    pub fn render(&self) -> String {
        let mut out = self.ledger.render();
        out.push_str(&render_leftovers(&self.leftovers));
        for k in &self.kept {
            out.push_str(&format!("not undone: {k}\n"));
        }
        match (&self.differences, &self.unverified, self.interrupted) {
            (_, _, true) => out.push_str(&format!(
                "interrupted: run `orgsplit revert` again to finish (the journal `{}` records what was done)\n",
                self.journal.display()
            )),
            (Some(d), _, _) if d.is_empty() => {
                out.push_str("verified: the deployment is as before apply, but for the leftovers listed\n")
            }
            (Some(d), _, _) => out.push_str(&format!(
                "the deployment differs from the state before apply in more than the leftovers (changes made since \
                 apply, or undos that failed):\n{d}"
            )),
            (None, Some(why), _) => out.push_str(&format!("not verified: {why}\n")),
            (None, None, _) => {}
        }
        out
    }
}

/// Leftovers by kind, each with the command that removes it, in the order
/// that works (an org only once it is empty).
pub fn render_leftovers(leftovers: &[Leftover]) -> String {
    if leftovers.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{} leftover(s): made by apply, kept by revert (it never deletes); to remove them by hand, in this order:\n",
        leftovers.len()
    );
    for l in leftovers {
        out.push_str(&format!("  {} `{}` in `{}`: {}\n    {}\n", l.kind, l.name, l.org, l.why, l.command));
    }
    out
}

fn refused(msg: String) -> Error {
    Error::Refused(msg)
}

/// Read the apply journal and the state before apply, read the deployment,
/// and work out what to undo and what stays.
pub fn prepare(
    client: &Client,
    plan: Plan,
    plan_path: &Path,
    plan_bytes: &[u8],
    options: &RevertOptions,
) -> Result<PreparedRevert> {
    let (apply_journal, _) = journal::paths(plan_path);
    let Some(applied) = journal::read(&apply_journal)? else {
        return Err(refused(format!(
            "there is nothing to revert: `{}` does not exist, so apply has not run this plan from here (revert reads \
             the journal apply keeps next to the plan)",
            apply_journal.display()
        )));
    };
    let plan_sha256 = sha256(plan_bytes);
    if applied.header.plan_sha256 != plan_sha256 {
        return Err(refused(format!(
            "`{}` records an apply of another plan (`{}`), not of this `{}`: revert with the plan that was applied",
            apply_journal.display(),
            applied.header.plan,
            plan_path.display()
        )));
    }
    if applied.header.deployment != client.base_url() {
        return Err(refused(format!(
            "`{}` records an apply to {}, not to {}: nothing was sent",
            apply_journal.display(),
            applied.header.deployment,
            client.base_url()
        )));
    }
    let before_path = journal::beside(plan_path, ".before");
    let Some(before_sha256) = applied.header.before_sha256.clone() else {
        return Err(refused(format!(
            "`{}` was written by an orgsplit that did not yet record the state before apply (`{}`), so revert \
             cannot know what to restore: undo the changes by hand, using the journal's list of steps",
            apply_journal.display(),
            before_path.display()
        )));
    };
    let bytes = std::fs::read(&before_path).map_err(|e| Error::read(&before_path, e))?;
    if sha256(&bytes) != before_sha256 {
        return Err(refused(format!(
            "`{}` is not the state the apply journal recorded (its digest differs): it was changed or replaced, so \
             revert cannot trust it",
            before_path.display()
        )));
    }
    let before = Snapshot::from_json(&bytes, &before_path)?;
    let journal_path = journal::beside(plan_path, ".revert.journal");
    let header = RevertHeader {
        orgsplit_revert_journal: journal::FORMAT_VERSION,
        plan: plan_path.display().to_string(),
        plan_sha256,
        deployment: client.base_url(),
        before_sha256,
    };
    let earlier_runs = read_journal(&journal_path, &header)?;
    let me = client.me()?;
    let now = import_live(client, &LiveOptions { progress: options.progress, ..LiveOptions::default() })?;
    let work = work_out(&plan, &before, &now, &me.id);
    Ok(PreparedRevert {
        plan,
        plan_path: plan_path.to_path_buf(),
        journal_path,
        header,
        earlier_runs,
        before,
        undos: work.undos,
        leftovers: work.leftovers,
        kept: work.kept,
        me,
    })
}

/// The number of earlier runs in the revert journal, if there is one (of this plan).
fn read_journal(path: &Path, header: &RevertHeader) -> Result<Option<u32>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::read(path, e)),
    };
    let help = "it is not a revert journal this orgsplit wrote: move it aside (never delete a journal) and run \
                revert again";
    let (read, events, _) = journal::parse_with(&text, path, help, |h: &RevertHeader| h.orgsplit_revert_journal)?;
    if read.plan_sha256 != header.plan_sha256 || read.before_sha256 != header.before_sha256 {
        return Err(refused(format!(
            "`{}` records a revert of another plan or apply: move it aside (never delete a journal) and run revert \
             again",
            path.display()
        )));
    }
    Ok(Some(events.iter().filter(|e| matches!(e, Event::RunStarted { .. })).count() as u32))
}

/// Carry out the undos, up to `concurrency` at once (those that touch the
/// same object one after another, in order), each outcome recorded and
/// synced in the revert journal before an undo that shares an object with it
/// starts; then read the deployment again and compare it with the state
/// before apply, the leftovers left out.
pub fn execute(
    prepared: &PreparedRevert,
    client: &Client,
    options: &RevertOptions,
    console: &mut dyn super::Console,
) -> Result<RevertOutcome> {
    let mut journal = match prepared.earlier_runs {
        Some(_) => Journal::open(&prepared.journal_path)?,
        None => Journal::start(&prepared.journal_path, &prepared.header)?,
    };
    let run = prepared.earlier_runs.unwrap_or(0) + 1;
    journal.append(&Event::RunStarted { run, by: prepared.me.username.clone() })?;
    let (statuses, interrupted) = undo_all(&prepared.undos, client, options, console, &mut journal)?;
    let items = prepared
        .undos
        .iter()
        .zip(statuses)
        .filter_map(|(u, status)| status.map(|status| Item { key: u.key.clone(), status }))
        .collect();
    let ledger = Ledger { items };
    let (differences, unverified) = match interrupted {
        true => (None, None),
        false => match import_live(client, &LiveOptions { progress: options.progress, ..LiveOptions::default() }) {
            Ok(now) => (Some(differences(&prepared.before, &now, &prepared.leftovers)), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    journal.append(&Event::RunEnded {
        run,
        summary: ledger.summary(),
        drift: differences.as_ref().map(|d| !d.is_empty()),
        interrupted,
    })?;
    Ok(RevertOutcome {
        ledger,
        leftovers: prepared.leftovers.clone(),
        kept: prepared.kept.clone(),
        differences,
        unverified,
        interrupted,
        journal: prepared.journal_path.clone(),
    })
}

/// The undos' outcomes, in their order (`None`: not carried out, after
/// Ctrl-C), and whether the run was interrupted.
fn undo_all(
    undos: &[Undo],
    client: &Client,
    options: &RevertOptions,
    console: &mut dyn super::Console,
    journal: &mut Journal,
) -> Result<(Vec<Option<Status>>, bool)> {
    use std::collections::HashMap;
    use std::sync::{Mutex, PoisonError, mpsc};
    let total = undos.len();
    // Each undo waits for the last earlier one that touches the same object.
    let mut unsettled = vec![0usize; total];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, undo) in undos.iter().enumerate() {
        let mut after: BTreeSet<usize> = BTreeSet::new();
        for object in undo.act.touches() {
            if let Some(j) = last.insert(object, i) {
                after.insert(j);
            }
        }
        unsettled[i] = after.len();
        for j in after {
            dependents[j].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..total).filter(|&i| unsettled[i] == 0).collect();
    let mut statuses: Vec<Option<Status>> = vec![None; total];
    let workers = options.concurrency.max(1).min(total.max(1));
    let (job_tx, job_rx) = mpsc::channel::<usize>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, Status)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (job_rx, done_tx) = (&job_rx, done_tx.clone());
            scope.spawn(move || {
                loop {
                    let next = job_rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(i) = next else { break };
                    let undo = &undos[i];
                    let status = match carry_out(client, &undo.act) {
                        Ok(()) => Status::Done(undo.what.clone()),
                        Err(e) => Status::Failed(format!("{}: {e}", undo.what)),
                    };
                    if done_tx.send((i, status)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let (mut in_flight, mut recorded, mut interrupted) = (0usize, 0usize, false);
        let result = loop {
            interrupted |= options.interrupted.is_some_and(|f| f.load(Ordering::SeqCst));
            while !interrupted && in_flight < workers {
                let Some(i) = ready.pop_first() else { break };
                console.progress(recorded, total, &undos[i].key);
                if job_tx.send(i).is_err() {
                    break;
                }
                in_flight += 1;
            }
            if in_flight == 0 {
                break Ok(interrupted);
            }
            // Wait for one undo to end, take whatever else has ended, and
            // record them all (one sync) before releasing what waited for them.
            let Ok(first) = done_rx.recv() else {
                break Err(Error::Bug("revert's workers stopped before their undos ended".into()));
            };
            let mut batch = vec![first];
            batch.extend(done_rx.try_iter());
            in_flight -= batch.len();
            let write = batch.iter().try_for_each(|(i, status)| {
                journal.write(&Event::Step {
                    step: undos[*i].key.clone(),
                    status: status.word().into(),
                    detail: status.detail().into(),
                })
            });
            if let Err(e) = write.and_then(|()| journal.sync()) {
                break Err(e);
            }
            for (i, status) in batch {
                statuses[i] = Some(status);
                recorded += 1;
                for &k in &dependents[i] {
                    unsettled[k] -= 1;
                    if unsettled[k] == 0 {
                        ready.insert(k);
                    }
                }
            }
            if options.stop_after.is_some_and(|n| recorded >= n) {
                break Err(Error::Interrupted("stopped at a test checkpoint".into()));
            }
        };
        // The workers end once those in flight are done (after a stop, their
        // outcomes go unrecorded, as after a kill).
        drop(job_tx);
        result.map(|interrupted| (statuses, interrupted))
    })
}

fn carry_out(client: &Client, act: &Act) -> std::result::Result<(), crate::coder::ApiError> {
    match act {
        Act::Deprecation { template_id, message } => client.deprecate_template(template_id, message).map(|_| ()),
        Act::MemberRoles { org_id, user_id, roles } => client.set_member_roles(org_id, user_id, roles).map(|_| ()),
        Act::RemoveMember { org_id, user_id } => match client.remove_member(org_id, user_id) {
            // Gone already (an earlier try whose answer was lost).
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        },
        Act::Acl { template_id, acl } => client.patch_template_acl(template_id, acl),
        Act::Organization { org_id, req } => client.update_organization(org_id, req).map(|_| ()),
        Act::GroupMembers { group_id, remove, .. } => {
            let req = PatchGroupRequest { remove_users: remove.clone(), ..Default::default() };
            client.patch_group(group_id, &req).map(|_| ())
        }
        Act::OrgSync { config, remove } => {
            if let Some(c) = config {
                client.patch_org_sync_config(c)?;
            }
            if !remove.is_empty() {
                client.patch_org_sync_mapping(&PatchMappingRequest { add: Vec::new(), remove: remove.clone() })?;
            }
            Ok(())
        }
    }
}

/// The deployment without the leftovers: what it should be, by names, once
/// they are removed by hand (an org's leftovers go with the org).
pub fn without_leftovers(mut s: Snapshot, leftovers: &[Leftover]) -> Snapshot {
    let org_id = |s: &Snapshot, name: &str| s.organizations.iter().find(|o| o.name == name).map(|o| o.id.clone());
    let orgs: BTreeSet<String> =
        leftovers.iter().filter(|l| l.kind == "organization").filter_map(|l| org_id(&s, &l.org)).collect();
    let pick = |kind: &str| -> BTreeSet<(String, String)> {
        leftovers
            .iter()
            .filter(|l| l.kind == kind)
            .filter_map(|l| Some((org_id(&s, &l.org)?, l.name.clone())))
            .collect()
    };
    let (templates, keys, groups, roles, members) =
        (pick("template"), pick("provisioner key"), pick("group"), pick("custom role"), pick("member"));
    let users: BTreeMap<String, String> = s.users.iter().map(|u| (u.username.clone(), u.id.clone())).collect();
    let members: BTreeSet<(String, String)> =
        members.into_iter().filter_map(|(o, name)| Some((o, users.get(&name)?.clone()))).collect();
    let gone_templates: BTreeSet<String> = s
        .templates
        .iter()
        .filter(|t| {
            orgs.contains(&t.organization_id) || templates.contains(&(t.organization_id.clone(), t.name.clone()))
        })
        .map(|t| t.id.clone())
        .collect();
    s.organizations.retain(|o| !orgs.contains(&o.id));
    s.templates.retain(|t| !gone_templates.contains(&t.id));
    s.template_versions.retain(|v| !orgs.contains(&v.organization_id) && !gone_templates.contains(&v.template_id));
    s.provisioner_keys
        .retain(|k| !orgs.contains(&k.organization) && !keys.contains(&(k.organization.clone(), k.name.clone())));
    s.provisioner_daemons.retain(|d| !orgs.contains(&d.organization_id));
    s.groups.retain(|g| {
        !orgs.contains(&g.organization_id) && !groups.contains(&(g.organization_id.clone(), g.name.clone()))
    });
    s.custom_roles.retain(|r| {
        !orgs.contains(&r.organization_id) && !roles.contains(&(r.organization_id.clone(), r.name.clone()))
    });
    s.organization_members.retain(|m| {
        !orgs.contains(&m.organization_id) && !members.contains(&(m.organization_id.clone(), m.user_id.clone()))
    });
    for g in s.groups.iter_mut() {
        let before = g.members.len();
        g.members.retain(|u| !members.contains(&(g.organization_id.clone(), u.clone())));
        g.total_member_count -= (before - g.members.len()) as i64;
    }
    s.idp_sync.groups.retain(|g| !orgs.contains(&g.organization_id));
    s.idp_sync.roles.retain(|r| !orgs.contains(&r.organization_id));
    s
}

/// A unified diff, by names, of the state before apply and the deployment
/// now without the leftovers (empty: nothing else differs).
pub fn differences(before: &Snapshot, now: &Snapshot, leftovers: &[Leftover]) -> String {
    let now = without_leftovers(now.clone(), leftovers);
    diff::unified_labeled(&readable(before), &readable(&now), false, ("before apply", "after revert"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_calls_for_leftovers_quote_and_encode_hostile_names() {
        let c = api_delete(&["organizations", "a b'$(x)/y"]);
        assert_eq!(
            c,
            "curl -fsS -X DELETE -H \"Coder-Session-Token: $CODER_SESSION_TOKEN\" \
             \"$CODER_URL\"/api/v2/organizations/a%20b%27%24%28x%29%2Fy"
        );
        assert_eq!(percent("ml-team_1.x~"), "ml-team_1.x~");
    }
}
