//! Org-level steps: the organization, its provisioner key, its custom roles,
//! and IdP organization, group and role sync.

use std::collections::{BTreeMap, BTreeSet};

use super::Builder;
use crate::model::Permission;
use crate::plan::{
    Action, Affected, CustomRoleSpec, Finding, GroupSyncSpec, OrganizationSpec, OrganizationSyncSpec,
    ProvisionerKeySpec, RoleSyncSpec, Severity, StepSpec, step_key,
};

/// The deployment's address (see `Snapshot::deployment_url`), empty when unknown.
pub fn deployment_url(s: &crate::model::Snapshot) -> String {
    s.deployment_url().unwrap_or_default()
}

/// A word for the shell: quoted when it needs to be. Names in a command go
/// after `--` as well (the coder CLI's flag parser stops there), so a name
/// that begins with `-` is never read as a flag.
pub fn shell_word(s: &str) -> String {
    shlex::try_quote(s).map(|q| q.into_owned()).unwrap_or_else(|_| format!("'{}'", s.replace(['\'', '\0'], "")))
}

fn sorted(mut p: Vec<Permission>) -> Vec<Permission> {
    p.sort();
    p.dedup();
    p
}

impl<'a> Builder<'a, '_> {
    pub(super) fn org_steps(&mut self) {
        for o in 0..self.orgs.len() {
            let t = &self.orgs[o];
            let mut default_member_roles = t
                .spec
                .default_member_roles
                .clone()
                .or_else(|| self.s.default_organization().and_then(|d| d.default_org_member_roles.clone()));
            if let Some(roles) = &mut default_member_roles {
                roles.sort();
                roles.dedup();
            }
            let source_sharing = self.s.default_organization().and_then(|d| d.shareable_workspace_owners.clone());
            let mut workspace_sharing =
                t.spec.workspace_sharing.map(|w| w.as_str().to_string()).or_else(|| source_sharing.clone());
            // Turning sharing off deletes every share in the org (v2.30.0's
            // PATCH settings/workspace-sharing does): never on an org that
            // already exists, which may hold shared workspaces.
            if let (Some(e), Some("none")) = (t.existing, workspace_sharing.as_deref())
                && e.shareable_workspace_owners.as_deref() != Some("none")
            {
                workspace_sharing = None;
                self.findings.push(Finding {
                    code: "workspace-sharing-left-on".into(),
                    severity: Severity::Warning,
                    message: format!(
                        "organization `{}` already exists and lets workspaces be shared; the plan does not turn \
                         sharing off there, because Coder then deletes every share in the org",
                        t.name
                    ),
                    help: Some(format!(
                        "turn it off yourself once its shares are no longer needed: `PATCH \
                         /api/v2/organizations/{}/settings/workspace-sharing` with `{{\"sharing_disabled\": true}}`",
                        e.name
                    )),
                    affects: vec![Affected {
                        kind: "organization".into(),
                        org: None,
                        name: t.name.clone(),
                        id: Some(e.id.clone()),
                    }],
                });
            }
            let spec = OrganizationSpec {
                name: t.name.clone(),
                display_name: t.display_name.clone(),
                description: t.spec.description.clone(),
                icon: t.spec.icon.clone(),
                default_member_roles,
                workspace_sharing,
            };
            let (action, changes) = match t.existing {
                None => (Action::Create, vec![format!("create organization `{}`", t.name)]),
                Some(e) => {
                    let mut changes = Vec::new();
                    for (field, was, now) in [
                        ("display name", &e.display_name, &spec.display_name),
                        ("description", &e.description, &spec.description),
                        ("icon", &e.icon, &spec.icon),
                    ] {
                        if was != now {
                            changes.push(format!("{field}: `{was}` -> `{now}`"));
                        }
                    }
                    if let Some(now) = &spec.workspace_sharing {
                        let was = e.shareable_workspace_owners.as_deref();
                        if was != Some(now.as_str()) {
                            changes.push(format!("workspace sharing: {} -> {now}", was.unwrap_or("unknown")));
                        }
                    }
                    if let Some(now) = &spec.default_member_roles {
                        let mut was = e.default_org_member_roles.clone();
                        if let Some(w) = &mut was {
                            w.sort();
                        }
                        if was.as_ref() != Some(now) {
                            let was = was.map_or("unknown".to_string(), |w| format!("[{}]", w.join(", ")));
                            changes.push(format!("default member roles: {was} -> [{}]", now.join(", ")));
                        }
                    }
                    self.findings.push(Finding {
                        code: "org-exists".into(),
                        severity: Severity::Warning,
                        message: format!(
                            "organization `{}` already exists: its steps update it, never recreate it",
                            t.name
                        ),
                        help: Some("if it is not from an earlier run of this plan, pick another name".into()),
                        affects: vec![Affected {
                            kind: "organization".into(),
                            org: None,
                            name: t.name.clone(),
                            id: Some(e.id.clone()),
                        }],
                    });
                    if changes.is_empty() {
                        (Action::NoOp, vec!["exists as wanted".into()])
                    } else {
                        (Action::Update, changes)
                    }
                }
            };
            let name = self.orgs[o].name.clone();
            let org_key = self.push(Some(&name), &name, action, vec![], changes, StepSpec::Organization(spec));
            self.key_step(o, &org_key);
            self.custom_role_steps(o, &org_key);
        }
    }

    fn key_step(&mut self, o: usize, org_key: &str) {
        let t = &self.orgs[o];
        let Some(key) = t.key.clone() else { return };
        let org = t.name.clone();
        let tags = t.spec.provisioner_tags.clone();
        let mut create = format!("coder provisioner keys create --org {}", shell_word(&org));
        for (k, v) in &tags {
            create.push_str(&format!(" --tag {}", shell_word(&format!("{k}={v}"))));
        }
        create.push_str(&format!(" -- {}", shell_word(&key)));
        let url = deployment_url(self.s);
        // Without a known URL the command takes CODER_URL from the environment rather than invent one.
        let coder_url = if url.is_empty() { String::new() } else { format!("CODER_URL={} ", shell_word(&url)) };
        let start = format!("{coder_url}CODER_PROVISIONER_DAEMON_KEY=\"$KEY\" coder provisioner start");
        let existing =
            t.existing.and_then(|e| self.s.provisioner_keys.iter().find(|k| k.organization == e.id && k.name == key));
        let (action, changes) = match existing {
            None => (Action::Create, vec![format!("create key `{key}`; the team starts a provisioner with it")]),
            Some(k) if k.tags == tags => (Action::NoOp, vec!["exists with these tags".into()]),
            Some(k) => {
                self.findings.push(Finding {
                    code: "provisioner-key-tags-differ".into(),
                    severity: Severity::Risk,
                    message: format!(
                        "provisioner key `{key}` of `{org}` exists with tags {:?}, not {:?}: keys cannot be changed, \
                         and templates built with the new tags would wait for a matching provisioner",
                        k.tags, tags
                    ),
                    help: Some("set `provisioner_key` to a new name, or make `provisioner_tags` match the key".into()),
                    affects: vec![Affected {
                        kind: "provisioner-key".into(),
                        org: Some(org.clone()),
                        name: key.clone(),
                        id: Some(k.id.clone()),
                    }],
                });
                (Action::NoOp, vec!["exists, with other tags (see findings)".into()])
            }
        };
        let spec = ProvisionerKeySpec { name: key.clone(), tags, create_command: create, start_command: start };
        self.push(Some(&org), &key, action, vec![org_key.to_string()], changes, StepSpec::ProvisionerKey(spec));
    }

    fn custom_role_steps(&mut self, o: usize, org_key: &str) {
        let t = &self.orgs[o];
        let org = t.name.clone();
        let mut steps = Vec::new();
        for def in &t.custom_roles {
            let wanted = sorted(def.permissions.clone());
            let existing = t
                .existing
                .and_then(|e| self.s.custom_roles.iter().find(|r| r.organization_id == e.id && r.name == def.name));
            let (action, changes) = match existing {
                None => (Action::Create, vec![format!("create role `{}`", def.name)]),
                Some(r)
                    if sorted(r.organization_permissions.clone()) == wanted && r.display_name == def.display_name =>
                {
                    (Action::NoOp, vec!["exists with these permissions".into()])
                }
                Some(_) => (Action::Update, vec!["set its permissions to the split's".into()]),
            };
            let spec = CustomRoleSpec {
                name: def.name.clone(),
                display_name: def.display_name.clone(),
                organization_permissions: wanted,
                organization_member_permissions: Vec::new(),
            };
            steps.push((def.name.clone(), action, changes, spec));
        }
        for (name, action, changes, spec) in steps {
            self.push(Some(&org), &name, action, vec![org_key.to_string()], changes, StepSpec::CustomRole(spec));
        }
    }

    /// One deployment-wide step adding the split's claim -> org entries.
    /// `assign_default` is kept on: turning it off would take OIDC users out
    /// of the default org, where their old workspaces still are.
    pub(super) fn org_sync_step(&mut self) {
        let wants: Vec<usize> =
            (0..self.orgs.len()).filter(|&o| !self.orgs[o].spec.org_sync_claims.is_empty()).collect();
        let Some(field) = self.org_sync_field.clone() else { return };
        if wants.is_empty() && self.split.org_sync.is_none() {
            return;
        }
        let existing = self.s.idp_sync.organization.as_ref().filter(|o| !o.field.is_empty());
        let asked = self.split.org_sync.as_ref().map(|o| o.assign_default);
        let was = existing.map(|e| e.organization_assign_default);
        if asked == Some(false) {
            self.findings.push(Finding {
                code: "org-sync-assign-default-kept".into(),
                severity: Severity::Risk,
                message:
                    "the split turns `assign_default` off; the plan keeps it on: without it, OIDC users leave the \
                          default organization at their next login, where their old workspaces still are"
                        .into(),
                help: Some(
                    "turn it off after the migration, once nobody has workspaces left in the default org".into(),
                ),
                affects: vec![],
            });
        }
        let mut add: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut deps = Vec::new();
        for o in wants {
            let t = &self.orgs[o];
            for claim in &t.spec.org_sync_claims {
                let there = match (existing, t.existing) {
                    (Some(e), Some(org)) => e.mapping.get(claim).is_some_and(|ids| ids.contains(&org.id)),
                    _ => false,
                };
                if !there {
                    add.entry(claim.clone()).or_default().push(t.name.clone());
                    deps.push(self.org_key(o));
                }
            }
        }
        let mut changes: Vec<String> =
            add.iter().map(|(c, orgs)| format!("map `{c}` to {}", orgs.join(", "))).collect();
        if let Some(e) = existing.filter(|e| e.field != field) {
            changes.push(format!("claim field `{}` -> `{field}`", e.field));
            self.findings.push(Finding {
                code: "org-sync-field-changes".into(),
                severity: Severity::Risk,
                message: format!(
                    "the split changes the organization sync claim from `{}` to `{field}`: at their next login every \
                     OIDC user's organizations follow the new claim, and the existing mapping was written for the old one",
                    e.field
                ),
                help: Some(format!("keep `field = \"{}\"` under [org_sync] unless the whole mapping moves too", e.field)),
                affects: vec![],
            });
        }
        if was == Some(false) {
            changes.push("keep every user in the default org (assign_default)".into());
        }
        let action = match existing {
            None => Action::Create,
            Some(_) if changes.is_empty() => Action::NoOp,
            Some(_) => Action::Update,
        };
        if changes.is_empty() {
            changes.push("mapping already in place".into());
        }
        let spec = OrganizationSyncSpec { field: field.clone(), assign_default: true, add };
        let key = self.push(None, &field, action, deps, changes, StepSpec::OrganizationSync(spec));
        self.org_sync_key = Some(key);
    }

    pub(super) fn sync_steps(&mut self) {
        for o in 0..self.orgs.len() {
            let t = &self.orgs[o];
            let org = t.name.clone();
            let org_key = self.org_key(o);
            if let Some(gs) = t.spec.group_sync.clone() {
                let existing =
                    t.existing.and_then(|e| self.s.idp_sync.groups.iter().find(|g| g.organization_id == e.id));
                let group_id = |name: &str| {
                    t.existing
                        .and_then(|e| self.s.groups.iter().find(|g| g.organization_id == e.id && g.name == name))
                        .map(|g| g.id.clone())
                };
                let missing: Vec<String> = gs
                    .mapping
                    .iter()
                    .flat_map(|(c, names)| names.iter().map(move |n| (c, n)))
                    .filter(|(c, n)| {
                        let have = existing.and_then(|e| e.mapping.get(*c));
                        !group_id(n).is_some_and(|id| have.is_some_and(|ids| ids.contains(&id)))
                    })
                    .map(|(c, n)| format!("map `{c}` to group `{n}`"))
                    .collect();
                let deps: BTreeSet<String> = std::iter::once(org_key.clone())
                    .chain(gs.mapping.values().flatten().map(|g| step_key(Some(&org), "group", g)))
                    .collect();
                let (action, changes) = sync_action(existing.map(|e| e.field.as_str()), &gs.field, missing);
                // The settings the split does not mention stay as they are (a PATCH sends them all).
                let spec = GroupSyncSpec {
                    field: gs.field.clone(),
                    mapping: gs.mapping,
                    regex_filter: existing.and_then(|e| e.regex_filter.clone()),
                    auto_create_missing_groups: existing.is_some_and(|e| e.auto_create_missing_groups),
                };
                self.push(
                    Some(&org),
                    &gs.field,
                    action,
                    deps.into_iter().collect(),
                    changes,
                    StepSpec::GroupSync(spec),
                );
            }
            let t = &self.orgs[o];
            if let Some(rs) = t.spec.role_sync.clone() {
                let existing =
                    t.existing.and_then(|e| self.s.idp_sync.roles.iter().find(|r| r.organization_id == e.id));
                let missing: Vec<String> = rs
                    .mapping
                    .iter()
                    .flat_map(|(c, roles)| roles.iter().map(move |r| (c, r)))
                    .filter(|(c, r)| !existing.and_then(|e| e.mapping.get(*c)).is_some_and(|have| have.contains(r)))
                    .map(|(c, r)| format!("map `{c}` to role `{r}`"))
                    .collect();
                let custom: BTreeSet<&str> = t.custom_roles.iter().map(|r| r.name.as_str()).collect();
                let deps: BTreeSet<String> = std::iter::once(org_key.clone())
                    .chain(
                        rs.mapping
                            .values()
                            .flatten()
                            .filter(|r| custom.contains(r.as_str()))
                            .map(|r| step_key(Some(&org), "custom-role", r)),
                    )
                    .collect();
                let (action, changes) = sync_action(existing.map(|e| e.field.as_str()), &rs.field, missing);
                let spec = RoleSyncSpec { field: rs.field.clone(), mapping: rs.mapping };
                self.push(Some(&org), &rs.field, action, deps.into_iter().collect(), changes, StepSpec::RoleSync(spec));
            }
        }
    }
}

fn sync_action(existing_field: Option<&str>, field: &str, mut changes: Vec<String>) -> (Action, Vec<String>) {
    match existing_field {
        None | Some("") => (Action::Create, changes),
        Some(f) => {
            if f != field {
                changes.push(format!("claim field `{f}` -> `{field}`"));
            }
            if changes.is_empty() {
                (Action::NoOp, vec!["mapping already in place".into()])
            } else {
                (Action::Update, changes)
            }
        }
    }
}
