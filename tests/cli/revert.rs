//! `orgsplit revert`, against the fake Coder loaded with MegaCo: apply the
//! split, revert it, read the deployment again and compare it with the
//! original snapshot (the differences are exactly the listed leftovers); a
//! revert killed midway and run again converges; a second revert changes
//! nothing; and the binary refuses what it must.

use std::collections::BTreeSet;
use std::path::Path;

use orgsplit::apply::revert::{self, RevertOptions, RevertOutcome};
use orgsplit::error::Error;
use orgsplit::model::Snapshot;
use orgsplit::plan::{Action, Plan, StepSpec};

use crate::apply_support::*;
use fake_coder::{FakeCoder, megaco};

fn import(fake: &FakeCoder) -> Snapshot {
    let (client, _) = fake.client();
    orgsplit::import::live::import_live(&client, &Default::default()).unwrap()
}

fn revert_run(fake: &FakeCoder, plan: &Path, options: &RevertOptions) -> orgsplit::error::Result<RevertOutcome> {
    let (client, _) = fake.client();
    let bytes = std::fs::read(plan).unwrap();
    let parsed = Plan::from_json(&bytes, plan)?;
    let prepared = revert::prepare(&client, parsed, plan, &bytes, options)?;
    revert::execute(&prepared, &client, options, &mut Admin::new(fake))
}

/// MegaCo applied in a fresh fake; the plan's path (in `dir`), and the state before.
fn applied(dir: &Path) -> (FakeCoder, std::path::PathBuf, Snapshot) {
    let fake = FakeCoder::start(megaco());
    let path = write_plan(dir, &megaco(), &split_text("split.toml"));
    let original = import(&fake);
    let report = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
    done_but_the_idp_risk(&report, &read_plan(&path));
    (fake, path, original)
}

/// Everything in the named orgs, and the orgs, taken out of a snapshot (by ids).
fn without_orgs(mut s: Snapshot, names: &BTreeSet<String>) -> Snapshot {
    let ids: BTreeSet<String> =
        s.organizations.iter().filter(|o| names.contains(&o.name)).map(|o| o.id.clone()).collect();
    s.organizations.retain(|o| !ids.contains(&o.id));
    s.organization_members.retain(|m| !ids.contains(&m.organization_id));
    s.groups.retain(|g| !ids.contains(&g.organization_id));
    s.templates.retain(|t| !ids.contains(&t.organization_id));
    s.template_versions.retain(|v| !ids.contains(&v.organization_id));
    s.provisioner_keys.retain(|k| !ids.contains(&k.organization));
    s.provisioner_daemons.retain(|d| !ids.contains(&d.organization_id));
    s.custom_roles.retain(|r| !ids.contains(&r.organization_id));
    s.idp_sync.groups.retain(|g| !ids.contains(&g.organization_id));
    s.idp_sync.roles.retain(|r| !ids.contains(&r.organization_id));
    s
}

fn writes(fake: &FakeCoder) -> Vec<String> {
    fake.log().iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect()
}

#[test]
fn apply_then_revert_leaves_exactly_the_listed_leftovers_and_a_second_revert_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path, original) = applied(dir.path());
    let plan = read_plan(&path);
    let before_revert = fake.log().len();
    let outcome = revert_run(&fake, &path, &RevertOptions::default()).unwrap();
    let text = outcome.render();
    assert_eq!(outcome.exit_code(), 0, "{text}");
    assert_eq!(outcome.differences.as_deref(), Some(""), "{text}");
    assert!(outcome.kept.is_empty(), "{text}");

    // What was undone: every deprecation lifted, every member the API added removed.
    let count = |f: &dyn Fn(&StepSpec) -> bool| plan.steps.iter().filter(|s| f(&s.spec)).count();
    let deprecations = count(&|s| matches!(s, StepSpec::Deprecation(_)));
    let me = Some(fake.client().0.me().unwrap().id);
    let api_members = count(&|s| {
        matches!(s, StepSpec::Member(m) if m.membership_by == orgsplit::plan::ManagedBy::Api
            && Some(&m.user.user_id) != me.as_ref())
    });
    let lifted = outcome.ledger.items.iter().filter(|i| i.key.contains("/deprecation/")).count();
    let removed = outcome.ledger.items.iter().filter(|i| i.status.detail().starts_with("remove `")).count();
    assert!(deprecations > 0 && api_members > 0, "the split deprecates and adds members");
    assert_eq!((lifted, removed), (deprecations, api_members), "{text}");
    assert!(outcome.ledger.items.iter().all(|i| i.status.is_done()), "{text}");
    // Its only deletes are memberships.
    let log = fake.log();
    let deletes: Vec<&str> =
        log[before_revert..].iter().filter(|r| r.method == "DELETE").map(|r| r.path.as_str()).collect();
    assert!(deletes.len() == removed && deletes.iter().all(|p| p.contains("/members/")), "{deletes:?}");

    // The leftovers are what the plan created, each with its command.
    let created = |kind: &str| -> BTreeSet<(String, String)> {
        plan.steps
            .iter()
            .filter(|s| s.action == Action::Create)
            .filter_map(|s| {
                let org = s.org.clone().unwrap_or_default();
                match (&s.spec, kind) {
                    (StepSpec::Organization(o), "organization") => Some((o.name.clone(), o.name.clone())),
                    (StepSpec::Template(t), "template") => Some((org, t.name.clone())),
                    (StepSpec::ProvisionerKey(k), "provisioner key") => Some((org, k.name.clone())),
                    (StepSpec::Group(g), "group") => Some((org, g.name.clone())),
                    (StepSpec::CustomRole(r), "custom role") => Some((org, r.name.clone())),
                    _ => None,
                }
            })
            .collect()
    };
    let listed = |kind: &str| -> BTreeSet<(String, String)> {
        outcome.leftovers.iter().filter(|l| l.kind == kind).map(|l| (l.org.clone(), l.name.clone())).collect()
    };
    for kind in ["organization", "template", "provisioner key", "group", "custom role"] {
        assert_eq!(listed(kind), created(kind), "{kind}\n{text}");
    }
    assert_eq!(listed("member"), BTreeSet::new(), "{text}");
    assert_eq!(
        outcome.leftovers.len(),
        created("organization").len()
            + created("template").len()
            + created("provisioner key").len()
            + created("group").len()
            + created("custom role").len()
    );
    let t = outcome.leftovers.iter().find(|l| l.kind == "template").unwrap();
    assert!(t.command.starts_with(&format!("coder templates delete --org {} --yes -- ", t.org)), "{}", t.command);
    let o = outcome.leftovers.iter().find(|l| l.kind == "organization").unwrap();
    assert!(o.command.ends_with(&format!("\"$CODER_URL\"/api/v2/organizations/{}", o.name)), "{}", o.command);
    // Organizations last: Coder deletes one only once it is empty.
    let first_org = outcome.leftovers.iter().position(|l| l.kind == "organization").unwrap();
    assert!(outcome.leftovers[first_org..].iter().all(|l| l.kind == "organization"), "{text}");

    // Re-imported, the deployment is the original but for the new orgs and all in them.
    let after = import(&fake);
    let new_orgs: BTreeSet<String> = created("organization").into_iter().map(|(o, _)| o).collect();
    for (org, name) in created("template") {
        assert!(
            new_orgs.contains(&org),
            "template `{name}` in `{org}`: MegaCo's split makes templates in new orgs only"
        );
    }
    let readable = orgsplit::render::readable::readable;
    assert_eq!(readable(&without_orgs(after.clone(), &new_orgs)), readable(&original));
    assert_ne!(readable(&after), readable(&original), "the leftovers are there");
    for name in &new_orgs {
        assert!(
            after.organizations.iter().any(|o| &o.name == name)
                && original.organizations.iter().all(|o| &o.name != name)
        );
    }

    // A second revert finds nothing to undo and sends no change.
    let writes_before = writes(&fake).len();
    let again = revert_run(&fake, &path, &RevertOptions::default()).unwrap();
    assert_eq!((again.ledger.items.len(), again.exit_code()), (0, 0), "{}", again.render());
    assert_eq!(
        writes(&fake).len(),
        writes_before,
        "the second revert sent changes: {:?}",
        &writes(&fake)[writes_before..]
    );
    assert_eq!(again.leftovers, outcome.leftovers);
    let journal = std::fs::read_to_string(dir.path().join("plan.json.revert.journal")).unwrap();
    assert_eq!(journal.matches("\"event\":\"run-started\"").count(), 2);
    no_secrets_or_token(&fake, dir.path());
}

fn no_secrets_or_token(fake: &FakeCoder, dir: &Path) {
    let token = fake.token();
    for f in crate::common::files_in(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(dir.join(&f)).unwrap()).into_owned();
        assert!(!text.contains(&token), "the session token is in {f}");
    }
}

/// Killed after 1, about half, and all but one of its undos: a rerun does
/// the rest and ends where an uninterrupted revert ends.
#[test]
fn a_revert_killed_midway_and_run_again_converges() {
    let reference = {
        let dir = tempfile::tempdir().unwrap();
        let (fake, path, _) = applied(dir.path());
        let outcome = revert_run(&fake, &path, &RevertOptions::default()).unwrap();
        assert_eq!(outcome.exit_code(), 0, "{}", outcome.render());
        (end_state(&fake), outcome.ledger.items.len(), outcome.leftovers)
    };
    let total = reference.1;
    assert!(total > 10, "{total}");
    for kill in [1, total / 2, total - 1] {
        let dir = tempfile::tempdir().unwrap();
        let (fake, path, _) = applied(dir.path());
        let stop = RevertOptions { stop_after: Some(kill), ..RevertOptions::default() };
        match revert_run(&fake, &path, &stop) {
            Err(Error::Interrupted(_)) => {}
            Err(e) => panic!("{e}"),
            Ok(r) => panic!("not stopped: {}", r.render()),
        }
        let rerun = revert_run(&fake, &path, &RevertOptions::default()).unwrap();
        let at = format!("killed after {kill} of {total} undos");
        assert_eq!(rerun.exit_code(), 0, "{at}\n{}", rerun.render());
        assert_eq!(rerun.ledger.items.len(), total - kill, "{at}: the rerun did only the rest");
        assert_eq!(end_state(&fake), reference.0, "{at}");
        assert_eq!(rerun.leftovers, reference.2, "{at}");
        let journal = std::fs::read_to_string(dir.path().join("plan.json.revert.journal")).unwrap();
        assert_eq!(journal.matches("\"event\":\"run-started\"").count(), 2, "{at}");
        assert_eq!(journal.matches("\"event\":\"step\"").count(), total, "{at}: each undo recorded once");
    }
}

fn items(outcome: &RevertOutcome) -> Vec<(String, String, String)> {
    outcome.ledger.items.iter().map(|i| (i.key.clone(), i.status.word().into(), i.status.detail().into())).collect()
}

/// With 4 undos at once: the same end state, ledger and journal as one at
/// a time; and killed with undos in flight (their outcomes unrecorded, as
/// after a kill), a rerun does the rest and ends in the same state.
#[test]
fn a_concurrent_revert_ends_as_a_sequential_one_even_killed_with_undos_in_flight() {
    let four = || RevertOptions { concurrency: 4, ..RevertOptions::default() };
    let reference = {
        let dir = tempfile::tempdir().unwrap();
        let (fake, path, _) = applied(dir.path());
        let outcome = revert_run(&fake, &path, &RevertOptions::default()).unwrap();
        assert_eq!(outcome.exit_code(), 0, "{}", outcome.render());
        (end_state(&fake), items(&outcome), outcome.leftovers)
    };
    {
        let dir = tempfile::tempdir().unwrap();
        let (fake, path, _) = applied(dir.path());
        let outcome = revert_run(&fake, &path, &four()).unwrap();
        assert_eq!(outcome.exit_code(), 0, "{}", outcome.render());
        assert_eq!(end_state(&fake), reference.0);
        assert_eq!(items(&outcome), reference.1, "the ledger lists the undos in the plan's order");
        assert_eq!(outcome.leftovers, reference.2);
    }
    let total = reference.1.len();
    assert!(total > 10, "{total}");
    for kill in [1, total / 2] {
        let dir = tempfile::tempdir().unwrap();
        let (fake, path, _) = applied(dir.path());
        let stop = RevertOptions { stop_after: Some(kill), ..four() };
        match revert_run(&fake, &path, &stop) {
            Err(Error::Interrupted(_)) => {}
            Err(e) => panic!("{e}"),
            Ok(r) => panic!("not stopped: {}", r.render()),
        }
        let journal = || std::fs::read_to_string(dir.path().join("plan.json.revert.journal")).unwrap();
        let first = journal().matches("\"event\":\"step\"").count();
        assert!(first >= kill, "killed after {kill}: {first} recorded");
        let rerun = revert_run(&fake, &path, &four()).unwrap();
        let at = format!("killed after {kill} undos recorded");
        assert_eq!(rerun.exit_code(), 0, "{at}\n{}", rerun.render());
        assert_eq!(end_state(&fake), reference.0, "{at}");
        assert_eq!(rerun.leftovers, reference.2, "{at}");
        let steps = journal().matches("\"event\":\"step\"").count();
        assert!(steps <= total, "{at}: {steps} undos recorded of {total}: none twice");
    }
}

/// A member who made a workspace in the new org since apply stays, listed
/// with the command; a deprecation message someone changed since stays too.
#[test]
fn revert_keeps_what_holds_work_and_what_others_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, path, _) = applied(dir.path());
    let plan = read_plan(&path);
    let me = fake.client().0.me().unwrap().id;
    let (org, user) = plan
        .steps
        .iter()
        .find_map(|s| match &s.spec {
            StepSpec::Member(m) if m.membership_by == orgsplit::plan::ManagedBy::Api && m.user.user_id != me => {
                Some((s.org.clone().unwrap(), m.user.clone()))
            }
            _ => None,
        })
        .unwrap();
    let dep = plan
        .steps
        .iter()
        .find_map(|s| match &s.spec {
            StepSpec::Deprecation(d) => Some(d.template_id.clone()),
            _ => None,
        })
        .unwrap();
    fake.state_mut(|st| {
        let org_id = st.org(&org).unwrap().id.clone();
        let t = st.s.templates.iter().find(|t| t.organization_id == org_id).unwrap().clone();
        let mut w = st.s.workspaces[0].clone();
        (w.id, w.name, w.owner_id, w.owner_name) =
            ("ws-new".into(), "work".into(), user.user_id.clone(), user.username.clone());
        (w.organization_id, w.template_id, w.template_name) = (org_id, t.id.clone(), t.name.clone());
        st.s.workspaces.push(w);
        let t = st.s.templates.iter_mut().find(|t| t.id == dep).unwrap();
        t.deprecation_message = "Gone: ask #help".into();
    });
    let outcome = revert_run(&fake, &path, &RevertOptions::default()).unwrap();
    let text = outcome.render();
    let kept = outcome.leftovers.iter().find(|l| l.kind == "member").expect("the member stays");
    assert_eq!((kept.org.as_str(), kept.name.as_str()), (org.as_str(), user.username.as_str()), "{text}");
    assert!(kept.why.contains("owns 1 workspace(s)"), "{text}");
    assert!(kept.command.starts_with("coder organizations members remove --org "), "{text}");
    assert!(outcome.kept.iter().any(|k| k.contains("deprecation message was changed after apply")), "{text}");
    let s = fake.snapshot();
    assert!(s.templates.iter().any(|t| t.id == dep && t.deprecation_message == "Gone: ask #help"));
    let org_id = s.organizations.iter().find(|o| o.name == org).unwrap().id.clone();
    assert!(s.organization_members.iter().any(|m| m.organization_id == org_id && m.user_id == user.user_id));
    assert_eq!(s.workspaces.iter().filter(|w| w.id == "ws-new").count(), 1, "never a workspace deleted");
    // Not what it promised: the deployment differs from before in more than the leftovers.
    assert_eq!(outcome.exit_code(), 3, "{text}");
    assert!(outcome.differences.as_deref().is_some_and(|d| d.contains("Gone: ask #help")), "{text}");
}

#[test]
fn revert_without_an_apply_journal_refuses_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeCoder::start(megaco());
    let path = write_plan(dir.path(), &megaco(), &split_text("split.toml"));
    let e = revert_run(&fake, &path, &RevertOptions::default()).err().expect("refused").to_string();
    assert!(e.contains("there is nothing to revert") && e.contains("plan.json.journal"), "{e}");
    assert!(writes(&fake).is_empty());
    // A `PLAN.before` that is not the recorded one is refused too.
    let (fake, path, _) = applied(dir.path());
    let before = dir.path().join("plan.json.before");
    let text = std::fs::read_to_string(&before).unwrap();
    std::fs::write(&before, text.replacen("\"name\"", "\"name\" ", 1)).unwrap();
    let sent = writes(&fake).len();
    let e = revert_run(&fake, &path, &RevertOptions::default()).err().expect("refused").to_string();
    assert!(e.contains("plan.json.before") && e.contains("digest differs"), "{e}");
    assert_eq!(writes(&fake).len(), sent);
}

/// The program: without a terminal it asks for --yes; with it, and no
/// apply journal beside the plan, it refuses before changing anything.
#[test]
fn the_revert_command_refuses_without_yes_or_without_a_journal() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeCoder::start(megaco());
    let mut s = megaco();
    s.source.deployment_url = Some(fake.url());
    let path = write_plan(dir.path(), &s, &split_text("split.toml"));
    let revert = |extra: &[&str]| {
        let mut cmd = crate::common::orgsplit();
        cmd.arg("revert").arg(&path).args(["--url", &fake.url()]).args(extra);
        cmd.env("CODER_SESSION_TOKEN", fake.token()).write_stdin("");
        cmd.assert().code(1).get_output().stderr.clone()
    };
    let e = String::from_utf8(revert(&[])).unwrap();
    assert!(e.contains("there is no terminal to ask on: run it with --yes"), "{e}");
    let e = String::from_utf8(revert(&["--yes"])).unwrap();
    assert!(e.contains("there is nothing to revert") && e.contains("plan.json.journal"), "{e}");
    assert!(writes(&fake).is_empty());
}
