//! One migration item per workspace whose owner moves to a copy of its
//! template, with a valid new name unique among the owner's workspaces; and
//! the dormancy check (auto-delete could remove old workspaces mid-migration).

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use super::{Builder, shell_word};
use crate::model::Workspace;
use crate::plan::names::{self, new_workspace_name};
use crate::plan::{Affected, Finding, MigrationState, NewWorkspace, OldWorkspace, Owner, Severity, WorkspaceMigration};

const DAY_MS: i64 = 86_400_000;

impl<'a> Builder<'a, '_> {
    pub(super) fn plan_migrations(&mut self) {
        // (owner username, old name, workspace id) -> (workspace, template plan, target org)
        let mut items: BTreeMap<(&'a str, &'a str, &'a str), (&'a Workspace, usize, usize)> = BTreeMap::new();
        // Owners in more than one new org whose workspaces move, and the orgs they go to.
        let mut several: BTreeMap<&'a str, BTreeSet<usize>> = BTreeMap::new();
        for (i, p) in self.templates.iter().enumerate() {
            // Made only when a workspace needs it: it counts the template's users.
            let mut home: Option<Vec<usize>> = None;
            for w in self.ix.workspaces_of_template.get(p.source.id.as_str()).into_iter().flatten() {
                if w.is_deleted_or_deleting() {
                    continue;
                }
                let orgs = self.member_orgs.get(w.owner_id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                // The workspace follows its template: to an org of its owner the
                // split lists the template for, else the org of its owner
                // holding most of the template's users, then the first by name.
                let mut target = orgs.iter().copied().find(|o| p.explicit.contains(o));
                if target.is_none() && orgs.iter().filter(|o| p.copies.contains(o)).nth(1).is_some() {
                    let home = home.get_or_insert_with(|| self.template_home(i));
                    target = home.iter().copied().find(|o| orgs.contains(o));
                }
                let target = target.or_else(|| orgs.iter().copied().find(|o| p.copies.contains(o)));
                if let Some(o) = target {
                    items.insert((w.owner_name.as_str(), w.name.as_str(), w.id.as_str()), (*w, i, o));
                    if orgs.len() > 1 {
                        several.entry(w.owner_id.as_str()).or_default().insert(o);
                    }
                }
            }
        }
        self.several_orgs_finding(&several);
        for &(w, _, o) in items.values() {
            self.share_findings(w, o);
        }
        // Two halves on two cores, cut between owners: the names an owner's
        // new workspaces take are all decided in one half.
        let items: Vec<_> = items.into_values().collect();
        let mut cut = items.len() / 2;
        while cut > 0 && cut < items.len() && items[cut].0.owner_name == items[cut - 1].0.owner_name {
            cut += 1;
        }
        let (first, second) = items.split_at(cut);
        let ((migrations, mut renamed), (more, more_renamed)) =
            crate::cores::join(|| self.migrate(first), || self.migrate(second));
        self.migrations.extend(migrations.into_iter().chain(more));
        renamed.extend(more_renamed);
        if !renamed.is_empty() {
            self.findings.push(Finding {
                code: "workspace-name-adjusted".into(),
                severity: Severity::Info,
                message: format!(
                    "{} new workspace name(s) are not simply `<old>-<org>`: the old name broke Coder's name rules, the \
                     result was longer than {} characters, or the owner already has a workspace of that name \
                     (each migration item says why)",
                    renamed.len(),
                    names::MAX_NAME
                ),
                help: None,
                affects: renamed,
            });
        }
        self.dormancy_findings();
    }

    /// The migration items for `items` (sorted by owner), and the workspaces
    /// whose new name is not simply `<old>-<org>`.
    fn migrate(&self, items: &[(&'a Workspace, usize, usize)]) -> (Vec<WorkspaceMigration>, Vec<Affected>) {
        let mut taken: HashMap<&'a str, BTreeSet<String>> = HashMap::new();
        let mut claimed: BTreeSet<&'a str> = BTreeSet::new();
        let mut renamed = Vec::new();
        let mut migrations = Vec::with_capacity(items.len());
        for &(w, i, o) in items {
            let t = self.templates[i].source;
            let names = taken.entry(w.owner_id.as_str()).or_insert_with(|| self.names_of(&w.owner_id));
            let org = &self.orgs[o];
            let existing_new = self.existing_new_workspace(w, self.templates[i].name_in(o), o, &claimed);
            let (workspace_name, name_note, state) = match existing_new {
                Some(x) => {
                    claimed.insert(x.id.as_str());
                    (x.name.clone(), None, MigrationState::NewWorkspaceExists)
                }
                None => {
                    let (n, note) = new_workspace_name(&w.name, &org.name, names);
                    (n, note, MigrationState::Pending)
                }
            };
            if name_note.is_some() {
                renamed.push(workspace_affected(w, self.ix.org_name(&w.organization_id)));
            }
            let owner = self.ix.user_by_id.get(w.owner_id.as_str());
            migrations.push(WorkspaceMigration {
                owner: Owner {
                    user_id: w.owner_id.clone(),
                    username: w.owner_name.clone(),
                    email: owner.map(|u| u.email.clone()).unwrap_or_default(),
                    name: owner.map(|u| u.name.clone()).unwrap_or_default(),
                    status: owner.map(|u| u.status.clone()).unwrap_or_default(),
                    is_service_account: owner.is_some_and(|u| u.is_service_account),
                },
                old: OldWorkspace {
                    workspace_id: w.id.clone(),
                    name: w.name.clone(),
                    org: self.ix.org_name(&w.organization_id).into(),
                    template: t.name.clone(),
                    template_id: t.id.clone(),
                    status: w.latest_build.status.clone(),
                    dormant_at: w.dormant_at.clone(),
                    deleting_at: w.deleting_at.clone(),
                },
                new: NewWorkspace {
                    org: org.name.clone(),
                    template: self.templates[i].name_in(o).to_string(),
                    workspace_name,
                    template_step: self.copy_step_key(i, o),
                    name_note,
                },
                state,
            });
        }
        (migrations, renamed)
    }

    /// The orgs with a copy of template `i`, most of its users first (then by order).
    fn template_home(&self, i: usize) -> Vec<usize> {
        let p = &self.templates[i];
        let mut count: BTreeMap<usize, usize> = BTreeMap::new();
        for u in self.template_users(p.source) {
            for o in self.member_orgs.get(u).into_iter().flatten().filter(|o| p.copies.contains(o)) {
                *count.entry(*o).or_default() += 1;
            }
        }
        let mut home: Vec<(usize, usize)> = count.into_iter().collect();
        home.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        home.into_iter().map(|(o, _)| o).collect()
    }

    /// Say which owners land in more than one new org, and how their workspaces are sent.
    fn several_orgs_finding(&mut self, several: &BTreeMap<&'a str, BTreeSet<usize>>) {
        if several.is_empty() {
            return;
        }
        let mut orgs: BTreeSet<usize> = BTreeSet::new();
        for o in several.values() {
            orgs.extend(o);
        }
        let names: Vec<String> = orgs.iter().map(|&o| format!("`{}`", self.orgs[o].name)).collect();
        let affects = several.keys().map(|u| self.user_affected(u)).collect();
        self.findings.push(Finding {
            code: "workspaces-follow-templates".into(),
            severity: Severity::Info,
            message: format!(
                "{} user(s) whose workspaces move are in more than one new organization ({}): each workspace goes                  where its template goes (an org of its owner that the split lists the template for, else the one                  holding most of the template's users); each migration item and each user's notice name its org",
                several.len(),
                names.join(", ")
            ),
            help: Some("list a shared template under the org its users should move to".into()),
            affects,
        });
    }

    fn copy_step_key(&self, i: usize, o: usize) -> String {
        let p = &self.templates[i];
        p.copies.iter().position(|&c| c == o).and_then(|k| p.copy_steps.get(k)).cloned().unwrap_or_default()
    }

    /// Every name the owner's live workspaces hold, in any org: names are unique per owner.
    fn names_of(&self, owner: &str) -> BTreeSet<String> {
        let ws = self.ix.workspaces_of_user.get(owner).into_iter().flatten();
        ws.filter(|w| !w.is_deleted_or_deleting()).map(|w| w.name.clone()).collect()
    }

    /// The owner's workspace in the target org on the copy, if an earlier run made it.
    fn existing_new_workspace(
        &self,
        w: &Workspace,
        copy: &str,
        o: usize,
        claimed: &BTreeSet<&str>,
    ) -> Option<&'a Workspace> {
        let org = self.orgs[o].existing?;
        let base = names::normalize(&format!("{}-{}", w.name, self.orgs[o].name), names::MAX_NAME);
        let mut found: Vec<&'a Workspace> = self
            .ix
            .workspaces_of_user
            .get(w.owner_id.as_str())?
            .iter()
            .filter(|x| x.organization_id == org.id && x.template_name == copy && !x.is_deleted_or_deleting())
            .filter(|x| !claimed.contains(x.id.as_str()) && x.name.starts_with(&base))
            .copied()
            .collect();
        found.sort_by_key(|x| (x.name != base, x.name.clone()));
        found.first().copied()
    }

    fn dormancy_findings(&mut self) {
        let mut by_template: BTreeMap<&str, Vec<&WorkspaceMigration>> = BTreeMap::new();
        for m in &self.migrations {
            by_template.entry(m.old.template_id.as_str()).or_default().push(m);
        }
        let mut findings = Vec::new();
        for p in &self.templates {
            let t = p.source;
            let Some(items) = by_template.get(t.id.as_str()) else { continue };
            if t.settings.time_til_dormant_autodelete_ms <= 0 {
                continue;
            }
            let dormant: Vec<&&WorkspaceMigration> = items.iter().filter(|m| m.old.dormant_at.is_some()).collect();
            let deleting = items.iter().filter(|m| m.old.deleting_at.is_some()).count();
            let mut affects = vec![self.template_affected(t)];
            affects.extend(dormant.iter().map(|m| Affected {
                kind: "workspace".into(),
                org: Some(m.old.org.clone()),
                name: format!("{}/{}", m.owner.username, m.old.name),
                id: Some(m.old.workspace_id.clone()),
            }));
            let org = self.ix.org_name(&t.organization_id);
            findings.push(Finding {
                code: "dormancy-auto-delete".into(),
                severity: Severity::Risk,
                message: format!(
                    "`{}` marks workspaces dormant after {} idle and deletes them {} later: {} of the {} workspaces to \
                     migrate from it are dormant already ({deleting} scheduled for deletion); any left idle could be \
                     deleted before their owners have copied their files (deadline {})",
                    t.name,
                    days(t.settings.time_til_dormant_ms),
                    days(t.settings.time_til_dormant_autodelete_ms),
                    dormant.len(),
                    items.len(),
                    if self.split.migration.deadline.is_empty() { "not set" } else { &self.split.migration.deadline }
                ),
                help: Some(format!(
                    "turn auto-deletion off on the old template until the migration is over: \
                     `coder templates edit --dormancy-auto-deletion 0 -O {} -y -- {}`",
                    shell_word(org),
                    shell_word(&t.name)
                )),
                affects,
            });
        }
        self.findings.extend(findings);
    }
}

fn days(ms: i64) -> String {
    if ms <= 0 {
        "never".into()
    } else if ms % DAY_MS == 0 {
        format!("{} days", ms / DAY_MS)
    } else {
        format!("{:.1} days", ms as f64 / DAY_MS as f64)
    }
}

impl<'a> Builder<'a, '_> {
    /// A shared workspace that moves: its shares stay on the old workspace
    /// (the new one starts unshared, and groups belong to one org), so every
    /// user it is shared with, directly or through a group, loses access;
    /// those who are not members of the new org cannot be given it back.
    fn share_findings(&mut self, w: &'a Workspace, o: usize) {
        let Some(shares) = w.shares.as_ref().filter(|s| !s.users.is_empty() || !s.groups.is_empty()) else {
            return;
        };
        let mut users: BTreeSet<&str> = shares.users.iter().map(|e| e.id.as_str()).collect();
        let mut groups = Vec::new();
        for g in &shares.groups {
            match self.ix.group_by_id.get(g.id.as_str()) {
                Some(group) => {
                    groups.push(format!("`{}`", group.name));
                    if group.is_everyone() {
                        users.extend(self.ix.members_of_org.get(group.organization_id.as_str()).into_iter().flatten());
                    } else {
                        users.extend(group.members.iter().map(String::as_str));
                    }
                }
                None => groups.push(format!("`{}`", g.id)),
            }
        }
        users.remove(w.owner_id.as_str());
        let org = self.orgs[o].name.clone();
        let outside: Vec<&str> = users.iter().copied().filter(|u| !self.members[o].contains_key(u)).collect();
        let name = |u: &str| format!("`{}`", self.ix.username(u));
        let mut message = format!(
            "workspace `{}/{}` is shared with {} user(s){}; its new workspace in `{org}` starts unshared, so they \
             lose access to it",
            w.owner_name,
            w.name,
            users.len(),
            if groups.is_empty() { String::new() } else { format!(" (through group(s) {})", groups.join(", ")) },
        );
        if !outside.is_empty() {
            message.push_str(&format!(
                "; {} of them are not members of `{org}` and cannot be given it back: {}",
                outside.len(),
                outside.iter().map(|u| name(u)).collect::<Vec<_>>().join(", ")
            ));
        }
        let mut affects = vec![workspace_affected(w, self.ix.org_name(&w.organization_id))];
        affects.extend(users.iter().map(|u| self.user_affected(u)));
        self.findings.push(Finding {
            code: "shared-workspace-loses-access".into(),
            severity: Severity::Warning,
            message,
            help: Some(format!(
                "share the new workspace again in `{org}` (with its members or groups), or move those users too"
            )),
            affects,
        });
    }
}

fn workspace_affected(w: &Workspace, org: &str) -> Affected {
    Affected {
        kind: "workspace".into(),
        org: Some(org.into()),
        name: format!("{}/{}", w.owner_name, w.name),
        id: Some(w.id.clone()),
    }
}
