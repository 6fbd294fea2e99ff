//! `plan()`: the whole pipeline from a snapshot and a split document to a
//! plan, plus the checks that look at the plan as a whole (licence
//! features, empty orgs).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashSet;

use sha2::{Digest, Sha256};

use super::build::{self, Built};
use super::{
    Action, Affected, Deployment, FORMAT_VERSION, Finding, MigrationSettings, OrgSummary, Plan, Severity, SnapshotRef,
    SplitRef, StepSpec, Summary, graph, validate,
};
use crate::error::Result;
use crate::model::{Index, Snapshot};
use crate::split::SplitDocument;

/// Plan the split described by `doc` (whose file held `split_bytes`) on `snapshot`.
pub fn plan(snapshot: &Snapshot, doc: &SplitDocument, split_bytes: &[u8]) -> Result<Plan> {
    // The fingerprint is a pass over the whole state that planning does not
    // need: on a second core it costs no time.
    let (plan, fingerprints) =
        crate::cores::join(|| plan_with(&Index::new(snapshot), doc, split_bytes), || snapshot.fingerprints());
    plan.map(|p| fingerprinted(p, fingerprints))
}

/// What `snapshot.fingerprints()` gives: the whole snapshot's, and each section's.
pub type Fingerprints = (String, BTreeMap<&'static str, String>);

/// [`plan`] of the snapshot `ix` indexes, with its fingerprints computed by
/// the caller (on another thread while it did something else).
pub fn plan_fingerprinted(
    ix: &Index,
    doc: &SplitDocument,
    split_bytes: &[u8],
    fingerprints: impl FnOnce() -> Fingerprints,
) -> Result<Plan> {
    plan_with(ix, doc, split_bytes).map(|p| fingerprinted(p, fingerprints()))
}

fn fingerprinted(mut plan: Plan, (fingerprint, sections): Fingerprints) -> Plan {
    plan.snapshot.fingerprint = fingerprint;
    plan.snapshot.sections = sections.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    plan
}

/// The plan, its snapshot fingerprints left empty.
fn plan_with(ix: &Index, doc: &SplitDocument, split_bytes: &[u8]) -> Result<Plan> {
    let snapshot = ix.snapshot;
    let resolved = validate::resolve(snapshot, ix, doc)?;
    let Built { orgs, members, templates, steps, mut findings, migrations } =
        build::build(snapshot, ix, &doc.split, resolved.orgs);
    findings.extend(resolved.findings);
    findings.extend(licence_findings(snapshot, &steps));
    let steps = graph::order(steps)?;

    let mut migrating: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &migrations {
        *migrating.entry(m.new.org.as_str()).or_default() += 1;
    }
    let organizations: Vec<OrgSummary> = orgs
        .iter()
        .enumerate()
        .map(|(o, t)| {
            let mut copies: Vec<String> =
                templates.iter().filter(|p| p.copies.contains(&o)).map(|p| p.name_in(o).to_string()).collect();
            copies.sort();
            OrgSummary {
                name: t.name.clone(),
                display_name: t.display_name.clone(),
                description: t.spec.description.clone(),
                icon: t.spec.icon.clone(),
                exists: t.existing.is_some(),
                members: members[o].len(),
                groups: t.groups.iter().map(|g| g.name.clone()).collect(),
                templates: copies,
                provisioner_key: t.key.clone(),
                workspace_proxies: t.spec.workspace_proxies.clone(),
                workspaces_to_migrate: migrating.get(t.name.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();
    for o in organizations.iter().filter(|o| o.members == 0) {
        findings.push(Finding {
            code: "empty-org".into(),
            severity: Severity::Warning,
            message: format!("`{}` gets no members", o.name),
            help: Some("select its people with `groups`, `users`, `claims` or `people`".into()),
            affects: vec![Affected { kind: "organization".into(), org: None, name: o.name.clone(), id: None }],
        });
    }
    if snapshot.deployment_url().is_none() {
        findings.push(Finding {
            code: "deployment-url-unknown".into(),
            severity: Severity::Warning,
            message: "the deployment's address is unknown: the snapshot was not read from a URL and the export does \
                      not say (build info's `dashboard_url`)"
                .into(),
            help: Some(
                "plan again with `--deployment-url https://coder.example.com` (or import with it): scripts and \
                 notices name the address, and provisioner commands take it from CODER_URL meanwhile"
                    .into(),
            ),
            affects: vec![],
        });
    }

    let count = |a: Action| steps.iter().filter(|s| s.action == a).count();
    let summary = Summary {
        create: count(Action::Create),
        update: count(Action::Update),
        no_op: count(Action::NoOp),
        workspaces_to_migrate: migrations.len(),
    };
    let m = &doc.split.migration;
    let mut plan = Plan {
        format_version: FORMAT_VERSION,
        deployment: Deployment {
            url: build::deployment_url(snapshot),
            version: snapshot.build_info.as_ref().map(|b| b.version.clone()).unwrap_or_default(),
        },
        snapshot: SnapshotRef {
            fingerprint: String::new(),
            sections: BTreeMap::new(),
            source_kind: snapshot.source.kind.clone(),
            source_location: snapshot.source.location.clone(),
            taken_at: snapshot.source.taken_at.clone(),
        },
        split: SplitRef {
            file: doc.path.clone(),
            sha256: format!("sha256:{}", crate::model::hex(&Sha256::digest(split_bytes))),
        },
        migration: MigrationSettings {
            wiki: m.wiki.clone(),
            deadline: m.deadline.clone(),
            deprecation_message_template: m.deprecation_message.clone(),
            shared_templates: m.shared_templates,
        },
        organizations,
        steps,
        workspace_migrations: migrations,
        findings,
        summary,
    };
    plan.findings.extend(usable_findings(snapshot, &plan));
    plan.findings
        .sort_by(|a, b| (Reverse(a.severity), &a.code, &a.message).cmp(&(Reverse(b.severity), &b.code, &b.message)));
    Ok(plan)
}

/// Whether those whose workspaces move can use the copies, in the after-state
/// of the organizations they move to. Only those organizations' part of the
/// state is copied, with the owners who move, and only their steps (and the
/// organizations and org sync, which name the others) are applied: nothing
/// else can change who may use a template there, and on a large deployment
/// the whole after-state cost more than the rest of planning's checks (0.08 s
/// of plan's 0.6 s at 50,000 users). A plan that does not fit together is
/// refused by diff and apply, which say why.
fn usable_findings(snapshot: &Snapshot, plan: &Plan) -> Vec<Finding> {
    let targets: BTreeSet<&str> = plan.workspace_migrations.iter().map(|m| m.new.org.as_str()).collect();
    if targets.is_empty() {
        return Vec::new();
    }
    let ids: BTreeSet<&str> =
        snapshot.organizations.iter().filter(|o| targets.contains(o.name.as_str())).map(|o| o.id.as_str()).collect();
    let owners: HashSet<&str> = plan.workspace_migrations.iter().map(|m| m.owner.user_id.as_str()).collect();
    let of_targets = |org: &str| ids.contains(org);
    let access_state = Snapshot {
        organizations: snapshot.organizations.clone(),
        users: snapshot.users.iter().filter(|u| owners.contains(u.id.as_str())).cloned().collect(),
        organization_members: snapshot
            .organization_members
            .iter()
            .filter(|m| of_targets(&m.organization_id))
            .cloned()
            .collect(),
        groups: snapshot.groups.iter().filter(|g| of_targets(&g.organization_id)).cloned().collect(),
        templates: snapshot.templates.iter().filter(|t| of_targets(&t.organization_id)).cloned().collect(),
        template_versions: snapshot
            .template_versions
            .iter()
            .filter(|v| of_targets(&v.organization_id))
            .cloned()
            .collect(),
        provisioner_keys: snapshot.provisioner_keys.iter().filter(|k| of_targets(&k.organization)).cloned().collect(),
        custom_roles: snapshot.custom_roles.iter().filter(|r| of_targets(&r.organization_id)).cloned().collect(),
        idp_sync: snapshot.idp_sync.clone(),
        ..Snapshot::default()
    };
    let steps = plan.steps.iter().filter(|st| {
        matches!(st.spec, StepSpec::Organization(_) | StepSpec::OrganizationSync(_))
            || st.org.as_deref().is_some_and(|o| targets.contains(o))
    });
    match super::after::apply_steps(access_state, steps) {
        Ok(after) => super::usable::findings(&after, plan),
        Err(_) => Vec::new(),
    }
}

/// Licensed features the plan's steps need.
fn licence_findings(s: &Snapshot, steps: &[super::Step]) -> Vec<Finding> {
    let Some(e) = &s.entitlements else {
        return vec![Finding {
            code: "entitlements-unknown".into(),
            severity: Severity::Warning,
            message: "the snapshot holds no entitlements, so the plan cannot check the licence allows organizations"
                .into(),
            help: Some("export `/api/v2/entitlements` with the rest and import again".into()),
            affects: vec![],
        }];
    };
    let on = |f: &str| {
        e.features.get(f).is_some_and(|x| x.enabled && matches!(x.entitlement.as_str(), "entitled" | "grace_period"))
    };
    let uses = |pred: fn(&StepSpec) -> bool| steps.iter().any(|st| st.action != Action::NoOp && pred(&st.spec));
    let needs: [(&str, bool, &str); 5] = [
        ("multiple_organizations", uses(|s| matches!(s, StepSpec::Organization(_))), "creating organizations"),
        ("custom_roles", uses(|s| matches!(s, StepSpec::CustomRole(_))), "custom roles"),
        ("external_provisioner_daemons", uses(|s| matches!(s, StepSpec::ProvisionerKey(_))), "provisioner keys"),
        (
            "template_rbac",
            uses(|s| matches!(s, StepSpec::Group(_) | StepSpec::Template(_))),
            "groups and template access lists",
        ),
        ("access_control", uses(|s| matches!(s, StepSpec::Deprecation(_))), "deprecating templates"),
    ];
    needs
        .iter()
        .filter(|(feature, used, _)| *used && !on(feature))
        .map(|(feature, _, what)| Finding {
            code: "not-entitled".into(),
            severity: Severity::Risk,
            message: format!(
                "the licence does not include `{feature}`, which {what} needs: the server will refuse those steps"
            ),
            help: Some("check `coder licenses list` and the entitlements page before applying".into()),
            affects: vec![],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check on the target organizations' part of the state finds what
    /// the check on the whole after-state finds: on MegaCo's plan (nothing),
    /// and with each new organization in turn giving members no default
    /// roles, or each copy's access list emptied (its movers, but admins).
    #[test]
    fn the_usable_check_on_the_target_orgs_equals_the_check_on_the_whole_after_state() {
        let (before, plan) = crate::plan::megaco_plan();
        let whole = |plan: &Plan| {
            let after = super::super::after::apply(before.clone(), plan).unwrap();
            super::super::usable::findings(&after, plan)
        };
        assert!(usable_findings(&before, &plan).is_empty());
        assert_eq!(whole(&plan), usable_findings(&before, &plan));
        let mut found = 0;
        for i in 0..plan.steps.len() {
            let mut changed = plan.clone();
            match &mut changed.steps[i].spec {
                StepSpec::Organization(o) => o.default_member_roles = Some(vec![]),
                StepSpec::Template(t) => t.acl = Default::default(),
                _ => continue,
            }
            let restricted = usable_findings(&before, &changed);
            assert_eq!(whole(&changed), restricted, "step {}", changed.steps[i].key);
            found += restricted.len();
        }
        assert!(found > 0, "some changes leave movers unable to use a copy");
    }
}
