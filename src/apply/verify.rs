//! Before and after a run: reading the deployment, making sure the plan fits
//! it ([`prepare`]), and checking the result against the plan ([`verify`]).
//!
//! A first run needs the deployment in exactly the state the plan was made
//! from (`plan::check_fingerprint`). A rerun cannot: the first run changed
//! it. It needs instead the deployment to be that state with some of the
//! plan done, which holds when applying the plan to the deployment now gives
//! the after-state the first run expected (kept beside the journal), as the
//! readable form compares them: by names, ids ignored.
//!
//! Two differences are not drift. The server makes whoever creates an org a
//! member of it, which the expected state cannot know: those memberships
//! are left out on both sides. And members that IdP sync places (`idp-sync`
//! in the plan: in an org, in a group, in a role) arrive at each user's next
//! login: until then they are counted as pending, not reported as drift.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Options, Prepared, journal, preflight};
use crate::coder::Client;
use crate::coder::types as wire;
use crate::error::{Error, Result};
use crate::import::live::{LiveOptions, import_live};
use crate::model::Snapshot;
use crate::plan::{self, Action, ManagedBy, Plan, StepSpec};
use crate::render::{diff, readable::readable};

/// What the deployment looks like after a run, against the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// A unified diff of the expected state and the deployment, by names
    /// (empty: no drift), leaving out what waits for users' logins.
    pub diff: String,
    /// Org memberships, group memberships and roles that IdP sync gives at
    /// the users' next login.
    pub pending_members: usize,
    pub pending_group_members: usize,
    pub pending_roles: usize,
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// [`sha256`] of a file's bytes, read a megabyte at a time.
pub fn sha256_of_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::read(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    Ok(format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

fn read_live(client: &Client, options: &Options) -> Result<Snapshot> {
    import_live(client, &LiveOptions { progress: options.progress, ..LiveOptions::default() })
}

/// Read the deployment and make sure `plan` may be applied to it (or, with a
/// journal, resumed), and that nothing stands in the way of the first change.
pub fn prepare(
    client: &Client,
    plan: Plan,
    plan_path: &Path,
    plan_bytes: &[u8],
    options: &Options,
) -> Result<Prepared> {
    let (journal_path, expected_path) = journal::paths(plan_path);
    let earlier = journal::read(&journal_path)?;
    let plan_sha256 = sha256(plan_bytes);
    if let Some(j) = &earlier {
        let aside = format!(
            "if that apply is over, move the journal aside (`mv {0} {0}.old`; never delete it: it records what apply \
             did) and run apply again",
            journal_path.display()
        );
        if j.header.plan_sha256 != plan_sha256 {
            return Err(Error::Refused(format!(
                "`{}` records an apply of another plan (`{}`, {}), not of this `{}`: {aside}",
                journal_path.display(),
                j.header.plan,
                j.header.plan_sha256,
                plan_path.display()
            )));
        }
        if j.header.deployment != client.base_url() {
            return Err(Error::Refused(format!(
                "`{}` records an apply of this plan to {}, not to {}: {aside}",
                journal_path.display(),
                j.header.deployment,
                client.base_url()
            )));
        }
    }
    let me = client.me()?;
    let live = read_live(client, options)?;
    let (before, expected) = match &earlier {
        None => {
            plan::check_fingerprint(&plan, &live)?;
            let expected = plan::expected_after(&live, &plan)?;
            (live, expected)
        }
        Some(j) => {
            let before = without_creator(live, &plan, &me);
            let expected = plan::expected_after(&before, &plan)?;
            check_resumable(&readable(&expected), &expected_path, &j.header, &journal_path)?;
            (before, expected)
        }
    };
    let mut notes = Vec::new();
    preflight::check(&plan, &before, &me, earlier.is_some(), &mut notes)?;
    let expected_text = readable(&expected);
    let diff = diff::unified_labeled(&readable(&before), &expected_text, false, ("deployment now", "after apply"));
    Ok(Prepared {
        plan,
        plan_path: plan_path.to_path_buf(),
        plan_sha256,
        journal_path,
        expected_path,
        me,
        before,
        expected,
        expected_text,
        earlier,
        diff,
        notes,
    })
}

/// A rerun goes on only when the plan applied to the deployment now gives
/// what the first run expected: the deployment is the plan's state with
/// some of the plan done, and nothing else changed.
fn check_resumable(now: &str, expected_path: &Path, header: &journal::Header, journal_path: &Path) -> Result<()> {
    let stored = std::fs::read_to_string(expected_path).map_err(|e| Error::read(expected_path, e))?;
    if sha256(stored.as_bytes()) != header.expected_sha256 {
        return Err(Error::Refused(format!(
            "`{}` is not the expected state `{}` recorded: it was changed, so apply cannot tell what is left to do",
            expected_path.display(),
            journal_path.display()
        )));
    }
    if now == stored {
        return Ok(());
    }
    let shown =
        diff::unified_labeled(&stored, now, false, ("expected when apply started", "expected from the deployment now"));
    Err(Error::Refused(format!(
        "the deployment changed since apply started, in ways the plan does not explain:\n{}\nto go on, import the \
         deployment, plan again (the new plan holds only what is left to do), move `{}` aside and apply the new plan",
        truncate(&shown, 60),
        journal_path.display()
    )))
}

fn truncate(text: &str, lines: usize) -> String {
    let total = text.lines().count();
    let mut out: Vec<&str> = text.lines().take(lines).collect();
    let more = format!("... and {} more lines", total.saturating_sub(lines));
    if total > lines {
        out.push(&more);
    }
    out.join("\n")
}

/// Without the memberships the server gave the caller in orgs the plan
/// creates (unless the plan itself places the caller there).
pub(crate) fn without_creator(mut s: Snapshot, plan: &Plan, me: &wire::User) -> Snapshot {
    let planned = |org: &str| {
        plan.steps.iter().any(|st| {
            st.org.as_deref() == Some(org) && matches!(&st.spec, StepSpec::Member(m) if m.user.user_id == me.id)
        })
    };
    let created: Vec<String> = plan
        .steps
        .iter()
        .filter(|st| st.action == Action::Create)
        .filter_map(|st| match &st.spec {
            StepSpec::Organization(o) if !planned(&o.name) => Some(o.name.clone()),
            _ => None,
        })
        .collect();
    let ids: Vec<String> = s.organizations.iter().filter(|o| created.contains(&o.name)).map(|o| o.id.clone()).collect();
    s.organization_members.retain(|m| !(m.user_id == me.id && ids.contains(&m.organization_id)));
    for g in s.groups.iter_mut().filter(|g| g.is_everyone() && ids.contains(&g.id)) {
        g.members.retain(|u| u != &me.id);
        g.total_member_count = g.members.len() as i64;
    }
    s
}

/// Read the deployment again and compare it with the plan's expected state.
pub fn verify(prepared: &Prepared, client: &Client, options: &Options) -> Result<Verification> {
    let now = without_creator(read_live(client, options)?, &prepared.plan, &prepared.me);
    let mut v = Verification::default();
    let pending = pending(&prepared.plan, &prepared.expected, &now, &mut v);
    // With nothing waiting for a login, the expected state is the one
    // prepare rendered: no copy of it (a snapshot's worth of memory at scale).
    let want = match pending.is_empty() {
        true => None,
        false => {
            let mut expected = prepared.expected.clone();
            pending.leave_out(&mut expected);
            Some(readable(&expected))
        }
    };
    let have = readable(&now);
    drop(now);
    let want = want.as_deref().unwrap_or(&prepared.expected_text);
    v.diff = diff::unified_labeled(want, &have, false, ("expected (plan applied)", "deployment now"));
    Ok(v)
}

/// What IdP sync has not yet done: memberships (org id, user id) of
/// `expected` to leave out, roles to take as they are now, and members to
/// leave out of groups (by position in `expected.groups`).
#[derive(Default)]
struct Pending {
    members: HashSet<(String, String)>,
    roles: HashMap<(String, String), Vec<String>>,
    group_members: Vec<(usize, String)>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.members.is_empty() && self.roles.is_empty() && self.group_members.is_empty()
    }

    /// Take it out of `expected`, in one pass over each list (a pass per
    /// step cost members x steps: minutes at 50,000 users).
    fn leave_out(&self, expected: &mut Snapshot) {
        let key = |x: &crate::model::OrganizationMember| (x.organization_id.clone(), x.user_id.clone());
        if !self.members.is_empty() {
            expected.organization_members.retain(|x| !self.members.contains(&key(x)));
        }
        if !self.roles.is_empty() {
            for x in expected.organization_members.iter_mut() {
                if let Some(have) = self.roles.get(&key(x)) {
                    x.roles = Some(have.clone());
                }
            }
        }
        for (i, user) in &self.group_members {
            let x = &mut expected.groups[*i];
            x.members.retain(|m| m != user);
            x.total_member_count = x.members.len() as i64;
        }
    }
}

/// What of `expected` IdP sync has not yet done in `now`: members who have
/// not logged in since, in orgs and in groups, and roles role sync gives at
/// login (counted in `v`). Objects are matched by names (ids of new ones differ).
fn pending(plan: &Plan, expected: &Snapshot, now: &Snapshot, v: &mut Verification) -> Pending {
    let org_ids = |s: &Snapshot| -> HashMap<String, String> {
        s.organizations.iter().map(|o| (o.name.clone(), o.id.clone())).collect()
    };
    let (e_orgs, n_orgs) = (org_ids(expected), org_ids(now));
    let now_roles: HashMap<(&str, &str), Option<&Vec<String>>> = now
        .organization_members
        .iter()
        .map(|m| ((m.organization_id.as_str(), m.user_id.as_str()), m.roles.as_ref()))
        .collect();
    let mut pending = Pending::default();
    let now_groups: HashMap<(&str, &str), &crate::model::Group> =
        now.groups.iter().map(|g| ((g.organization_id.as_str(), g.name.as_str()), g)).collect();
    let expected_groups: HashMap<(String, String), usize> =
        expected.groups.iter().enumerate().map(|(i, g)| ((g.organization_id.clone(), g.name.clone()), i)).collect();
    for step in &plan.steps {
        let (Some(org), Some(e_org)) = (step.org.as_deref(), step.org.as_deref().and_then(|o| e_orgs.get(o))) else {
            continue;
        };
        let n_org = n_orgs.get(org).map(String::as_str).unwrap_or_default();
        match &step.spec {
            StepSpec::Member(m) => {
                let user = m.user.user_id.as_str();
                match now_roles.get(&(n_org, user)) {
                    None if matches!(m.membership_by, ManagedBy::IdpSync { .. }) => {
                        pending.members.insert((e_org.clone(), user.to_string()));
                        v.pending_members += 1;
                    }
                    Some(roles) if matches!(m.roles_by, ManagedBy::IdpSync { .. }) => {
                        let have: Vec<String> = roles.cloned().unwrap_or_default();
                        if m.roles.iter().any(|r| !have.contains(r)) {
                            pending.roles.insert((e_org.clone(), user.to_string()), have);
                            v.pending_roles += 1;
                        }
                    }
                    _ => {}
                }
            }
            StepSpec::Group(g) => {
                let in_now: HashSet<&String> =
                    now_groups.get(&(n_org, g.name.as_str())).map_or(HashSet::new(), |x| x.members.iter().collect());
                for u in &g.members_after_login {
                    if in_now.contains(&u.user_id) {
                        continue;
                    }
                    if let Some(&i) = expected_groups.get(&(e_org.clone(), g.name.clone())) {
                        pending.group_members.push((i, u.user_id.clone()));
                        v.pending_group_members += 1;
                    }
                }
            }
            _ => {}
        }
    }
    pending
}
