//! The v2 side of a v1 plan as an ordinary plan (`v1-plan --v2-plan`):
//! `orgsplit diff` shows it, `orgsplit apply` carries it out against the
//! fake Coder (v2) loaded with MegaCo, and a plan made again afterwards has
//! nothing left to do.

use std::path::{Path, PathBuf};

use orgsplit::model::Snapshot;
use orgsplit::plan::{Action, Plan, StepSpec};

use crate::apply_support::{Admin, options, run};
use crate::common::*;
use fake_coder::{FakeCoder, megaco};

/// The fake's state, imported as `orgsplit import --url` would, written to `dir/name`.
fn target(fake: &FakeCoder, dir: &Path, name: &str) -> PathBuf {
    let (client, _) = fake.client();
    let s = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, s.to_json().unwrap()).unwrap();
    path
}

fn v2_plan(v1: &Path, target: &Path, out: &Path) -> Plan {
    let run = orgsplit()
        .args(["v1-plan"])
        .arg(v1)
        .arg("--target")
        .arg(target)
        .arg("--v2-plan")
        .arg(out)
        .args(["--deadline", "2026-12-31"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    Plan::from_json(&std::fs::read(out).unwrap(), out).unwrap()
}

#[test]
fn a_v1_plans_v2_side_is_diffed_and_applied_like_a_split_and_a_second_plan_has_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, _) = crate::v1::import_v1(&crate::v1::megaco_v1().join("export"), dir.path());
    let fake = FakeCoder::start(megaco());
    // Kim, an Organization Manager of `contractors` on v1, already signed in to v2 with a password.
    fake.state_mut(|st| {
        let id = st.new_id("user", "kim-lee");
        st.s.users.push(orgsplit::model::User {
            id,
            username: "kim-lee".into(),
            email: "kim.lee@megaco.example".into(),
            login_type: "password".into(),
            status: "active".into(),
            ..Default::default()
        });
    });
    let before = target(&fake, dir.path(), "v2.json");
    let path = dir.path().join("v2-plan.json");
    let plan = v2_plan(&v1, &before, &path);
    let kinds = |k: &str| plan.steps.iter().filter(|s| s.spec.kind() == k && s.action != Action::NoOp).count();
    let keys: Vec<&str> = plan.steps.iter().map(|s| s.key.as_str()).collect();
    assert!(
        kinds("organization") >= 2 && kinds("member") >= 2 && kinds("template") >= 2,
        "{keys:#?} {:#?}",
        plan.findings
    );
    assert!(plan.steps.iter().all(
        |s| s.action != Action::Create || !matches!(&s.spec, StepSpec::Template(t) if t.source.generated.is_none())
    ));

    // A deprecated v1 image's template is flagged and left out, never pushed silently.
    let deprecated = plan.findings.iter().find(|f| f.code == "v1-deprecated-image-not-pushed").expect("flagged");
    assert!(deprecated.affects.iter().all(|a| plan.steps.iter().all(|s| s.name != a.name)), "{deprecated:?}");

    // Deterministic, and a plan as the published schema says.
    let bytes = std::fs::read(&path).unwrap();
    v2_plan(&v1, &before, &dir.path().join("same.json"));
    assert!(std::fs::read(dir.path().join("same.json")).unwrap() == bytes, "same inputs, same bytes");
    let schema = orgsplit().args(["schema", "plan"]).output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&doc).take(5).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");

    // The same `diff` as any plan.
    let diff = orgsplit().arg("diff").arg(&path).arg("--snapshot").arg(&before).output().unwrap();
    assert_eq!(diff.status.code(), Some(2), "2: changes to make. {}", String::from_utf8_lossy(&diff.stderr));
    let shown = String::from_utf8_lossy(&diff.stdout);
    for org in plan.organizations.iter().filter(|o| !o.exists) {
        assert!(shown.contains(&org.name), "diff names new org {}:\n{shown}", org.name);
    }
    let access = orgsplit().arg("diff").arg(&path).arg("--snapshot").arg(&before).arg("--access").output().unwrap();
    assert_eq!(access.status.code(), Some(2), "{}", String::from_utf8_lossy(&access.stderr));
    assert!(String::from_utf8_lossy(&access.stdout).contains("bianca-das"));

    // apply: every step done, the server holds the plan, nothing left over.
    let mut admin = Admin::new(&fake);
    let report = run(&fake, &path, &options(), &mut admin).unwrap();
    let text = report.ledger.render();
    assert_eq!(report.ledger.count("failed") + report.ledger.count("skipped"), 0, "{text}");
    let v = report.verification.clone().unwrap();
    assert_eq!(v.diff, "", "no drift: {text}");
    // MegaCo's v2 deployment syncs organizations from the IdP: its OIDC users
    // join at their next login, which apply waits for (a risk of the plan).
    let synced = plan.findings.iter().find(|f| f.code == "v1-member-by-org-sync").expect("a finding says so");
    assert_eq!(v.pending_members, synced.affects.len(), "{text}");
    assert_eq!(report.exit_code(), if synced.affects.is_empty() { 0 } else { 3 }, "{text}");
    let s: Snapshot = fake.snapshot();
    let org = |name: &str| s.organizations.iter().find(|o| o.name == name).map(|o| o.id.clone());
    for step in &plan.steps {
        let o = step.org.as_deref().and_then(org);
        assert!(o.is_some(), "{}", step.key);
        let holds = match &step.spec {
            StepSpec::Organization(_) | StepSpec::ProvisionerKey(_) => true,
            StepSpec::Member(m) if m.membership_by != orgsplit::plan::ManagedBy::Api => true,
            StepSpec::Member(m) => s.organization_members.iter().any(|x| {
                Some(&x.organization_id) == o.as_ref()
                    && x.user_id == m.user.user_id
                    && m.roles.iter().all(|r| x.roles.as_ref().is_some_and(|have| have.contains(r)))
            }),
            StepSpec::Template(t) => {
                s.templates.iter().any(|x| Some(&x.organization_id) == o.as_ref() && x.name == t.name)
            }
            other => panic!("a v1 plan makes no {} step", other.kind()),
        };
        assert!(holds, "the server lacks {}", step.key);
    }
    let kim = plan.steps.iter().find(|s| s.key == "contractors/member/kim-lee").expect("kim joins contractors");
    assert!(
        matches!(&kim.spec, StepSpec::Member(m) if m.roles == ["organization-admin"] && m.membership_by == orgsplit::plan::ManagedBy::Api)
    );
    // The generated Terraform went up as the version's archive.
    let uploads = fake.log().iter().filter(|r| r.method == "POST" && r.path.ends_with("/files")).count();
    assert!(uploads >= 1);

    // Planned again from the deployment as it is now: nothing to create or change.
    let after = target(&fake, dir.path(), "v2-after.json");
    let again = v2_plan(&v1, &after, &dir.path().join("again.json"));
    // (Only the members organization sync adds at their login are still to come.)
    let left: Vec<&str> = again
        .steps
        .iter()
        .filter(|s| s.action != Action::NoOp)
        .filter(|s| !matches!(&s.spec, StepSpec::Member(m) if m.membership_by != orgsplit::plan::ManagedBy::Api))
        .map(|s| s.key.as_str())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let writes_before = fake.log().iter().filter(|r| r.method != "GET").count();
    let mut admin = Admin::new(&fake);
    let report = run(&fake, &dir.path().join("again.json"), &options(), &mut admin).unwrap();
    assert_eq!(report.ledger.count("failed"), 0, "{}", report.ledger.render());
    assert_eq!(
        fake.log().iter().filter(|r| r.method != "GET").count(),
        writes_before,
        "a second apply changes nothing"
    );

    // And `revert` of it deletes nothing: what apply made is listed, with where it came from.
    let (client, _) = fake.client();
    let revert_options = orgsplit::apply::revert::RevertOptions::default();
    let bytes = std::fs::read(&path).unwrap();
    let parsed = Plan::from_json(&bytes, &path).unwrap();
    let prepared = orgsplit::apply::revert::prepare(&client, parsed, &path, &bytes, &revert_options).unwrap();
    let outcome =
        orgsplit::apply::revert::execute(&prepared, &client, &revert_options, &mut Admin::new(&fake)).unwrap();
    // (It takes back memberships; it never deletes a template, a user, a workspace or an org.)
    let deletes: Vec<String> = fake.log().iter().filter(|r| r.method == "DELETE").map(|r| r.path.clone()).collect();
    assert!(deletes.iter().all(|p| p.contains("/members/")), "{deletes:?}");
    let templates: Vec<_> = outcome.leftovers.iter().filter(|l| l.kind == "template").collect();
    assert_eq!(templates.len(), kinds("template"), "{:?}", outcome.leftovers);
    assert!(templates.iter().all(|l| l.why.starts_with("generated by apply from Coder v1 image")), "{templates:?}");
}

#[test]
fn the_report_of_a_v1_snapshot_is_its_move_to_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, _) = crate::v1::import_v1(&crate::v1::megaco_v1().join("export"), dir.path());
    let v2 = import_megaco(dir.path());
    let report = |extra: &[&str]| {
        let out = orgsplit().arg("report").arg(&v1).args(extra).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let fresh = report(&[]);
    let example = orgsplit().args(["report", "--example", "megaco-v1"]).output().unwrap();
    let from = format!("{} (export-dir)", crate::v1::megaco_v1().join("export").display());
    assert_eq!(
        fresh.replace(&from, "megaco-v1 (builtin)"),
        String::from_utf8(example.stdout).unwrap(),
        "the example is this report of MegaCo v1"
    );
    let onto = report(&["--target", v2.to_str().unwrap()]);
    assert_ne!(onto, fresh, "the target's users and organizations change the plan");
    let split = dir.path().join("split.toml");
    std::fs::write(&split, "[[organizations]]\nname = \"eng\"\nv1_organizations = [\"raptix\", \"contractors\"]\n")
        .unwrap();
    let json = report(&["--split", split.to_str().unwrap(), "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let orgs: Vec<&str> =
        plan["organizations"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert!(orgs.contains(&"eng") && !orgs.contains(&"raptix"), "{orgs:?}");
    let wrong = orgsplit().arg("report").arg(&v2).arg("--target").arg(&v2).output().unwrap();
    assert_eq!(wrong.status.code(), Some(64));
}
