//! The v2 side of a v1 plan as an ordinary orgsplit plan (`orgsplit plan`'s
//! document, for the target v2 deployment's snapshot), so `orgsplit diff`
//! shows it and `orgsplit apply` carries it out exactly as a v2 split:
//! organizations, each new one's provisioner key, members with their roles,
//! and one template per image, built from the generated Terraform (which
//! the plan carries: there is no source template to copy). Nothing in it
//! touches the v1 deployment: apply only ever talks to the v2 one.
//!
//! Left out, and said as findings: people not yet users of the v2
//! deployment (they log in first; plan again), and templates of deprecated
//! v1 images (generated for review, pushed by hand if wanted). The
//! workspaces themselves are not in it either: v2 workspaces are created by
//! their owners' scripts (`v1-plan --out-dir`), as v1 files can only be
//! copied by each owner.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::V1Plan;
use crate::error::Result;
use crate::model::{AutostartRequirement, AutostopRequirement, Snapshot, TemplateSettings};
use crate::plan::{
    Action, Affected, Deployment, Finding, ManagedBy, MemberSpec, MigrationSettings, OrgSummary, OrganizationSpec,
    Plan, ProvisionerKeySpec, Severity, SnapshotRef, SplitRef, Step, StepSpec, Summary, TemplateGrants, TemplateMeta,
    TemplateSource, TemplateSpec, UserRef, shell_word, step_key,
};

/// What the v2 plan is made from besides the v1 plan.
pub struct V2Inputs<'a> {
    /// The target v2 deployment's snapshot (the plan is valid against it only).
    pub target: &'a Snapshot,
    /// Where the target snapshot was read from, for the plan's record.
    pub split_file: String,
    pub wiki: String,
    pub deadline: String,
}

/// The ordinary plan of the v2 side of `plan`.
pub fn v2_plan(plan: &V1Plan, inputs: &V2Inputs) -> Result<Plan> {
    let target = inputs.target;
    let url = target.deployment_url().unwrap_or_default();
    let mut steps = Vec::new();
    let mut findings = Vec::new();
    let org_id = |name: &str| target.organizations.iter().find(|o| o.name == name).map(|o| o.id.as_str());
    let mut summaries = Vec::new();
    for org in &plan.organizations {
        let existing = org_id(&org.name);
        let org_key = step_key(Some(&org.name), "organization", &org.name);
        let spec = OrganizationSpec {
            name: org.name.clone(),
            display_name: org.name.clone(),
            description: from_v1(&org.from_v1),
            icon: String::new(),
            default_member_roles: None,
            workspace_sharing: None,
        };
        let (action, changes) = match existing {
            None => (Action::Create, vec![format!("create organization `{}`", org.name)]),
            Some(_) => (Action::NoOp, vec!["exists: left as it is".into()]),
        };
        steps.push(Step::new(Some(&org.name), &org.name, action, vec![], changes, StepSpec::Organization(spec)));
        let mut template_deps = vec![org_key.clone()];
        let key_name = format!("{}-provisioner", org.name);
        let mut provisioner_key = None;
        if existing.is_none() {
            let create =
                format!("coder provisioner keys create --org {} -- {}", shell_word(&org.name), shell_word(&key_name));
            let coder_url = if url.is_empty() { String::new() } else { format!("CODER_URL={} ", shell_word(&url)) };
            let spec = ProvisionerKeySpec {
                name: key_name.clone(),
                tags: BTreeMap::new(),
                create_command: create,
                start_command: format!("{coder_url}CODER_PROVISIONER_DAEMON_KEY=\"$KEY\" coder provisioner start"),
            };
            template_deps.push(step_key(Some(&org.name), "provisioner-key", &key_name));
            steps.push(Step::new(
                Some(&org.name),
                &key_name,
                Action::Create,
                vec![org_key.clone()],
                vec![format!("create key `{key_name}`; start a provisioner with it where the cluster is")],
                StepSpec::ProvisionerKey(spec),
            ));
            provisioner_key = Some(key_name);
        }
        summaries.push(OrgSummary {
            name: org.name.clone(),
            display_name: org.name.clone(),
            description: from_v1(&org.from_v1),
            icon: String::new(),
            exists: existing.is_some(),
            members: 0,
            groups: Vec::new(),
            templates: Vec::new(),
            provisioner_key,
            workspace_proxies: Vec::new(),
            workspaces_to_migrate: plan.workspaces.iter().filter(|w| w.new_org == org.name).count(),
        });
        member_steps(plan, target, &org.name, existing, &org_key, &mut steps, &mut findings);
        let have: BTreeSet<&str> = existing
            .map(|id| target.templates.iter().filter(|t| t.organization_id == id).map(|t| t.name.as_str()).collect())
            .unwrap_or_default();
        template_steps(plan, &org.name, &have, &template_deps, &mut steps, &mut findings)?;
    }
    for s in &mut summaries {
        let org = Some(s.name.as_str());
        let in_org = |st: &&Step| st.org.as_deref() == org;
        s.members = steps.iter().filter(in_org).filter(|st| matches!(st.spec, StepSpec::Member(_))).count()
            + org_id(&s.name)
                .map(|id| {
                    let planned: BTreeSet<&str> = steps
                        .iter()
                        .filter(in_org)
                        .filter_map(|st| match &st.spec {
                            StepSpec::Member(m) => Some(m.user.user_id.as_str()),
                            _ => None,
                        })
                        .collect();
                    target
                        .organization_members
                        .iter()
                        .filter(|m| m.organization_id == id && !planned.contains(m.user_id.as_str()))
                        .count()
                })
                .unwrap_or(0);
        s.templates = steps
            .iter()
            .filter(in_org)
            .filter_map(|st| match &st.spec {
                StepSpec::Template(t) => Some(t.name.clone()),
                _ => None,
            })
            .collect();
    }
    let steps = crate::plan::graph::order(steps)?;
    findings.extend(plan.findings.iter().cloned());
    let (fingerprint, sections) = target.fingerprints();
    let count = |a: Action| steps.iter().filter(|s| s.action == a).count();
    Ok(Plan {
        format_version: crate::plan::FORMAT_VERSION,
        deployment: Deployment {
            url,
            version: target.build_info.as_ref().map(|b| b.version.clone()).unwrap_or_default(),
        },
        snapshot: SnapshotRef {
            fingerprint,
            sections: sections.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            source_kind: target.source.kind.clone(),
            source_location: target.source.location.clone(),
            taken_at: target.source.taken_at.clone(),
        },
        split: SplitRef { file: inputs.split_file.clone(), sha256: plan.split.clone().unwrap_or_default() },
        migration: MigrationSettings {
            wiki: inputs.wiki.clone(),
            deadline: inputs.deadline.clone(),
            deprecation_message_template: String::new(),
            shared_templates: Default::default(),
        },
        organizations: summaries,
        summary: Summary {
            create: count(Action::Create),
            update: count(Action::Update),
            no_op: count(Action::NoOp),
            workspaces_to_migrate: 0,
        },
        steps,
        workspace_migrations: Vec::new(),
        findings,
    })
}

fn member_steps(
    plan: &V1Plan,
    target: &Snapshot,
    org: &str,
    existing: Option<&str>,
    org_key: &str,
    steps: &mut Vec<Step>,
    findings: &mut Vec<Finding>,
) {
    let mut absent = Vec::new();
    let mut synced = Vec::new();
    // With organization sync on, Coder refuses to add OIDC users by hand:
    // their memberships come from their IdP claims at login.
    let org_sync = target.idp_sync.organization.as_ref().map(|o| o.field.clone()).filter(|f| !f.is_empty());
    for m in plan.members.iter().filter(|m| m.org == org) {
        let Some(user) = target.users.iter().find(|u| u.username == m.username) else {
            absent.push(m.username.clone());
            continue;
        };
        let now: Option<Vec<String>> = existing.and_then(|id| {
            target
                .organization_members
                .iter()
                .find(|x| x.organization_id == id && x.user_id == user.id)
                .map(|x| x.roles.clone().unwrap_or_default())
        });
        let mut roles: BTreeSet<String> = now.iter().flatten().cloned().collect();
        let add: Vec<String> = m.v2_roles.iter().filter(|r| !roles.contains(*r)).cloned().collect();
        roles.extend(m.v2_roles.iter().cloned());
        let (action, changes) = match (&now, add.is_empty()) {
            (None, _) => (Action::Create, vec![format!("add `{}`{}", user.username, with_roles(&add))]),
            (Some(_), false) => (Action::Update, vec![format!("give `{}`{}", user.username, with_roles(&add))]),
            (Some(_), true) => (Action::NoOp, vec!["a member with these roles already".into()]),
        };
        let spec = MemberSpec {
            user: UserRef { user_id: user.id.clone(), username: user.username.clone(), email: user.email.clone() },
            roles: roles.into_iter().collect(),
            add_roles: add,
            reasons: m.from_v1.iter().map(|v| format!("v1:{v}")).collect(),
            membership_by: match &org_sync {
                Some(field) if user.login_type == "oidc" && !user.is_service_account && now.is_none() => {
                    synced.push(Affected {
                        kind: "user".into(),
                        org: Some(org.to_string()),
                        name: user.username.clone(),
                        id: Some(user.id.clone()),
                    });
                    ManagedBy::IdpSync { field: field.clone(), claims: Vec::new() }
                }
                _ => ManagedBy::Api,
            },
            roles_by: ManagedBy::Api,
        };
        steps.push(Step::new(
            Some(org),
            &user.username,
            action,
            vec![org_key.to_string()],
            changes,
            StepSpec::Member(spec),
        ));
    }
    if let (Some(field), false) = (&org_sync, synced.is_empty()) {
        findings.push(Finding {
            code: "v1-member-by-org-sync".into(),
            severity: Severity::Risk,
            message: format!(
                "organization sync (claim `{field}`) decides the memberships of OIDC users on the v2 deployment, so \
                 apply cannot add {} of `{org}`'s v1 members: they join when a value of their `{field}` claim is \
                 mapped to `{org}` and they log in",
                synced.len()
            ),
            help: Some(format!(
                "map their claim values to `{org}` in the organization sync settings (`coder organizations settings \
                 set organization-sync`); apply waits for them and a rerun gives them their roles"
            )),
            affects: synced,
        });
    }
    if !absent.is_empty() {
        findings.push(Finding {
            code: "v1-member-not-in-v2".into(),
            severity: Severity::Warning,
            message: format!(
                "{} of `{org}`'s v1 members are not users of the v2 deployment yet, so apply cannot add them: {}",
                absent.len(),
                absent.join(", ")
            ),
            help: Some(
                "have them log in to v2 once (or create them), import the v2 deployment again and run `orgsplit \
                 v1-plan` again"
                    .into(),
            ),
            affects: absent
                .iter()
                .map(|u| Affected { kind: "user".into(), org: Some(org.to_string()), name: u.clone(), id: None })
                .collect(),
        });
    }
}

/// "From Coder v1: a, b": v1 names are the deployment's (hostile), so no
/// control characters, and short enough for any Coder release.
fn from_v1(names: &[String]) -> String {
    clean(&format!("From Coder v1: {}", names.join(", ")), 128)
}

/// Text from the v1 deployment for a field or a message: no control
/// characters, at most `n` characters.
fn clean(text: &str, n: usize) -> String {
    truncate(&text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>(), n)
}

fn with_roles(roles: &[String]) -> String {
    if roles.is_empty() { String::new() } else { format!(" with {}", roles.join(", ")) }
}

fn template_steps(
    plan: &V1Plan,
    org: &str,
    have: &BTreeSet<&str>,
    deps: &[String],
    steps: &mut Vec<Step>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    for t in plan.templates.iter().filter(|t| t.org == org) {
        if t.deprecated {
            findings.push(Finding {
                code: "v1-deprecated-image-not-pushed".into(),
                severity: Severity::Warning,
                message: format!(
                    "template `{org}/{}` comes from v1 image `{}`, deprecated in v1: apply does not create it",
                    t.name, t.image
                ),
                help: Some(format!(
                    "review the generated `templates/{}/main.tf` and push it yourself if it is still wanted",
                    t.source_dir
                )),
                affects: vec![Affected {
                    kind: "template".into(),
                    org: Some(org.into()),
                    name: t.name.clone(),
                    id: None,
                }],
            });
            continue;
        }
        let main = super::render::template_source(t)?;
        let source = TemplateSource {
            template_id: format!("v1-image:{}", t.image_id),
            org: String::new(),
            name: clean(&t.image, 256),
            active_version_id: String::new(),
            active_version_name: version_name(&t.default_tag),
            file_id: String::new(),
            provisioner: "terraform".into(),
            provisioner_tags: BTreeMap::new(),
            generated: Some(BTreeMap::from([("main.tf".to_string(), main)])),
        };
        let spec = TemplateSpec {
            name: t.name.clone(),
            source,
            provisioner_tags: BTreeMap::new(),
            settings: TemplateMeta {
                display_name: String::new(),
                description: clean(&format!("Coder v1 image {}", t.image), 128),
                icon: String::new(),
                settings: coder_defaults(),
                disable_everyone_group_access: false,
            },
            acl: TemplateGrants {
                groups: BTreeMap::from([("Everyone".to_string(), "use".to_string())]),
                users: vec![],
            },
        };
        let (action, changes) = if have.contains(t.name.as_str()) {
            (Action::NoOp, vec![format!("template `{}` exists: left as it is", t.name)])
        } else {
            (
                Action::Create,
                vec![format!("create template `{}` from v1 image `{}` (generated Terraform)", t.name, t.image)],
            )
        };
        steps.push(Step::new(Some(org), &t.name, action, deps.to_vec(), changes, StepSpec::Template(spec)));
    }
    Ok(())
}

/// A template version name from the image's default tag (Coder's rules:
/// letters, digits, `-`, `_` and `.`, at most 64).
fn version_name(tag: &str) -> String {
    let clean: String =
        tag.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).take(56).collect();
    if clean.is_empty() { "v1-image".into() } else { format!("v1-image-{clean}") }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The settings Coder gives a template created without any.
fn coder_defaults() -> TemplateSettings {
    TemplateSettings {
        default_ttl_ms: 0,
        activity_bump_ms: 3_600_000,
        failure_ttl_ms: 0,
        time_til_dormant_ms: 0,
        time_til_dormant_autodelete_ms: 0,
        require_active_version: false,
        allow_user_autostart: true,
        allow_user_autostop: true,
        allow_user_cancel_workspace_jobs: false,
        max_port_share_level: "owner".into(),
        autostop_requirement: AutostopRequirement { days_of_week: Vec::new(), weeks: 1 },
        autostart_requirement: AutostartRequirement {
            days_of_week: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
                .map(String::from)
                .to_vec(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_names_reach_descriptions_without_control_characters() {
        let d = from_v1(&["raptix\n\u{1b}[31m".to_string(), "x".repeat(300)]);
        assert!(d.starts_with("From Coder v1: raptix  [31m, xxx"), "{d}");
        assert!(!d.chars().any(char::is_control) && d.chars().count() == 128, "{d}");
        assert_eq!(version_name("11.2"), "v1-image-11.2");
        assert_eq!(version_name("a/b:c"), "v1-image-a-b-c");
        assert_eq!(version_name(""), "v1-image");
    }
}
