//! Assemble the report from the scoring and the plan of one split. Every
//! list is sorted, so the same inputs give the same report.

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::plan::{Action, ManagedBy, OrgSummary, Plan, Step, StepSpec, WorkspaceMigration};
use crate::rules::derive::Context;
use crate::rules::score::{Match, Status};
use crate::rules::{self, Scored};

/// What the report is made from.
pub struct Inputs<'a, 's> {
    /// The snapshot's lookups, as scoring built them.
    pub ctx: &'a Context<'s>,
    pub scoring: &'a rules::Scoring,
    pub plan: &'a Plan,
    pub origin: SplitOrigin,
    /// Settings the split left blank (shown as markers in the messages).
    pub to_fill_in: Vec<String>,
}

pub fn build(inputs: Inputs) -> Report {
    let Inputs { ctx, scoring, plan, origin, to_fill_in } = inputs;
    // user id -> the split orgs they are members of after the plan.
    let mut user_orgs: HashMap<&str, Vec<&str>> = HashMap::new();
    for s in &plan.steps {
        if let (StepSpec::Member(m), Some(org)) = (&s.spec, &s.org) {
            user_orgs.entry(m.user.user_id.as_str()).or_default().push(org);
        }
    }
    // The picture (a third of the work) is drawn on a second core.
    let (rest, picture) = crate::cores::join(
        || build_with(ctx, scoring, plan, origin, to_fill_in, &user_orgs),
        || picture::build(ctx, plan, &user_orgs),
    );
    Report { picture, ..rest }
}

/// The report but its picture (left empty).
fn build_with(
    ctx: &Context,
    scoring: &rules::Scoring,
    plan: &Plan,
    origin: SplitOrigin,
    to_fill_in: Vec<String>,
    user_orgs: &HashMap<&str, Vec<&str>>,
) -> Report {
    let candidates: Vec<Verdict> = scoring.candidates.iter().map(|s| verdict(s, user_orgs)).collect();
    // Steps and migrations by org, once: a split can have hundreds of orgs.
    let mut steps: HashMap<&str, Vec<&Step>> = HashMap::new();
    for s in &plan.steps {
        steps.entry(s.org.as_deref().unwrap_or_default()).or_default().push(s);
    }
    let mut moving: HashMap<&str, Vec<&WorkspaceMigration>> = HashMap::new();
    for m in &plan.workspace_migrations {
        moving.entry(&m.new.org).or_default().push(m);
    }
    let organizations: Vec<Org> = plan
        .organizations
        .iter()
        .map(|o| {
            let name = o.name.as_str();
            org(o, steps.get(name).map_or(&[], Vec::as_slice), moving.get(name).map_or(&[], Vec::as_slice), &candidates)
        })
        .collect();
    let shared_templates = shared_templates(ctx, plan, user_orgs);
    let staying_templates = staying_templates(ctx, plan, user_orgs);
    let deprecations = deprecations(plan);
    let migrations = migrations(plan);
    let mut summary = summary(plan, &candidates, &organizations, &shared_templates, &deprecations, user_orgs);
    summary.users_total = ctx.index.snapshot.users.len();
    summary.workspaces_total = ctx.index.snapshot.workspaces.len();
    let m = &plan.migration;
    Report {
        format_version: FORMAT_VERSION,
        deployment: Deployment {
            url: plan.deployment.url.clone(),
            version: plan.deployment.version.clone(),
            source_kind: plan.snapshot.source_kind.clone(),
            source_location: plan.snapshot.source_location.clone(),
            taken_at: plan.snapshot.taken_at.clone(),
            fingerprint: plan.snapshot.fingerprint.clone(),
        },
        split: SplitUsed {
            origin,
            file: plan.split.file.clone(),
            sha256: plan.split.sha256.clone(),
            wiki: m.wiki.clone(),
            deadline: m.deadline.clone(),
            deprecation_message_template: m.deprecation_message_template.clone(),
            shared_templates: m.shared_templates,
            to_fill_in,
        },
        summary,
        candidates,
        organizations,
        shared_templates,
        staying_templates,
        deprecations,
        migrations,
        findings: plan.findings.clone(),
        picture: Picture::default(),
    }
}

fn verdict(s: &Scored, user_orgs: &HashMap<&str, Vec<&str>>) -> Verdict {
    let d = &s.decision;
    let case: Option<&Match> = d.best.as_ref().or(d.nearest.as_ref());
    let (reasons, missing) = case.map_or((Vec::new(), Vec::new()), |m| {
        let (met, rest): (Vec<_>, Vec<_>) = m.conditions.iter().partition(|c| c.status == Status::Met);
        let missing = rest
            .iter()
            .map(|c| if c.status == Status::Unknown { format!("{} (unknown)", c.reason) } else { c.reason.clone() })
            .collect();
        (met.iter().map(|c| c.reason.clone()).collect(), missing)
    });
    let evidence = case.map_or(Vec::new(), |m| key_evidence(m, s));
    let mut placed: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &s.candidate.members {
        for o in user_orgs.get(m.as_str()).into_iter().flatten() {
            *placed.entry(o).or_default() += 1;
        }
    }
    let mut placed_in: Vec<Placement> =
        placed.into_iter().map(|(org, members)| Placement { org: org.to_string(), members }).collect();
    placed_in.sort_by(|a, b| b.members.cmp(&a.members).then_with(|| a.org.cmp(&b.org)));
    let is_organization = d.recommendation.is_organization();
    let most_placed = placed_in.first().is_some_and(|p| p.members * 2 > s.members);
    // An umbrella's people go with the teams it spans: only an organization
    // holding a subset's share of them (80%) would be one of its own.
    let umbrella = matches!(s.relation, Some(rules::overlaps::Relation::UmbrellaOver { .. }));
    let most_placed = most_placed
        && (!umbrella || placed_in.first().is_some_and(|p| p.members * 100 >= rules::overlaps::SUBSET * s.members));
    let agreement = match (is_organization, most_placed) {
        (true, true) | (false, false) => Agreement::AsRecommended,
        (true, false) => Agreement::NotInSplit,
        (false, true) => Agreement::OrgNotRecommended,
    };
    let mut notes = d.notes.clone();
    notes.extend(s.contradictions.iter().map(|c| format!("declared fact contradicts the snapshot: {}", c.line())));
    Verdict {
        name: s.candidate.name.clone(),
        display_name: s.candidate.display_name.clone(),
        source: s.candidate.source.clone(),
        members: s.members,
        recommendation: d.recommendation.id().to_string(),
        recommendation_title: d.recommendation.title().to_string(),
        is_organization,
        joins: s.merged_into.clone(),
        relation: s.relation.as_ref().map(|r| r.label()),
        case: case.map(|m| m.title.clone()),
        case_applies: d.best.is_some(),
        met: case.map_or(0, |m| m.met),
        total: case.map_or(0, |m| m.total),
        reasons,
        missing,
        evidence,
        warnings: d.warnings.iter().map(|w| w.title.clone()).collect(),
        notes,
        contradictions: s.contradictions.clone(),
        reference: case.map_or(String::new(), |m| m.reference.clone()),
        placed_in,
        agreement,
    }
}

/// One org of the split, from its steps and the migrations into it.
fn org(o: &OrgSummary, steps: &[&Step], moving_in: &[&WorkspaceMigration], candidates: &[Verdict]) -> Org {
    let (mut by_api, mut by_sync) = (0, 0);
    let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut member_usernames = Vec::new();
    let mut groups = Vec::new();
    let mut templates = Vec::new();
    let mut provisioner_key = None;
    let mut custom_roles = Vec::new();
    let mut moving: HashMap<&str, usize> = HashMap::new();
    let mut owners = BTreeSet::new();
    for m in moving_in {
        *moving.entry(m.new.template_step.as_str()).or_default() += 1;
        owners.insert(m.owner.user_id.as_str());
    }
    for s in steps {
        match &s.spec {
            StepSpec::Member(m) => {
                match m.membership_by {
                    ManagedBy::Api => by_api += 1,
                    ManagedBy::IdpSync { .. } => by_sync += 1,
                }
                for r in &m.roles {
                    roles.entry(r.clone()).or_default().push(m.user.username.clone());
                }
                member_usernames.push(m.user.username.clone());
            }
            StepSpec::Group(g) => groups.push(OrgGroup {
                name: g.name.clone(),
                members: g.members.len(),
                copied_from: g.source.as_ref().map(|r| format!("{}/{}", r.org, r.name)),
            }),
            StepSpec::Template(t) => templates.push(OrgTemplate {
                name: t.name.clone(),
                recreated_from: format!("{}/{}", t.source.org, t.source.name),
                action: action(s.action).into(),
                provisioner_tags: t.provisioner_tags.clone(),
                workspaces_to_migrate: moving.get(s.key.as_str()).copied().unwrap_or(0),
            }),
            StepSpec::ProvisionerKey(k) => {
                provisioner_key = Some(ProvisionerKey {
                    name: k.name.clone(),
                    tags: k.tags.clone(),
                    create_command: k.create_command.clone(),
                    start_command: k.start_command.clone(),
                })
            }
            StepSpec::CustomRole(r) => custom_roles.push(r.name.clone()),
            _ => {}
        }
    }
    for v in roles.values_mut() {
        v.sort();
    }
    member_usernames.sort();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    templates.sort_by(|a, b| a.name.cmp(&b.name));
    custom_roles.sort();
    let candidates = candidates
        .iter()
        .filter(|c| c.placed_in.first().is_some_and(|p| p.org == o.name && p.members * 2 > c.members))
        .map(|c| c.name.clone())
        .collect();
    Org {
        name: o.name.clone(),
        display_name: o.display_name.clone(),
        description: o.description.clone(),
        exists: o.exists,
        members: o.members,
        members_by_api: by_api,
        members_by_idp_sync: by_sync,
        roles,
        groups,
        templates,
        provisioner_key,
        custom_roles,
        workspace_proxies: o.workspace_proxies.clone(),
        users_to_migrate: owners.len(),
        workspaces_to_migrate: o.workspaces_to_migrate,
        candidates,
        member_usernames,
    }
}

fn action(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::NoOp => "no-op",
    }
}

/// Templates re-created somewhere whose users end up in more than one place.
fn shared_templates(ctx: &Context, plan: &Plan, user_orgs: &HashMap<&str, Vec<&str>>) -> Vec<SharedTemplate> {
    let mut copies: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut deprecated = BTreeSet::new();
    for s in &plan.steps {
        match (&s.spec, &s.org) {
            (StepSpec::Template(t), Some(org)) => {
                copies.entry(t.source.template_id.as_str()).or_default().insert(org);
            }
            (StepSpec::Deprecation(d), _) => {
                deprecated.insert(d.template_id.as_str());
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (id, orgs) in copies {
        let Some(t) = ctx.index.template_by_id.get(id) else { continue };
        let users = ctx.template_users.get(id);
        let mut places: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        for u in users.into_iter().flatten() {
            match user_orgs.get(u) {
                Some(os) => os.iter().for_each(|o| *places.entry(Some(o)).or_default() += 1),
                None => *places.entry(None).or_default() += 1,
            }
        }
        if places.len() < 2 {
            continue;
        }
        let findings = plan
            .findings
            .iter()
            .filter(|f| matches!(f.code.as_str(), "shared-template" | "users-left-behind"))
            .filter(|f| f.affects.iter().any(|a| a.kind == "template" && a.id.as_deref() == Some(id)))
            .map(|f| f.message.clone())
            .collect();
        let mut destinations: Vec<Destination> =
            places.into_iter().map(|(org, users)| Destination { org: org.map(str::to_string), users }).collect();
        destinations.sort_by(|a, b| b.users.cmp(&a.users).then_with(|| a.org.cmp(&b.org)));
        out.push(SharedTemplate {
            template: t.name.clone(),
            org: ctx.index.org_name(&t.organization_id).to_string(),
            copies: orgs.into_iter().map(str::to_string).collect(),
            deprecated: deprecated.contains(id),
            users: users.map_or(0, BTreeSet::len),
            destinations,
            findings,
        });
    }
    out.sort_by(|a, b| (&a.org, &a.template).cmp(&(&b.org, &b.template)));
    out
}

fn deprecations(plan: &Plan) -> Vec<Deprecation> {
    let mut moving: HashMap<&str, usize> = HashMap::new();
    for m in &plan.workspace_migrations {
        *moving.entry(m.old.template_id.as_str()).or_default() += 1;
    }
    let mut out: Vec<Deprecation> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.spec {
            StepSpec::Deprecation(d) => Some(Deprecation {
                template: d.template_name.clone(),
                org: s.org.clone().unwrap_or_default(),
                display_name: d.template_display_name.clone(),
                message: d.message.clone(),
                replacements: d.replacements.iter().map(|r| format!("{}/{}", r.org, r.template)).collect(),
                workspaces_to_migrate: moving.get(d.template_id.as_str()).copied().unwrap_or(0),
            }),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| (&a.org, &a.template).cmp(&(&b.org, &b.template)));
    out
}

fn migrations(plan: &Plan) -> Vec<OrgMigrations> {
    let mut by_org: BTreeMap<&str, BTreeMap<&str, UserMigration>> = BTreeMap::new();
    for m in &plan.workspace_migrations {
        let user = by_org.entry(&m.new.org).or_default().entry(&m.owner.username).or_insert_with(|| UserMigration {
            username: m.owner.username.clone(),
            name: m.owner.name.clone(),
            email: m.owner.email.clone(),
            status: m.owner.status.clone(),
            workspaces: Vec::new(),
        });
        user.workspaces.push(WorkspaceMove {
            old_workspace: m.old.name.clone(),
            old_template: format!("{}/{}", m.old.org, m.old.template),
            old_status: m.old.status.clone(),
            new_workspace: m.new.workspace_name.clone(),
            new_template: m.new.template.clone(),
            state: serde_json::to_value(m.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            name_note: m.new.name_note.clone(),
        });
    }
    by_org
        .into_iter()
        .map(|(org, users)| OrgMigrations { org: org.to_string(), users: users.into_values().collect() })
        .collect()
}

fn summary(
    plan: &Plan,
    candidates: &[Verdict],
    orgs: &[Org],
    shared: &[SharedTemplate],
    deprecations: &[Deprecation],
    user_orgs: &HashMap<&str, Vec<&str>>,
) -> Summary {
    let count = |sev: crate::plan::Severity| plan.findings.iter().filter(|f| f.severity == sev).count();
    let users: BTreeSet<&str> = plan.workspace_migrations.iter().map(|m| m.owner.user_id.as_str()).collect();
    Summary {
        candidates: candidates.len(),
        recommended_organizations: candidates.iter().filter(|c| c.is_organization && c.joins.is_none()).count(),
        organizations: orgs.len(),
        new_organizations: orgs.iter().filter(|o| !o.exists).count(),
        members_placed: user_orgs.len(),
        templates_recreated: orgs.iter().map(|o| o.templates.len()).sum(),
        templates_deprecated: deprecations.len(),
        shared_templates: shared.len(),
        users_to_migrate: users.len(),
        workspaces_to_migrate: plan.workspace_migrations.len(),
        users_total: 0,
        workspaces_total: 0,
        steps_create: plan.summary.create,
        steps_update: plan.summary.update,
        steps_unchanged: plan.summary.no_op,
        risks: count(Severity::Risk),
        warnings: count(Severity::Warning),
        notes: count(Severity::Info),
    }
}

/// Evidence items shown per fact, and per candidate, in the report.
const EVIDENCE_PER_FACT: usize = 2;
const EVIDENCE_PER_CANDIDATE: usize = 8;

/// The evidence of the facts the case's conditions test, met conditions
/// first: what was seen, with its file and line when it has one.
fn key_evidence(m: &Match, s: &Scored) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut conditions: Vec<_> = m.conditions.iter().collect();
    conditions.sort_by_key(|c| c.status != Status::Met);
    for c in conditions {
        for t in &c.tests {
            let Some(fact) = s.facts.get(&t.fact) else { continue };
            for e in fact.evidence.iter().take(EVIDENCE_PER_FACT) {
                let line = match &e.at {
                    Some(at) => format!("{} (`{at}`)", e.text),
                    None => e.text.clone(),
                };
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
    }
    out.truncate(EVIDENCE_PER_CANDIDATE);
    out
}

/// Templates that are not deprecated and stay in their org while members of
/// split orgs (without a copy of it in their org) keep using them.
fn staying_templates(ctx: &Context, plan: &Plan, user_orgs: &HashMap<&str, Vec<&str>>) -> Vec<StayingTemplate> {
    let mut copies: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut deprecated: BTreeSet<&str> = BTreeSet::new();
    for s in &plan.steps {
        match (&s.spec, &s.org) {
            (StepSpec::Template(t), Some(org)) => {
                copies.insert((t.source.template_id.as_str(), org.as_str()));
            }
            (StepSpec::Deprecation(d), _) => {
                deprecated.insert(d.template_id.as_str());
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for t in &ctx.index.snapshot.templates {
        if deprecated.contains(t.id.as_str()) {
            continue;
        }
        let home = ctx.index.org_name(&t.organization_id);
        let users = ctx.template_users.get(t.id.as_str());
        let mut kept: BTreeMap<&str, usize> = BTreeMap::new();
        for u in users.into_iter().flatten() {
            for &o in user_orgs.get(u).into_iter().flatten() {
                if o != home && !copies.contains(&(t.id.as_str(), o)) {
                    *kept.entry(o).or_default() += 1;
                }
            }
        }
        if kept.is_empty() {
            continue;
        }
        let mut kept_by: Vec<Placement> =
            kept.into_iter().map(|(org, members)| Placement { org: org.to_string(), members }).collect();
        kept_by.sort_by(|a, b| b.members.cmp(&a.members).then_with(|| a.org.cmp(&b.org)));
        out.push(StayingTemplate {
            org: home.to_string(),
            template: t.name.clone(),
            users: users.map_or(0, BTreeSet::len),
            kept_by,
        });
    }
    out.sort_by(|a, b| (&a.org, &a.template).cmp(&(&b.org, &b.template)));
    out
}
