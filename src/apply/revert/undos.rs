//! What revert undoes: for each of the plan's steps, what differs from the
//! state before apply in the way that step changes things (see the parent
//! module), as undos to carry out, leftovers to list, and what is kept.

use super::*;

pub(super) struct Work {
    pub(super) undos: Vec<Undo>,
    pub(super) leftovers: Vec<Leftover>,
    pub(super) kept: Vec<String>,
}

/// What differs from `before` in the way each plan step changes things.
pub(super) fn work_out(plan: &Plan, before: &Snapshot, now: &Snapshot, me: &str) -> Work {
    let mut w = Work { undos: Vec::new(), leftovers: Vec::new(), kept: Vec::new() };
    let org_by_name = |s: &Snapshot, name: &str| s.organizations.iter().find(|o| o.name == name).cloned();
    let user_name = |id: &str| now.users.iter().find(|u| u.id == id).map_or(id.to_string(), |u| u.username.clone());
    // Created objects, collected per kind and listed innermost first.
    let mut made: BTreeMap<u8, Vec<Leftover>> = BTreeMap::new();
    for step in &plan.steps {
        let org_name = step.org.clone().unwrap_or_default();
        let (b_org, n_org) = (org_by_name(before, &org_name), org_by_name(now, &org_name));
        let new_org = b_org.is_none();
        match &step.spec {
            StepSpec::Organization(spec) => {
                let (b, n) = (org_by_name(before, &spec.name), org_by_name(now, &spec.name));
                match (b, n) {
                    (None, Some(_)) => made.entry(9).or_default().push(Leftover {
                        kind: "organization",
                        org: spec.name.clone(),
                        name: spec.name.clone(),
                        why: "created by apply; Coder deletes an organization only once it is empty (no templates, \
                              workspaces, groups but Everyone, keys, or members but one): remove what is listed \
                              above first"
                            .into(),
                        command: api_delete(&["organizations", &spec.name]),
                    }),
                    (Some(b), Some(n)) => {
                        let differs = b.display_name != n.display_name
                            || b.description != n.description
                            || b.icon != n.icon
                            || (b.default_org_member_roles.is_some()
                                && b.default_org_member_roles != n.default_org_member_roles);
                        if differs {
                            w.undos.push(Undo {
                                key: step.key.clone(),
                                what: "restore its display name, description, icon and default member roles".into(),
                                act: Act::Organization {
                                    org_id: n.id.clone(),
                                    req: UpdateOrganizationRequest {
                                        display_name: b.display_name.clone(),
                                        description: b.description.clone(),
                                        icon: b.icon.clone(),
                                        default_org_member_roles: b.default_org_member_roles.clone(),
                                    },
                                },
                            });
                        }
                    }
                    _ => {}
                }
            }
            StepSpec::ProvisionerKey(spec) => {
                let Some(n_org) = &n_org else { continue };
                let had = |s: &Snapshot, org: &str| {
                    s.provisioner_keys.iter().any(|k| k.organization == org && k.name == spec.name)
                };
                let had_before = b_org.as_ref().is_some_and(|o| had(before, &o.id));
                if !had_before && had(now, &n_org.id) {
                    made.entry(3).or_default().push(Leftover {
                        kind: "provisioner key",
                        org: org_name.clone(),
                        name: spec.name.clone(),
                        why: "created by apply (stop the provisioners started with it first)".into(),
                        command: format!(
                            "coder provisioner keys delete --org {} -- {}",
                            shell_word(&org_name),
                            shell_word(&spec.name)
                        ),
                    });
                }
            }
            StepSpec::CustomRole(spec) => {
                let Some(n_org) = &n_org else { continue };
                let role = |s: &Snapshot, org: &str| {
                    s.custom_roles.iter().find(|r| r.organization_id == org && r.name == spec.name).cloned()
                };
                let b_role = b_org.as_ref().and_then(|o| role(before, &o.id));
                match (b_role, role(now, &n_org.id)) {
                    (None, Some(_)) => made.entry(4).or_default().push(Leftover {
                        kind: "custom role",
                        org: org_name.clone(),
                        name: spec.name.clone(),
                        why: "created by apply (the coder CLI has no command to delete a role: this is the API \
                              call)"
                            .into(),
                        command: api_delete(&["organizations", &org_name, "members", "roles", &spec.name]),
                    }),
                    (Some(b), Some(n)) if b != n => w.kept.push(format!(
                        "`{}`: the permissions of custom role `{}` in `{org_name}` were changed; set them back with \
                         `coder organizations roles update` if that matters",
                        step.key, spec.name
                    )),
                    _ => {}
                }
            }
            StepSpec::Group(spec) => {
                let Some(n_org) = &n_org else { continue };
                let group = |s: &Snapshot, org: &str| {
                    s.groups.iter().find(|g| g.organization_id == org && g.name == spec.name).cloned()
                };
                match (b_org.as_ref().and_then(|o| group(before, &o.id)), group(now, &n_org.id)) {
                    (None, Some(_)) => made.entry(2).or_default().push(Leftover {
                        kind: "group",
                        org: org_name.clone(),
                        name: spec.name.clone(),
                        why: "created by apply".into(),
                        command: format!(
                            "coder groups delete --org {} -- {}",
                            shell_word(&org_name),
                            shell_word(&spec.name)
                        ),
                    }),
                    (Some(b), Some(n)) => {
                        let planned: BTreeSet<&str> = spec.add_members.iter().map(|u| u.user_id.as_str()).collect();
                        let remove: Vec<String> = n
                            .members
                            .iter()
                            .filter(|m| planned.contains(m.as_str()) && !b.members.contains(m))
                            .cloned()
                            .collect();
                        if !remove.is_empty() {
                            w.undos.push(Undo {
                                key: step.key.clone(),
                                what: format!("take the {} member(s) the plan added out of the group", remove.len()),
                                act: Act::GroupMembers {
                                    org_id: n.organization_id.clone(),
                                    group_id: n.id.clone(),
                                    remove,
                                },
                            });
                        }
                    }
                    _ => {}
                }
            }
            StepSpec::Template(spec) => {
                let Some(n_org) = &n_org else { continue };
                let find = |s: &Snapshot, org: &str| {
                    s.templates.iter().find(|t| t.organization_id == org && t.name == spec.name).cloned()
                };
                match (b_org.as_ref().and_then(|o| find(before, &o.id)), find(now, &n_org.id)) {
                    (None, Some(_)) => made.entry(1).or_default().push(Leftover {
                        kind: "template",
                        org: org_name.clone(),
                        name: spec.name.clone(),
                        why: format!(
                            "{} (its versions and uploaded files stay with it; Coder refuses to delete a template \
                             that workspaces use)",
                            match &spec.source.generated {
                                Some(_) => format!("generated by apply from Coder v1 image `{}`", spec.source.name),
                                None => format!("re-created by apply from `{}/{}`", spec.source.org, spec.source.name),
                            }
                        ),
                        command: format!(
                            "coder templates delete --org {} --yes -- {}",
                            shell_word(&org_name),
                            shell_word(&spec.name)
                        ),
                    }),
                    (Some(b), Some(n)) => {
                        let acl = grants_back(&b, &n, spec, before, now, &b_org, n_org);
                        if !(acl.group_perms.is_empty() && acl.user_perms.is_empty()) {
                            w.undos.push(Undo {
                                key: step.key.clone(),
                                what: format!(
                                    "restore {} grant(s) the plan set",
                                    acl.group_perms.len() + acl.user_perms.len()
                                ),
                                act: Act::Acl { template_id: n.id.clone(), acl },
                            });
                        }
                    }
                    _ => {}
                }
            }
            StepSpec::Member(spec) => {
                let Some(n_org) = &n_org else { continue };
                let user = &spec.user.user_id;
                let member = |s: &Snapshot, org: &str| {
                    s.organization_members.iter().find(|m| m.organization_id == org && &m.user_id == user).cloned()
                };
                let b_member = b_org.as_ref().and_then(|o| member(before, &o.id));
                let Some(n_member) = member(now, &n_org.id) else { continue };
                match b_member {
                    Some(b) => {
                        // Take back only the roles the plan gave that they did not have.
                        let had: BTreeSet<String> = b.roles.clone().unwrap_or_default().into_iter().collect();
                        let given: BTreeSet<&String> = spec.roles.iter().filter(|r| !had.contains(*r)).collect();
                        let have = n_member.roles.clone().unwrap_or_default();
                        let keep: Vec<String> = have.iter().filter(|r| !given.contains(r)).cloned().collect();
                        if keep.len() != have.len() && !matches!(spec.roles_by, ManagedBy::IdpSync { .. }) {
                            w.undos.push(Undo {
                                key: step.key.clone(),
                                what: format!("take back {} role(s)", have.len() - keep.len()),
                                act: Act::MemberRoles { org_id: n_org.id.clone(), user_id: user.clone(), roles: keep },
                            });
                        }
                    }
                    None if user == me => {}
                    None => {
                        let owned = now
                            .workspaces
                            .iter()
                            .filter(|ws| ws.organization_id == n_org.id && &ws.owner_id == user)
                            .count();
                        let by_api = spec.membership_by == ManagedBy::Api;
                        if by_api && owned == 0 {
                            w.undos.push(Undo {
                                key: step.key.clone(),
                                what: format!(
                                    "remove `{}` from {} `{org_name}` (they own no workspace there)",
                                    spec.user.username,
                                    if new_org { "the new org" } else { "org" }
                                ),
                                act: Act::RemoveMember { org_id: n_org.id.clone(), user_id: user.clone() },
                            });
                        } else {
                            let why = if by_api {
                                format!("added by apply, and owns {owned} workspace(s) there: move them first")
                            } else {
                                "placed by IdP organization sync at their login, not by apply".to_string()
                            };
                            made.entry(0).or_default().push(Leftover {
                                kind: "member",
                                org: org_name.clone(),
                                name: user_name(user),
                                why,
                                command: format!(
                                    "coder organizations members remove --org {} -- {}",
                                    shell_word(&org_name),
                                    shell_word(&user_name(user))
                                ),
                            });
                        }
                    }
                }
            }
            StepSpec::OrganizationSync(spec) => {
                let (b, n) = (before.idp_sync.organization.clone(), now.idp_sync.organization.clone());
                let Some(n) = n else { continue };
                let b = b.unwrap_or_default();
                let ids: BTreeMap<&str, &str> =
                    now.organizations.iter().map(|o| (o.name.as_str(), o.id.as_str())).collect();
                let mut remove = Vec::new();
                for (claim, orgs) in &spec.add {
                    for org in orgs {
                        let Some(id) = ids.get(org.as_str()) else { continue };
                        let has =
                            |m: &BTreeMap<String, Vec<String>>| m.get(claim).is_some_and(|v| v.iter().any(|x| x == id));
                        if has(&n.mapping) && !has(&b.mapping) {
                            remove.push(MappingEntry { given: claim.clone(), gets: id.to_string() });
                        }
                    }
                }
                let config = (n.field != b.field || n.organization_assign_default != b.organization_assign_default)
                    .then(|| PatchOrganizationSyncConfig {
                        field: b.field.clone(),
                        assign_default: b.organization_assign_default,
                    });
                if !remove.is_empty() || config.is_some() {
                    w.undos.push(Undo {
                        key: step.key.clone(),
                        what: format!(
                            "remove the {} mapping entr(ies) the plan added{}",
                            remove.len(),
                            if config.is_some() { ", and restore the claim and default" } else { "" }
                        ),
                        act: Act::OrgSync { config, remove },
                    });
                }
            }
            StepSpec::GroupSync(_) | StepSpec::RoleSync(_) => {
                // In a new org they go with it; in an org that existed, say so.
                let kind = if matches!(step.spec, StepSpec::GroupSync(_)) { "group" } else { "role" };
                let differs = match (&b_org, &n_org, kind) {
                    (Some(b), Some(n), "group") => {
                        let get = |s: &Snapshot, id: &str| {
                            s.idp_sync.groups.iter().find(|g| g.organization_id == id).map(|g| {
                                (
                                    g.field.clone(),
                                    g.mapping.clone(),
                                    g.regex_filter.clone(),
                                    g.auto_create_missing_groups,
                                )
                            })
                        };
                        get(before, &b.id) != get(now, &n.id)
                    }
                    (Some(b), Some(n), _) => {
                        let get = |s: &Snapshot, id: &str| {
                            s.idp_sync
                                .roles
                                .iter()
                                .find(|g| g.organization_id == id)
                                .map(|g| (g.field.clone(), g.mapping.clone()))
                        };
                        get(before, &b.id) != get(now, &n.id)
                    }
                    _ => false,
                };
                if differs {
                    w.kept.push(format!(
                        "`{}`: {kind} sync of `{org_name}`, which existed before, was changed; `coder organizations \
                         settings show {kind}-sync --org {}` shows it, `... set` restores it",
                        step.key,
                        shell_word(&org_name)
                    ));
                }
            }
            StepSpec::Deprecation(spec) => {
                let (Some(b), Some(n)) = (
                    before.templates.iter().find(|t| t.id == spec.template_id),
                    now.templates.iter().find(|t| t.id == spec.template_id),
                ) else {
                    continue;
                };
                let earlier = if b.deprecated { b.deprecation_message.clone() } else { String::new() };
                let current = if n.deprecated { n.deprecation_message.clone() } else { String::new() };
                if current == earlier {
                    continue;
                }
                if current == spec.message {
                    w.undos.push(Undo {
                        key: step.key.clone(),
                        what: if earlier.is_empty() {
                            "lift the deprecation".into()
                        } else {
                            "restore the deprecation message it had before".into()
                        },
                        act: Act::Deprecation { template_id: n.id.clone(), message: earlier },
                    });
                } else {
                    w.kept.push(format!(
                        "`{}`: the deprecation message was changed after apply by someone else; left as it is",
                        step.key
                    ));
                }
            }
        }
    }
    w.leftovers = made.into_values().flatten().collect();
    w
}

/// The grants the plan set on a template that existed before, back to what they were.
fn grants_back(
    b: &crate::model::Template,
    n: &crate::model::Template,
    spec: &crate::plan::TemplateSpec,
    before: &Snapshot,
    now: &Snapshot,
    b_org: &Option<crate::model::Organization>,
    n_org: &crate::model::Organization,
) -> UpdateTemplateAcl {
    let (b_acl, n_acl) = (b.acl.clone().unwrap_or_default(), n.acl.clone().unwrap_or_default());
    let role = |list: &[crate::model::AclEntry], id: &str| list.iter().find(|e| e.id == id).map(|e| e.role.clone());
    let mut out = UpdateTemplateAcl::default();
    let group_id = |s: &Snapshot, org: &str, name: &str| {
        if name == "Everyone" {
            return Some(org.to_string());
        }
        s.groups.iter().find(|g| g.organization_id == org && g.name == name).map(|g| g.id.clone())
    };
    for (name, want) in &spec.acl.groups {
        let Some(id) = group_id(now, &n_org.id, name) else { continue };
        let existed = b_org.as_ref().and_then(|o| group_id(before, &o.id, name)).is_some();
        let was = if existed { role(&b_acl.group, &id) } else { None };
        if role(&n_acl.group, &id).as_ref() == Some(want) && was.as_ref() != Some(want) {
            out.group_perms.insert(id, was.unwrap_or_default());
        }
    }
    for u in &spec.acl.users {
        let id = &u.user.user_id;
        let was = role(&b_acl.users, id);
        if role(&n_acl.users, id).as_ref() == Some(&u.role) && was.as_ref() != Some(&u.role) {
            out.user_perms.insert(id.clone(), was.unwrap_or_default());
        }
    }
    out
}

/// `curl` deleting an API object, for what the coder CLI cannot delete. The
/// path is percent-encoded, which leaves only characters a shell takes
/// literally (letters, digits, `-._~%/`): no quoting is needed after it.
pub(super) fn api_delete(segments: &[&str]) -> String {
    let path: Vec<String> = segments.iter().map(|s| percent(s)).collect();
    format!(
        "curl -fsS -X DELETE -H \"Coder-Session-Token: $CODER_SESSION_TOKEN\" \"$CODER_URL\"/api/v2/{}",
        path.join("/")
    )
}

/// A path segment with everything but unreserved characters percent-encoded.
pub(super) fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
