//! `orgsplit plan`, on MegaCo with its hand-written split.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use orgsplit::model::Snapshot;
use orgsplit::plan::{Action, Plan, Severity, StepSpec};

use crate::common::*;

pub fn split_file() -> PathBuf {
    megaco().join("split.toml")
}

/// Import MegaCo and plan its split with the CLI; (snapshot path, plan path).
pub fn plan_megaco(dir: &Path) -> (PathBuf, PathBuf) {
    let s = import_megaco(dir);
    let out = dir.join("plan.json");
    orgsplit().arg("plan").arg(&s).arg("--split").arg(split_file()).arg("--out").arg(&out).assert().success();
    (s, out)
}

pub fn read_plan(path: &Path) -> Plan {
    Plan::from_json(&std::fs::read(path).unwrap(), path).expect("a plan orgsplit wrote reads back")
}

pub fn read_snapshot(path: &Path) -> Snapshot {
    Snapshot::from_json(&std::fs::read(path).unwrap(), path).unwrap()
}

#[test]
fn megaco_gets_exactly_the_orgs_the_page_calls_a_fit() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let (plan, snapshot) = (read_plan(&p), read_snapshot(&s));
    let names: Vec<&str> = plan.organizations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        ["checkout", "contractors-apac", "identity", "logistics", "ml", "payments", "raptix", "search", "streaming"]
    );
    let org = |n: &str| plan.organizations.iter().find(|o| o.name == n).unwrap();
    let group_size = |n: &str| snapshot.groups.iter().find(|g| g.name == n).unwrap().members.len();
    for o in &plan.organizations {
        assert!(!o.exists);
        assert_eq!(o.members, group_size(&o.groups[0]), "{}: members are its group", o.name);
    }
    assert_eq!(org("raptix").templates, ["raptix-ec2", "raptix-eks"]);
    assert_eq!(org("ml").templates, ["mlbox-gpu", "mlbox-notebook"]);
    assert_eq!(
        org("checkout").templates,
        ["checkout-k8s", "payments-k8s"],
        "checkout gets a copy of the shared template"
    );
    assert_eq!(org("contractors-apac").workspace_proxies, ["mumbai"]);
    // What stays central is never touched.
    for t in ["k8s-dev", "docker-dev", "java-vm", "legacy-docker"] {
        assert!(plan.steps.iter().all(|s| s.name != t), "{t} has a step");
        assert!(plan.workspace_migrations.iter().all(|m| m.old.template != t), "{t} has migrations");
    }
    assert_eq!(plan.summary.create + plan.summary.update + plan.summary.no_op, plan.steps.len());
    assert_eq!(plan.deployment.url, "https://coder.megaco.example");
    assert_eq!(plan.snapshot.fingerprint, snapshot.fingerprint());
}

#[test]
fn steps_come_in_dependency_order_and_deprecations_come_last() {
    let dir = tempfile::tempdir().unwrap();
    let plan = read_plan(&plan_megaco(dir.path()).1);
    let position: BTreeMap<&str, usize> = plan.steps.iter().enumerate().map(|(i, s)| (s.key.as_str(), i)).collect();
    for (i, s) in plan.steps.iter().enumerate() {
        for d in &s.depends_on {
            assert!(position[d.as_str()] < i, "{} comes before its dependency {d}", s.key);
        }
    }
    let deprecations: Vec<&orgsplit::plan::Step> =
        plan.steps.iter().filter(|s| matches!(s.spec, StepSpec::Deprecation(_))).collect();
    assert_eq!(deprecations.len(), 11);
    let payments = deprecations.iter().find(|s| s.name == "payments-k8s").unwrap();
    let StepSpec::Deprecation(d) = &payments.spec else { unreachable!() };
    let orgs: Vec<&str> = d.replacements.iter().map(|r| r.org.as_str()).collect();
    assert_eq!(orgs, ["payments", "checkout"], "the org the split names first");
    assert_eq!(
        d.message,
        "This template moved to the Payments organization as payments-k8s. Create your workspace there \
         and copy your files before 2025-03-31: https://wiki.megaco.example/coder/organizations",
        "one destination, the org the split lists it for; the replacements and each user's notice name the rest"
    );
    assert_eq!(payments.depends_on, ["checkout/template/payments-k8s", "payments/template/payments-k8s"]);
    // Every key step says how to start a provisioner.
    for s in &plan.steps {
        if let StepSpec::ProvisionerKey(k) = &s.spec {
            // Flags first, the name after `--`: a name cannot be read as a flag.
            assert!(k.create_command.starts_with("coder provisioner keys create --org "), "{}", k.create_command);
            assert!(k.create_command.ends_with(&format!(" -- {}", k.name)), "{}", k.create_command);
            assert_eq!(
                k.start_command,
                "CODER_URL=https://coder.megaco.example CODER_PROVISIONER_DAEMON_KEY=\"$KEY\" coder provisioner start"
            );
        }
    }
}

#[test]
fn migrations_cover_every_live_workspace_on_a_moved_template() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let (plan, snapshot) = (read_plan(&p), read_snapshot(&s));
    let moved: BTreeSet<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.spec {
            StepSpec::Deprecation(d) => Some(d.template_name.as_str()),
            _ => None,
        })
        .collect();
    let live: BTreeSet<&str> = snapshot
        .workspaces
        .iter()
        .filter(|w| moved.contains(w.template_name.as_str()) && !w.is_deleted_or_deleting())
        .map(|w| w.id.as_str())
        .collect();
    let items: BTreeSet<&str> = plan.workspace_migrations.iter().map(|m| m.old.workspace_id.as_str()).collect();
    assert_eq!(items, live);
    let checkout_sandboxes: Vec<_> = plan
        .workspace_migrations
        .iter()
        .filter(|m| m.old.template == "payments-k8s" && m.new.org == "checkout")
        .collect();
    assert_eq!(checkout_sandboxes.len(), 12);
    for m in &plan.workspace_migrations {
        assert!(orgsplit::plan::names::is_valid_name(&m.new.workspace_name), "{}", m.new.workspace_name);
        assert_eq!(m.new.workspace_name, format!("{}-{}", m.old.name, m.new.org));
        assert!(plan.step(&m.new.template_step).is_some());
    }
}

#[test]
fn megaco_findings_name_what_they_affect() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let (plan, snapshot) = (read_plan(&p), read_snapshot(&s));
    let finding = |code: &'static str| plan.findings.iter().filter(move |f| f.code == code);
    let shared: Vec<_> = finding("shared-template").collect();
    assert_eq!(shared.len(), 1);
    let users: BTreeSet<&str> =
        shared[0].affects.iter().filter(|a| a.kind == "user").map(|a| a.name.as_str()).collect();
    let sandbox_owners: BTreeSet<&str> =
        snapshot.workspaces.iter().filter(|w| w.name == "payments-sandbox").map(|w| w.owner_name.as_str()).collect();
    assert_eq!(users, sandbox_owners);
    // The five Java developers in the payments group have no `coder-payments` claim: org sync cannot put them in.
    let no_mapping: Vec<_> = finding("idp-sync-no-mapping").collect();
    assert_eq!((no_mapping.len(), no_mapping[0].severity), (1, Severity::Risk));
    let java: BTreeSet<&str> = snapshot
        .groups
        .iter()
        .find(|g| g.name == "java-monolith")
        .unwrap()
        .members
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(no_mapping[0].affects.len(), 5);
    assert!(no_mapping[0].affects.iter().all(|a| java.contains(a.id.as_deref().unwrap())));
    assert_eq!(finding("missing-workspace-proxy").count(), 1);
    assert_eq!(finding("provisioner-needed").count(), 9);
    assert!(plan.findings.windows(2).all(|w| w[0].severity >= w[1].severity), "risks first");
}

#[test]
fn same_input_gives_a_byte_identical_plan() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let again = dir.path().join("again.json");
    orgsplit().arg("plan").arg(&s).arg("--split").arg(split_file()).arg("--out").arg(&again).assert().success();
    assert!(std::fs::read(&p).unwrap() == std::fs::read(&again).unwrap());
}

#[test]
fn plan_validates_against_the_published_schema() {
    let dir = tempfile::tempdir().unwrap();
    let plan = read_json(&plan_megaco(dir.path()).1);
    let out = orgsplit().args(["schema", "plan"]).assert().success();
    let schema: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&plan).take(5).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut bad = plan.clone();
    bad["steps"][0]["action"] = serde_json::json!("delete");
    assert!(!v.is_valid(&bad), "there is no delete action");
}

#[test]
fn a_bad_split_gets_every_problem_at_once_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("split.toml");
    std::fs::write(
        &split,
        r#"format_version = 1
[migration]
wiki = "https://wiki.example.com/x"
deadline = "2025-02-30"

[[organizations]]
name = "Raptix Org"
groups = ["raptix", "raptx"]
users = ["nobody-here"]
templates = ["raptix-[", "no-such-template"]
roles = { organization-owner = ["bianca-das"] }
"#,
    )
    .unwrap();
    let out =
        orgsplit().arg("plan").arg("--split").arg(&split).arg("--out").arg(dir.path().join("p.json")).assert().code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let f = split.display();
    let want = format!(
        "error: 7 problems in {f}:
  {f}:4:12: `2025-02-30` is not a date (write it as YYYY-MM-DD)
  {f}:7:8: organization name: `Raptix Org` is not a valid Coder name: use lowercase letters, digits and single hyphens
  {f}:8:21: no group named `raptx` (did you mean `raptix`?)
  {f}:9:10: no user named `nobody-here` (usernames, not emails)
  {f}:10:14: `raptix-[` is not a valid glob: unclosed character class; missing ']' (globs use `*`, `?`, `[abc]` and `{{a,b}}`)
  {f}:10:26: no template named `no-such-template` (see `orgsplit inventory`)
  {f}:11:11: no org role named `organization-owner` (org roles are: organization-admin, organization-auditor, \
organization-template-admin, organization-user-admin, organization-workspace-creation-ban)
"
    );
    assert_eq!(err.lines().skip(1).collect::<Vec<_>>(), want.lines().collect::<Vec<_>>());
    assert!(!dir.path().join("p.json").exists(), "no plan is written");
}

#[test]
fn a_split_with_shape_errors_names_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("split.toml");
    std::fs::write(&split, "format_version = 1\n[[organizations]]\nname = \"x\"\ngroop = []\nadmins = \"me\"\n")
        .unwrap();
    let out = orgsplit().arg("plan").arg("--split").arg(&split).assert().code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains(&format!("{}:4:1: unknown field `groop`", split.display())), "{err}");
    assert!(
        err.contains(&format!("{}:5:10: `organizations[0].admins` must be an array, not a string", split.display())),
        "{err}"
    );
}

#[test]
fn planning_again_after_apply_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let after = orgsplit::plan::expected_after(&read_snapshot(&s), &read_plan(&p)).unwrap();
    let after_path = dir.path().join("after.json");
    std::fs::write(&after_path, after.to_json().unwrap()).unwrap();
    let again = dir.path().join("again.json");
    orgsplit()
        .arg("plan")
        .arg(&after_path)
        .arg("--split")
        .arg(split_file())
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    let replan = read_plan(&again);
    let changing: Vec<&str> =
        replan.steps.iter().filter(|s| s.action != Action::NoOp).map(|s| s.key.as_str()).collect();
    assert!(changing.is_empty(), "{changing:?}");
    assert_eq!(replan.steps.len(), read_plan(&p).steps.len());
    assert_eq!(replan.workspace_migrations.len(), read_plan(&p).workspace_migrations.len(), "workspaces still to move");
}
