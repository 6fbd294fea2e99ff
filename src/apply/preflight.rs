//! What apply checks before its first change, all at once: the caller's
//! permissions, the license, names that are already taken, and for
//! templates re-created in orgs that already exist, a provisioner to build
//! them. Anything wrong stops the run before it changes anything.

use std::collections::BTreeMap;

use crate::coder::types as wire;
use crate::error::{Error, Result};
use crate::model::Snapshot;
use crate::plan::{Action, Plan, StepSpec};

/// The licensed feature a kind of step needs.
fn feature(spec: &StepSpec) -> Option<&'static str> {
    match spec {
        StepSpec::Organization(_) | StepSpec::OrganizationSync(_) => Some("multiple_organizations"),
        StepSpec::CustomRole(_) => Some("custom_roles"),
        StepSpec::Group(_) | StepSpec::Template(_) => Some("template_rbac"),
        StepSpec::ProvisionerKey(_) => Some("external_provisioner_daemons"),
        StepSpec::Deprecation(_) => Some("access_control"),
        StepSpec::Member(_) | StepSpec::GroupSync(_) | StepSpec::RoleSync(_) => None,
    }
}

pub fn check(plan: &Plan, live: &Snapshot, me: &wire::User, resuming: bool, notes: &mut Vec<String>) -> Result<()> {
    let mut problems = Vec::new();
    let changing: Vec<_> = plan.steps.iter().filter(|s| s.action != Action::NoOp).collect();
    if changing.is_empty() {
        return Ok(());
    }
    if !me.roles.iter().any(|r| r.name == "owner") {
        let has: Vec<&str> = me.roles.iter().map(|r| r.name.as_str()).collect();
        problems.push(format!(
            "the token's account `{}` does not have the `owner` site role, which apply needs (it creates \
             organizations, adds members across orgs and sets IdP sync); it has: {}",
            me.username,
            if has.is_empty() { "no site role".to_string() } else { has.join(", ") }
        ));
    }
    // Which deployment this is was settled before the token went anywhere
    // (`commands::apply`: the address given on this run must be the plan's);
    // the fingerprint check says whether it is in the plan's state.
    let mut needs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &changing {
        if let Some(f) = feature(&s.spec) {
            needs.entry(f).or_default().push(&s.key);
        }
    }
    for (f, keys) in needs {
        let ok = live
            .entitlements
            .as_ref()
            .and_then(|e| e.features.get(f))
            .is_some_and(|x| x.enabled && matches!(x.entitlement.as_str(), "entitled" | "grace_period"));
        if !ok {
            problems.push(format!(
                "the license does not include `{f}`, which {} step(s) need (`{}`{})",
                keys.len(),
                keys[0],
                if keys.len() > 1 { ", ..." } else { "" }
            ));
        }
    }
    if !resuming {
        problems.extend(collisions(plan, live));
    }
    problems.extend(provisioners(plan, live, notes));
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!("apply stopped before changing anything:\n  - {}", problems.join("\n  - "))))
}

/// Objects the plan creates whose names are taken already.
fn collisions(plan: &Plan, live: &Snapshot) -> Vec<String> {
    let org_id = |name: &str| live.organizations.iter().find(|o| o.name == name).map(|o| o.id.as_str());
    let mut out = Vec::new();
    for s in plan.steps.iter().filter(|s| s.action == Action::Create) {
        let org = s.org.as_deref().unwrap_or_default();
        let id = org_id(org);
        let taken = match &s.spec {
            StepSpec::Organization(o) => org_id(&o.name).is_some(),
            StepSpec::Group(g) => {
                live.groups.iter().any(|x| Some(x.organization_id.as_str()) == id && x.name == g.name)
            }
            StepSpec::Template(t) => {
                live.templates.iter().any(|x| Some(x.organization_id.as_str()) == id && x.name == t.name)
            }
            StepSpec::ProvisionerKey(k) => {
                live.provisioner_keys.iter().any(|x| Some(x.organization.as_str()) == id && x.name == k.name)
            }
            StepSpec::CustomRole(r) => {
                live.custom_roles.iter().any(|x| Some(x.organization_id.as_str()) == id && x.name == r.name)
            }
            _ => false,
        };
        if taken {
            out.push(format!(
                "`{}` would create {} `{}`, which already exists: plan again",
                s.key,
                s.spec.kind(),
                s.name
            ));
        }
    }
    out
}

/// Templates going to orgs that exist already need a provisioner there now;
/// templates going to orgs the plan creates wait for one at run time (their
/// key does not exist yet, so nobody can have started it).
fn provisioners(plan: &Plan, live: &Snapshot, notes: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut later: Vec<&str> = Vec::new();
    for s in plan.steps.iter().filter(|s| s.action == Action::Create) {
        let (Some(org), StepSpec::Template(t)) = (s.org.as_deref(), &s.spec) else { continue };
        let key = plan.steps.iter().find_map(|k| match &k.spec {
            StepSpec::ProvisionerKey(spec) if k.org.as_deref() == Some(org) => Some((k.action, spec)),
            _ => None,
        });
        let org_created = plan
            .steps
            .iter()
            .any(|o| o.action == Action::Create && matches!(&o.spec, StepSpec::Organization(x) if x.name == org));
        let Some(org_id) = live.organizations.iter().find(|o| o.name == org).map(|o| o.id.as_str()) else {
            later.push(org);
            continue;
        };
        if org_created || matches!(key, Some((Action::Create, _))) {
            later.push(org);
            continue;
        }
        let serves = live.provisioner_daemons.iter().any(|d| {
            d.organization_id == org_id
                && d.status != "offline"
                && d.tags.get("scope").is_none_or(|v| v == "organization")
                && t.provisioner_tags.iter().all(|(k, v)| d.tags.get(k) == Some(v))
        });
        if !serves {
            let tags: Vec<String> = t.provisioner_tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let how = match key {
                Some((_, k)) => format!("start one with key `{}` (`{}`)", k.name, k.start_command),
                None => format!("create a key for `{org}` with these tags and start a provisioner with it"),
            };
            out.push(format!(
                "`{}` re-creates a template in `{org}`, where no provisioner with tags {} is running: {how}, then run \
                 apply again",
                s.key,
                if tags.is_empty() { "(none)".to_string() } else { tags.join(" ") }
            ));
        }
    }
    later.sort_unstable();
    later.dedup();
    if !later.is_empty() {
        notes.push(format!(
            "templates re-created in {} build only once a provisioner serves each org: apply creates each org's key \
             and shows its secret once; start a provisioner with it (the plan's `start_command`), and apply goes on \
             (--wait-for-provisioners) or a rerun does",
            later.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    out
}
