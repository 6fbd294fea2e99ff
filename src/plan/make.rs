//! `plan()`: the whole pipeline from a snapshot and a split document to a
//! plan, plus the checks that look at the plan as a whole (licence
//! features, empty orgs).

use std::cmp::Reverse;
use std::collections::BTreeMap;

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
    // Whether those whose workspaces move can use the copies, in the after-state.
    // Only what access depends on is copied (not the workspaces, people and
    // sources, the bulk of a large state). A plan that does not fit together
    // is refused by diff and apply, which say why.
    let access_state = Snapshot {
        organizations: snapshot.organizations.clone(),
        users: snapshot.users.clone(),
        organization_members: snapshot.organization_members.clone(),
        groups: snapshot.groups.clone(),
        templates: snapshot.templates.clone(),
        template_versions: snapshot.template_versions.clone(),
        provisioner_keys: snapshot.provisioner_keys.clone(),
        custom_roles: snapshot.custom_roles.clone(),
        idp_sync: snapshot.idp_sync.clone(),
        ..Snapshot::default()
    };
    if let Ok(after) = super::after::apply(access_state, &plan) {
        plan.findings.extend(super::usable::findings(&after, &plan));
    }
    plan.findings
        .sort_by(|a, b| (Reverse(a.severity), &a.code, &a.message).cmp(&(Reverse(b.severity), &b.code, &b.message)));
    Ok(plan)
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
