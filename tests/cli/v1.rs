//! Coder v1 deployments: import (export folders), the built-in MegaCo v1
//! example, and their errors.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use orgsplit::v1::V1Snapshot;

use crate::common::*;

pub fn megaco_v1() -> PathBuf {
    root().join("fixtures/megaco-v1")
}

/// Import an export folder with the CLI; the v1 snapshot it wrote.
pub fn import_v1(from: &Path, dir: &Path) -> (PathBuf, V1Snapshot) {
    let out = dir.join("v1.json");
    orgsplit().args(["import", "--from-dir"]).arg(from).arg("--out").arg(&out).assert().success();
    let snap = V1Snapshot::from_json(&fs::read(&out).unwrap(), &out).unwrap();
    (out, snap)
}

#[test]
fn committed_megaco_v1_folder_is_byte_identical_to_the_generator_output() {
    let want = fixtures::megaco_v1_files();
    let generated: BTreeSet<String> = want.iter().map(|(p, _)| p.clone()).collect();
    let committed: BTreeSet<String> = files_in(&megaco_v1()).into_iter().collect();
    assert_eq!(generated, committed, "regenerate with: cargo xtask fixture megaco-v1 --out-dir fixtures/megaco-v1");
    for (path, bytes) in want {
        assert!(fs::read(megaco_v1().join(&path)).unwrap() == bytes, "{path} differs; regenerate");
    }
}

#[test]
fn a_v1_export_folder_becomes_a_v1_snapshot_with_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (out, s) = import_v1(&megaco_v1().join("export"), dir.path());
    assert_eq!(s.coder_v1_snapshot, 1);
    assert_eq!(s.organizations.len(), 4);
    assert_eq!(s.users.len(), 14);
    assert_eq!(s.images.len(), 8);
    assert_eq!(s.workspaces.len(), 20, "read from environments.json, a paged envelope");
    assert_eq!(s.providers.len(), 3);
    assert_eq!(s.devurls.len(), 3);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let default = s.organizations.iter().find(|o| o.default).unwrap();
    assert_eq!(default.id, "default");
    assert!(default.members.iter().any(|m| m.organization_roles == ["organization-manager"]));
    // Unknown fields are kept.
    assert!(s.workspaces[0].extra.contains_key("latest_stat"));
    // No v1 object passes for a v2 one: v2 commands refuse the file.
    let err = orgsplit().arg("inventory").arg(&out).assert().failure();
    assert!(!err.get_output().stderr.is_empty());
}

#[test]
fn the_same_export_imports_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    let (pa, _) = import_v1(&megaco_v1().join("export"), &a);
    let (pb, _) = import_v1(&megaco_v1().join("export"), &b);
    let bytes = |p: &Path| String::from_utf8(fs::read(p).unwrap()).unwrap().replace(&a.display().to_string(), "X");
    assert_eq!(bytes(&pa), bytes(&pb).replace(&b.display().to_string(), "X"));
}

#[test]
fn bad_v1_bodies_get_file_item_and_field_errors() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    fs::create_dir_all(&export).unwrap();
    fs::write(
        export.join("workspaces.json"),
        r#"[{"id":"w","name":"dev","user_id":"u","organization_id":"default","image_id":"i","disk_gb":"big"}]"#,
    )
    .unwrap();
    let out = orgsplit()
        .args(["import", "--from-dir"])
        .arg(&export)
        .arg("--out")
        .arg(dir.path().join("s.json"))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("workspaces.json: item 1 is a v1 workspace but invalid type: string \"big\""), "{stderr}");
    assert!(stderr.contains("export it again"), "{stderr}");
    assert!(!dir.path().join("s.json").exists());

    fs::write(export.join("workspaces.json"), "[{\"id\": \"w\",\n  \"image_id\": }]").unwrap();
    fs::write(export.join("images.json"), r#"[{"id":"i","organization_id":"o","repository":"r","registry":{}}]"#)
        .unwrap();
    let out = orgsplit().args(["import", "--from-dir"]).arg(&export).args(["--out", "/dev/null"]).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("workspaces.json:2:"), "{stderr}");
}

#[test]
fn v2_only_flags_are_refused_for_a_v1_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = orgsplit()
        .args(["import", "--from-dir"])
        .arg(megaco_v1().join("export"))
        .arg("--people")
        .arg(megaco().join("people.csv"))
        .arg("--out")
        .arg(dir.path().join("s.json"))
        .assert()
        .code(64);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("--people is for a v2 deployment"), "{stderr}");
}

#[test]
fn a_v2_export_is_still_a_v2_import() {
    let dir = tempfile::tempdir().unwrap();
    let s = import_megaco(dir.path());
    assert!(read_json(&s).get("coder_v1_snapshot").is_none());
}

#[test]
fn access_matrix_1_15_has_services_and_1_17_does_not() {
    let run = |v: &str| {
        let out = orgsplit().args(["access", "--matrix", "--matrix-version", v, "-o", "markdown"]).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    assert!(run("1.15").contains("| Services "));
    assert!(!run("1.17").contains("| Services "));
    orgsplit().args(["access", "--matrix", "--matrix-version", "1.99"]).assert().code(64);
}

#[derive(serde::Deserialize)]
struct AccessRow {
    organization: String,
    username: String,
    matrix_role: String,
    v2_role: String,
    flag: Option<String>,
}

#[test]
fn access_shows_each_members_matrix_column_and_v2_role() {
    let out = orgsplit().args(["access", "-o", "json"]).assert().success();
    let rows: Vec<AccessRow> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let find = |org: &str, user: &str| rows.iter().find(|r| r.organization == org && r.username == user).unwrap();
    let bianca = find("raptix", "bianca-das");
    assert_eq!((bianca.matrix_role.as_str(), bianca.v2_role.as_str()), ("manager", "organization-admin"));
    let erin = find("raptix", "erin-ito");
    assert_eq!((erin.matrix_role.as_str(), erin.v2_role.as_str()), ("member", "organization-member"));
    let hana = find("data-platform", "hana-sato");
    assert_eq!(hana.matrix_role, "manager");
    assert!(hana.flag.as_deref().unwrap().contains("undocumented"));
}

#[test]
fn hostile_v1_names_are_escaped_in_access_tables() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    fs::create_dir_all(&export).unwrap();
    fs::write(
        export.join("orgs.json"),
        r#"[{"id":"default","name":"x|y\u001b[31m","default":true,"members":[
            {"id":"u1","username":"=cmd|'/c calc'!A1","organization_roles":["organization-member"]}]}]"#,
    )
    .unwrap();
    let (snap, _) = import_v1(&export, dir.path());
    let out = orgsplit().arg("access").arg(&snap).args(["-o", "markdown"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("x\\|y"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
}
