//! A copy's access list (the old one by new names), copies that already
//! exist (a second run after apply), and the provisioners copies need.

use std::collections::{BTreeMap, BTreeSet};

use super::Builder;
use super::templates::settings_of;
use crate::model::Template;
use crate::plan::{
    Action, Affected, Finding, Severity, StepSpec, TemplateGrants, TemplateMeta, TemplateSpec, UserGrant, step_key,
};

/// Each setting that differs, as "name: was -> now".
fn setting_changes(was: &TemplateMeta, now: &TemplateMeta) -> Vec<String> {
    let (a, b) = (serde_json::to_value(was).unwrap_or_default(), serde_json::to_value(now).unwrap_or_default());
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return vec!["settings".into()] };
    b.iter()
        .filter(|(k, v)| a.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {} -> {v}", a.get(k).unwrap_or(&v.clone())))
        .collect()
}

impl<'a> Builder<'a, '_> {
    pub(super) fn copy_action(&self, o: usize, spec: &TemplateSpec) -> (Action, Vec<String>) {
        let Some(org) = self.orgs[o].existing else {
            return (Action::Create, vec![format!("re-create from `{}/{}`", spec.source.org, spec.name)]);
        };
        let Some(existing) = self.s.templates.iter().find(|t| t.organization_id == org.id && t.name == spec.name)
        else {
            return (Action::Create, vec![format!("re-create from `{}/{}`", spec.source.org, spec.name)]);
        };
        let mut changes = setting_changes(&settings_of(existing), &spec.settings);
        if let Some(acl) = &existing.acl {
            for (name, role) in &spec.acl.groups {
                let id = if name == "Everyone" {
                    Some(org.id.as_str())
                } else {
                    self.s.groups.iter().find(|g| g.organization_id == org.id && &g.name == name).map(|g| g.id.as_str())
                };
                if !id.is_some_and(|id| acl.group.iter().any(|e| e.id == id && &e.role == role)) {
                    changes.push(format!("grant group `{name}` {role}"));
                }
            }
            for g in &spec.acl.users {
                if !acl.users.iter().any(|e| e.id == g.user.user_id && e.role == g.role) {
                    changes.push(format!("grant `{}` {}", g.user.username, g.role));
                }
            }
        }
        if changes.is_empty() { (Action::NoOp, vec!["exists as wanted".into()]) } else { (Action::Update, changes) }
    }

    /// A copy only builds once a provisioner serving its org (with matching
    /// tags) runs: say which key to start where, or that there is none.
    pub(super) fn provisioner_findings(&mut self) {
        let mut waiting: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for s in &self.steps {
            if let (StepSpec::Template(t), Some(org)) = (&s.spec, &s.org)
                && s.action != Action::NoOp
                && let Some(o) = self.orgs.iter().position(|x| &x.name == org)
            {
                waiting.entry(o).or_default().push(t.name.clone());
            }
        }
        let starts: BTreeMap<&str, String> = self
            .steps
            .iter()
            .filter_map(|s| match (&s.spec, &s.org) {
                (StepSpec::ProvisionerKey(k), Some(org)) => Some((org.as_str(), k.start_command.clone())),
                _ => None,
            })
            .collect();
        let mut findings = Vec::new();
        for (o, templates) in waiting {
            let t = &self.orgs[o];
            let org_affected = Affected { kind: "organization".into(), org: None, name: t.name.clone(), id: None };
            match &t.key {
                Some(key) => {
                    let start = starts.get(t.name.as_str()).cloned().unwrap_or_default();
                    findings.push(Finding {
                        code: "provisioner-needed".into(),
                        severity: Severity::Warning,
                        message: format!(
                            "the {} template(s) re-created in `{}` ({}) build only once a provisioner started with key \
                             `{key}` is running: until then their versions wait",
                            templates.len(),
                            t.name,
                            templates.join(", ")
                        ),
                        help: Some(format!(
                            "after the key is created, have the team run, where their infrastructure is: {start} \
                             (KEY is the secret the create command printed)"
                        )),
                        affects: vec![
                            org_affected,
                            Affected {
                                kind: "provisioner-key".into(),
                                org: Some(t.name.clone()),
                                name: key.clone(),
                                id: None,
                            },
                        ],
                    });
                }
                None => {
                    let served = t.existing.is_some_and(|e| {
                        self.s.provisioner_keys.iter().any(|k| {
                            k.organization == e.id
                                && t.spec.provisioner_tags.iter().all(|(n, v)| k.tags.get(n) == Some(v))
                        })
                    });
                    if !served {
                        findings.push(Finding {
                            code: "no-provisioner-key".into(),
                            severity: Severity::Risk,
                            message: format!(
                                "`{}` gets templates ({}) but has no provisioner key with tags {:?} and the split creates \
                                 none: their versions would wait forever",
                                t.name,
                                templates.join(", "),
                                t.spec.provisioner_tags
                            ),
                            help: Some("remove `provisioner_key = \"\"` so the plan creates one".into()),
                            affects: vec![org_affected],
                        });
                    }
                }
            }
        }
        self.findings.extend(findings);
    }

    /// The copy's ACL by names in the new org, and the steps it needs first.
    pub(super) fn grants(&mut self, t: &Template, o: usize) -> (TemplateGrants, Vec<String>) {
        let org = self.orgs[o].name.clone();
        let mut deps = vec![self.org_key(o)];
        deps.extend(self.orgs[o].key.as_ref().map(|k| step_key(Some(&org), "provisioner-key", k)));
        let copied: BTreeSet<&str> = self.orgs[o].groups.iter().map(|g| g.name.as_str()).collect();
        let mut grants = TemplateGrants::default();
        let mut dropped = Vec::new();
        match &t.acl {
            // Unknown (not exported, or --skip-acls): the old template may have
            // been open to all or to two groups. Never guess Everyone: the
            // copy gets the groups the split moves here that hold people who
            // use the template, and those people (below); the admin decides
            // the rest (`acl-unknown`).
            None => {
                let users = self.template_users(t);
                let mut granted = Vec::new();
                for g in &self.orgs[o].groups {
                    if g.members.iter().any(|m| users.contains(m.as_str())) {
                        grants.groups.insert(g.name.clone(), "use".into());
                        deps.push(step_key(Some(&org), "group", &g.name));
                        granted.push(format!("`{}`", g.name));
                    }
                }
                self.findings.push(Finding {
                    code: "acl-unknown".into(),
                    severity: Severity::Risk,
                    message: format!(
                        "the access list of `{}` is unknown (not in the export, or --skip-acls), so its copy in `{org}` \
                         is not opened to everyone there: it grants `use` only to {} and to the people who use the \
                         template now",
                        t.name,
                        if granted.is_empty() { "no group".to_string() } else { format!("group(s) {}", granted.join(", ")) }
                    ),
                    help: Some(
                        "import again with the template's ACL (GET /api/v2/templates/{id}/acl; without --skip-acls) to \
                         copy it exactly, or grant more on the copy after apply"
                            .into(),
                    ),
                    affects: vec![
                        self.template_affected(t),
                        Affected { kind: "organization".into(), org: None, name: org.clone(), id: None },
                    ],
                });
            }
            Some(acl) => {
                for e in &acl.group {
                    let Some(g) = self.ix.group_by_id.get(e.id.as_str()) else { continue };
                    if g.is_everyone() {
                        grants.groups.insert("Everyone".into(), e.role.clone());
                    } else if copied.contains(g.name.as_str()) {
                        grants.groups.insert(g.name.clone(), e.role.clone());
                        deps.push(step_key(Some(&org), "group", &g.name));
                    } else {
                        dropped.push((
                            format!("group `{}` ({})", g.name, e.role),
                            Affected {
                                kind: "group".into(),
                                org: Some(self.ix.org_name(&g.organization_id).into()),
                                name: g.name.clone(),
                                id: Some(g.id.clone()),
                            },
                        ));
                    }
                }
                for e in &acl.users {
                    if let Some(key) = self.member_key(o, &e.id) {
                        grants.users.push(UserGrant { user: self.user_ref(&e.id), role: e.role.clone() });
                        deps.push(key);
                    } else {
                        dropped
                            .push((format!("`{}` ({})", self.ix.username(&e.id), e.role), self.user_affected(&e.id)));
                    }
                }
            }
        }
        // Everyone who uses the old template and moves here must be able to use the copy.
        if !grants.groups.contains_key("Everyone") {
            let granted_groups: Vec<&'a crate::model::Group> =
                self.orgs[o].groups.iter().filter(|g| grants.groups.contains_key(&g.name)).copied().collect();
            for u in self.template_users(t) {
                let covered = grants.users.iter().any(|g| g.user.user_id == u)
                    || granted_groups.iter().any(|g| g.members.iter().any(|m| m == u));
                if !covered && let Some(key) = self.member_key(o, u) {
                    grants.users.push(UserGrant { user: self.user_ref(u), role: "use".into() });
                    deps.push(key);
                }
            }
        }
        grants.users.sort_by(|a, b| a.user.username.cmp(&b.user.username));
        grants.users.dedup_by(|a, b| a.user.user_id == b.user.user_id);
        if !dropped.is_empty() {
            let (what, mut affects): (Vec<String>, Vec<Affected>) = dropped.into_iter().unzip();
            affects.insert(0, self.template_affected(t));
            self.findings.push(Finding {
                code: "acl-grant-not-carried".into(),
                severity: Severity::Info,
                message: format!(
                    "the copy of `{}` in `{org}` cannot grant {}: not in that org (site owners and template admins keep access everywhere)",
                    t.name,
                    what.join(", ")
                ),
                help: Some(format!("add them to `{org}` (`groups` or `users`) if they should manage or use the copy")),
                affects,
            });
        }
        (grants, deps)
    }
}
