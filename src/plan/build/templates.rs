//! Templates: which org gets a copy of which template (shared templates are
//! duplicated or kept, as the split says), the re-creation steps with every
//! setting and the ACL by new names, and deprecations, which happen only
//! when every user of the old template can use a copy.

use std::collections::{BTreeMap, BTreeSet};

use super::Builder;
use crate::model::Template;
use crate::plan::access::is_site_template_admin;
use crate::plan::names::{MessageValues, fill_message};
use crate::plan::{
    Action, Affected, DeprecationSpec, Finding, Replacement, Severity, StepSpec, TemplateMeta, TemplateSource,
    TemplateSpec,
};
use crate::split::SharedTemplates;

pub(in crate::plan) struct TemplatePlan<'a> {
    pub source: &'a Template,
    /// Orgs the split lists it for.
    pub explicit: Vec<usize>,
    /// Orgs that get a copy (explicit ones and, when duplicating, those of other users), ascending.
    pub copies: Vec<usize>,
    /// Keys of the copies' steps, in the order of `copies`.
    pub copy_steps: Vec<String>,
    /// The copies' names, in the order of `copies`: the source's name unless
    /// another copy in that org has it or Coder would refuse it (`name_copies`).
    pub names: Vec<String>,
    pub deprecated: bool,
}

impl TemplatePlan<'_> {
    /// The name of the copy in org `o`.
    pub fn name_in(&self, o: usize) -> &str {
        self.copies.iter().position(|&c| c == o).and_then(|k| self.names.get(k)).map_or(&self.source.name, |n| n)
    }
}

/// Every setting of a template, as a PATCH must send it.
pub fn settings_of(t: &Template) -> TemplateMeta {
    TemplateMeta {
        display_name: t.display_name.clone(),
        description: t.description.clone(),
        icon: t.icon.clone(),
        settings: t.settings.clone(),
        disable_everyone_group_access: t
            .acl
            .as_ref()
            .is_some_and(|a| !a.group.iter().any(|g| g.id == t.organization_id)),
    }
}

impl<'a> Builder<'a, '_> {
    /// Owners of its live workspaces and everyone its ACL grants (the Everyone group aside).
    pub(super) fn template_users(&self, t: &Template) -> BTreeSet<&'a str> {
        let mut users: BTreeSet<&'a str> = self
            .ix
            .workspaces_of_template
            .get(t.id.as_str())
            .into_iter()
            .flatten()
            .filter(|w| !w.is_deleted_or_deleting())
            .filter_map(|w| self.ix.user_by_id.get(w.owner_id.as_str()).map(|u| u.id.as_str()))
            .collect();
        for e in t.acl.iter().flat_map(|a| &a.users) {
            users.extend(self.ix.user_by_id.get(e.id.as_str()).map(|u| u.id.as_str()));
        }
        for e in t.acl.iter().flat_map(|a| &a.group) {
            if let Some(g) = self.ix.group_by_id.get(e.id.as_str()).filter(|g| !g.is_everyone()) {
                users
                    .extend(g.members.iter().filter_map(|u| self.ix.user_by_id.get(u.as_str()).map(|u| u.id.as_str())));
            }
        }
        users
    }

    fn orgs_of(&self, user: &str) -> &[usize] {
        self.member_orgs.get(user).map(Vec::as_slice).unwrap_or(&[])
    }

    pub(super) fn plan_templates(&mut self) {
        let mut listed: BTreeMap<(&'a str, &'a str, &'a str), (&'a Template, Vec<usize>)> = BTreeMap::new();
        for (o, t) in self.orgs.iter().enumerate() {
            for x in &t.templates {
                let key = (self.ix.org_name(&x.organization_id), x.name.as_str(), x.id.as_str());
                listed.entry(key).or_insert((*x, Vec::new())).1.push(o);
            }
        }
        for (_, (t, explicit)) in listed {
            let users = self.template_users(t);
            let mut others: BTreeSet<usize> = BTreeSet::new();
            let mut sharing = Vec::new();
            for u in &users {
                let orgs = self.orgs_of(u);
                if !orgs.is_empty() && !orgs.iter().any(|o| explicit.contains(o)) {
                    others.extend(orgs.iter().copied());
                    sharing.push(*u);
                }
            }
            let duplicate = self.split.migration.shared_templates == SharedTemplates::Duplicate;
            let mut copies: BTreeSet<usize> = explicit.iter().copied().collect();
            if duplicate {
                copies.extend(&others);
            }
            if !sharing.is_empty() {
                self.shared_finding(t, &explicit, &others, &sharing, duplicate);
            }
            let left: Vec<&'a str> = users
                .iter()
                .filter(|u| !self.orgs_of(u).iter().any(|o| copies.contains(o)))
                .filter(|u| !self.is_site_admin_without_workspace(u, t))
                .copied()
                .collect();
            let deprecated = left.is_empty();
            if !left.is_empty() {
                self.left_behind_finding(t, &copies, &left);
            }
            let copies: Vec<usize> = copies.into_iter().collect();
            let names = copies.iter().map(|_| t.name.clone()).collect();
            self.templates.push(TemplatePlan {
                source: t,
                explicit,
                copies,
                copy_steps: Vec::new(),
                names,
                deprecated,
            });
        }
        self.name_copies();
    }

    fn is_site_admin_without_workspace(&self, user: &str, t: &Template) -> bool {
        let admin = self.ix.user_by_id.get(user).is_some_and(|u| is_site_template_admin(&u.roles));
        let has_workspace = self
            .ix
            .workspaces_of_user
            .get(user)
            .is_some_and(|ws| ws.iter().any(|w| w.template_id == t.id && !w.is_deleted_or_deleting()));
        admin && !has_workspace
    }

    pub(super) fn template_affected(&self, t: &Template) -> Affected {
        Affected {
            kind: "template".into(),
            org: Some(self.ix.org_name(&t.organization_id).into()),
            name: t.name.clone(),
            id: Some(t.id.clone()),
        }
    }

    fn shared_finding(
        &mut self,
        t: &Template,
        explicit: &[usize],
        others: &BTreeSet<usize>,
        sharing: &[&'a str],
        duplicate: bool,
    ) {
        let names = |os: &mut dyn Iterator<Item = &usize>| {
            os.map(|&o| format!("`{}`", self.orgs[o].name)).collect::<Vec<_>>().join(", ")
        };
        let home = names(&mut explicit.iter());
        let other = names(&mut others.iter());
        let what = if duplicate {
            format!("it is re-created in {other} too (`shared_templates = \"duplicate\"`)")
        } else {
            "it stays usable in the default org for them and is not deprecated (`shared_templates = \"keep-in-default\"`)"
                .to_string()
        };
        let mut affects = vec![self.template_affected(t)];
        affects.extend(sharing.iter().map(|u| self.user_affected(u)));
        self.findings.push(Finding {
            code: "shared-template".into(),
            severity: Severity::Warning,
            message: format!(
                "`{}` goes to {home}, but {} of its users are in {other} instead: {what}",
                t.name,
                sharing.len()
            ),
            help: Some("list it under one org only, or switch `shared_templates` if that is not what you want".into()),
            affects,
        });
    }

    fn left_behind_finding(&mut self, t: &Template, copies: &BTreeSet<usize>, left: &[&'a str]) {
        let with_workspaces = left
            .iter()
            .filter(|u| {
                self.ix
                    .workspaces_of_user
                    .get(**u)
                    .is_some_and(|ws| ws.iter().any(|w| w.template_id == t.id && !w.is_deleted_or_deleting()))
            })
            .count();
        let orgs: Vec<String> = copies.iter().map(|&o| format!("`{}`", self.orgs[o].name)).collect();
        let mut affects = vec![self.template_affected(t)];
        affects.extend(left.iter().map(|u| self.user_affected(u)));
        self.findings.push(Finding {
            code: "users-left-behind".into(),
            severity: Severity::Warning,
            message: format!(
                "{} user(s) of `{}` ({with_workspaces} with workspaces on it) end up in no org that gets a copy ({}): \
                 it is not deprecated, so they keep using it",
                left.len(),
                t.name,
                orgs.join(", ")
            ),
            help: Some("add them to one of those orgs (`users = [...]`) for the template to be deprecated".into()),
            affects,
        });
    }

    pub(super) fn template_steps(&mut self) {
        for i in 0..self.templates.len() {
            let copies = self.templates[i].copies.clone();
            let keys: Vec<String> = copies.iter().map(|&o| self.copy_step(i, o)).collect();
            self.templates[i].copy_steps = keys;
            if self.templates[i].deprecated {
                self.deprecation_step(i);
            }
        }
        self.provisioner_findings();
    }

    fn deprecation_step(&mut self, i: usize) {
        let p = &self.templates[i];
        let t = p.source;
        let mut replacements: Vec<(bool, Replacement)> = p
            .copies
            .iter()
            .zip(&p.copy_steps)
            .map(|(&o, step)| {
                (
                    !p.explicit.contains(&o),
                    Replacement {
                        org: self.orgs[o].name.clone(),
                        org_display_name: self.orgs[o].display_name.clone(),
                        template: p.name_in(o).to_string(),
                        step: step.clone(),
                    },
                )
            })
            .collect();
        // The orgs the split names for it first: that is where it "moved".
        replacements.sort_by(|a, b| (a.0, &a.1.org).cmp(&(b.0, &b.1.org)));
        let replacements: Vec<Replacement> = replacements.into_iter().map(|(_, r)| r).collect();
        let m = &self.split.migration;
        // One destination: the template's message is shown to all its users,
        // so it names the org the split lists it for (the first, by name);
        // the replacements list every copy, and each user's notice names theirs.
        let orgs: Vec<String> = replacements.iter().take(1).map(|r| r.org.clone()).collect();
        let displays: Vec<String> = replacements.iter().take(1).map(|r| r.org_display_name.clone()).collect();
        let new_template = replacements.first().map_or(t.name.clone(), |r| r.template.clone());
        let message = fill_message(
            &m.deprecation_message,
            &MessageValues {
                orgs: &orgs,
                org_display_names: &displays,
                template: &t.name,
                new_template: &new_template,
                wiki: &m.wiki,
                deadline: &m.deadline,
            },
        );
        // Someone else's deprecation message is never replaced: it is theirs to change.
        if t.deprecated && t.deprecation_message != message {
            self.templates[i].deprecated = false;
            self.findings.push(Finding {
                code: "template-already-deprecated".into(),
                severity: Severity::Info,
                message: format!(
                    "`{}` is already deprecated with another message (\"{}\"): it is re-created, and its message is left as it is",
                    t.name, t.deprecation_message
                ),
                help: Some("change the message by hand if it should point to the new organization".into()),
                affects: vec![self.template_affected(t)],
            });
            return;
        }
        let (action, changes) = if t.deprecated {
            (Action::NoOp, vec!["already deprecated with this message".into()])
        } else {
            (Action::Update, vec![format!("deprecate: \"{message}\"")])
        };
        let deps = p.copy_steps.clone();
        let spec = DeprecationSpec {
            template_id: t.id.clone(),
            template_name: t.name.clone(),
            template_display_name: t.display_name.clone(),
            message,
            replacements,
            settings: settings_of(t),
        };
        let org = self.ix.org_name(&t.organization_id).to_string();
        self.push(Some(&org), &t.name, action, deps, changes, StepSpec::Deprecation(spec));
    }

    fn copy_step(&mut self, i: usize, o: usize) -> String {
        let t = self.templates[i].source;
        let name = self.templates[i].name_in(o).to_string();
        let org = self.orgs[o].name.clone();
        let (acl, deps) = self.grants(t, o);
        let version = self.ix.version_by_id.get(t.active_version_id.as_str());
        let spec = TemplateSpec {
            name: name.clone(),
            source: TemplateSource {
                template_id: t.id.clone(),
                org: self.ix.org_name(&t.organization_id).into(),
                name: t.name.clone(),
                active_version_id: t.active_version_id.clone(),
                active_version_name: version.map(|v| v.name.clone()).unwrap_or_default(),
                file_id: version.map(|v| v.job.file_id.clone()).unwrap_or_default(),
                provisioner: t.provisioner.clone(),
                provisioner_tags: version.map(|v| v.job.tags.clone()).unwrap_or_default(),
                generated: None,
            },
            provisioner_tags: self.orgs[o].spec.provisioner_tags.clone(),
            // Created without Coder's default `Everyone: use` unless the copy grants it.
            settings: TemplateMeta {
                disable_everyone_group_access: !acl.groups.contains_key("Everyone"),
                display_name: crate::model::names::valid_display_name(&t.display_name),
                ..settings_of(t)
            },
            acl,
        };
        if version.is_none_or(|v| v.job.file_id.is_empty()) {
            self.findings.push(Finding {
                code: "template-source-unknown".into(),
                severity: Severity::Risk,
                message: format!(
                    "the snapshot does not hold the active version of `{}`, so its source archive is unknown",
                    t.name
                ),
                help: Some("export `/templateversions/{id}` of its active version and import again".into()),
                affects: vec![self.template_affected(t)],
            });
        }
        if spec.settings.display_name != t.display_name {
            self.findings.push(Finding {
                code: "template-name-adjusted".into(),
                severity: Severity::Warning,
                message: format!(
                    "the copy of `{}` in `{org}` gets the display name \"{}\": Coder refuses \"{}\" ({})",
                    t.name,
                    spec.settings.display_name,
                    t.display_name.escape_debug(),
                    crate::model::names::display_name_problem(&t.display_name).unwrap_or_default()
                ),
                help: Some("change the display name on the copy after apply if you want another".into()),
                affects: vec![self.template_affected(t)],
            });
        }
        let (action, changes) = self.copy_action(o, &spec);
        self.push(Some(&org), &name, action, deps, changes, StepSpec::Template(spec))
    }
}
