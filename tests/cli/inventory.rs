//! `orgsplit inventory`.

use serde::Deserialize;

use crate::common::*;

#[derive(Deserialize)]
struct Inventory {
    totals: Totals,
    organizations: Vec<Org>,
    templates: Vec<TemplateUsage>,
    users_in_several_orgs: Vec<UserOrgs>,
    warnings: Vec<serde_json::Value>,
    multiple_organizations: Option<bool>,
}

#[derive(Deserialize)]
struct Totals {
    users: usize,
    workspaces: usize,
    deprecated_templates: usize,
}

#[derive(Deserialize)]
struct Org {
    name: String,
    is_default: bool,
    members: usize,
    groups: Vec<serde_json::Value>,
    provisioner_keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct TemplateUsage {
    name: String,
    users: usize,
    groups: Vec<GroupUse>,
}

#[derive(Deserialize)]
struct GroupUse {
    name: String,
    users: usize,
}

#[derive(Deserialize)]
struct UserOrgs {
    username: String,
    organizations: Vec<String>,
}

fn inventory_json(args: &[&str]) -> Inventory {
    let out = orgsplit().arg("inventory").args(args).args(["-o", "json"]).assert().success();
    serde_json::from_slice(&out.get_output().stdout).expect("inventory -o json is JSON of the documented shape")
}

#[test]
fn import_then_inventory_as_a_new_user_would() {
    let dir = tempfile::tempdir().unwrap();
    let s = import_megaco(dir.path());
    let inv = inventory_json(&[s.to_str().unwrap()]);
    assert_eq!(inv.organizations.len(), 1);
    assert!(inv.organizations[0].is_default);
    assert_eq!(inv.organizations[0].name, "coder");
    assert_eq!(inv.organizations[0].members, inv.totals.users);
    assert_eq!(inv.organizations[0].groups.len(), 20);
    assert_eq!(inv.organizations[0].provisioner_keys.len(), 3);
    assert_eq!(inv.totals.deprecated_templates, 1);
    assert!(inv.totals.workspaces > 1000);
    assert_eq!(inv.multiple_organizations, Some(true));
    assert!(inv.users_in_several_orgs.is_empty());
    assert!(inv.warnings.is_empty());
    // Most used first; the shared template is used by two teams.
    assert_eq!(inv.templates[0].name, "k8s-dev");
    assert!(inv.templates.windows(2).all(|w| w[0].users >= w[1].users));
    let payments = inv.templates.iter().find(|t| t.name == "payments-k8s").unwrap();
    let names: Vec<&str> = payments.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names[..2], ["payments", "checkout"]);
    assert_eq!(payments.groups[1].users, 12);
}

#[test]
fn without_a_snapshot_it_uses_megaco_and_says_so() {
    let out = orgsplit().arg("inventory").assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("using the built-in MegaCo example"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(stdout.contains("Templates by use") && stdout.contains("raptix-eks"), "{stdout}");
}

#[test]
fn builtin_matches_the_imported_folder() {
    let dir = tempfile::tempdir().unwrap();
    let s = import_megaco(dir.path());
    let imported = orgsplit::model::Snapshot::from_json(&std::fs::read(&s).unwrap(), &s).unwrap();
    let builtin = orgsplit::fixture::builtin().unwrap();
    assert_eq!(builtin.fingerprint(), imported.fingerprint());
    assert_eq!(builtin.template_sources, imported.template_sources);
    assert_eq!(builtin.people, imported.people);
}

#[test]
fn several_orgs_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("s.json");
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(fixtures().join("swagger-bodies"))
        .arg("--out")
        .arg(&snapshot)
        .assert()
        .success();
    let inv = inventory_json(&[snapshot.to_str().unwrap()]);
    let several: Vec<(&str, Vec<&str>)> = inv
        .users_in_several_orgs
        .iter()
        .map(|u| (u.username.as_str(), u.organizations.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(several, [("alice", vec!["coder", "data"]), ("carol", vec!["coder", "data"])]);
    assert_eq!(inv.warnings.len(), 3);
    let md = orgsplit().arg("inventory").arg(&snapshot).args(["-o", "markdown"]).assert().success();
    let md = String::from_utf8_lossy(&md.get_output().stdout).into_owned();
    assert!(md.starts_with("# Inventory"), "{md}");
    assert!(md.contains("## Users in several organizations"));
    assert!(md.contains("| alice "), "{md}");
    assert!(md.contains("- `dangling-template`:"), "{md}");
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{} inventory | head -c 10 >/dev/null", assert_cmd::cargo::cargo_bin("orgsplit").display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn group_usage_counts_are_members_not_workspaces() {
    let inv = inventory_json(&[]);
    let gpu = inv.templates.iter().find(|t| t.name == "mlbox-gpu").unwrap();
    assert_eq!(gpu.groups.iter().map(|g| (g.name.as_str(), g.users)).collect::<Vec<_>>(), [("ml", 70)]);
}
