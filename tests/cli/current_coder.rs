//! What current Coder releases add to the API (issue 16, section 2):
//! service accounts, default member roles, workspace sharing. Each test
//! edits MegaCo's export the way a newer server answers, imports it with the
//! CLI and checks the snapshot, the plan and what is written from it.

use std::path::{Path, PathBuf};

use crate::common::{files_in, megaco, orgsplit, read_json};

/// Copy MegaCo's export folder into `dir/export`.
fn copy_export(dir: &Path) -> PathBuf {
    let from = megaco().join("export");
    let to = dir.join("export");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(&from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    to
}

/// Apply `edit` to a JSON file of the export, in place.
fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut doc = read_json(path);
    edit(&mut doc);
    std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}

/// Import `export` (with MegaCo's people) and plan MegaCo's split: (snapshot, plan) paths.
fn import_and_plan(dir: &Path, export: &Path) -> (PathBuf, PathBuf) {
    let (snapshot, plan) = (dir.join("s.json"), dir.join("plan.json"));
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(export)
        .arg("--people")
        .arg(megaco().join("people.csv"))
        .arg("-o")
        .arg(&snapshot)
        .assert()
        .success();
    orgsplit()
        .arg("plan")
        .arg(&snapshot)
        .arg("--split")
        .arg(megaco().join("split.toml"))
        .arg("-o")
        .arg(&plan)
        .assert()
        .success();
    (snapshot, plan)
}

#[test]
fn a_service_account_is_moved_by_the_api_and_gets_no_notice_or_script() {
    let dir = tempfile::tempdir().unwrap();
    let export = copy_export(dir.path());
    // aaron-adams (OIDC, with workspaces moving to raptix) becomes a service account.
    let mut found = false;
    for page in ["page-001.json", "page-002.json"] {
        edit_json(&export.join("users").join(page), |doc| {
            for u in doc["users"].as_array_mut().unwrap() {
                if u["username"] == "aaron-adams" {
                    u["is_service_account"] = serde_json::json!(true);
                    found = true;
                }
            }
        });
    }
    assert!(found, "MegaCo has aaron-adams");
    let (snapshot, plan) = import_and_plan(dir.path(), &export);

    let s = read_json(&snapshot);
    let flagged: Vec<&str> = s["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["is_service_account"] == true)
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, ["aaron-adams"], "the snapshot records the service account, and only it");

    let p = read_json(&plan);
    let step = |key: &str| p["steps"].as_array().unwrap().iter().find(|s| s["key"] == key).cloned();
    let member = step("raptix/member/aaron-adams").expect("the service account's membership is planned");
    assert_eq!(member["spec"]["membership_by"]["by"], "api", "never left waiting for an IdP login: {member}");
    let other = step("raptix/member/aaron-ahmed").unwrap();
    assert_eq!(other["spec"]["membership_by"]["by"], "idp-sync", "people still come through org sync");
    let moves: Vec<&serde_json::Value> = p["workspace_migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["owner"]["username"] == "aaron-adams")
        .collect();
    assert!(!moves.is_empty(), "its workspaces still move");
    assert!(moves.iter().all(|m| m["owner"]["is_service_account"] == true));

    let notices = dir.path().join("notices");
    orgsplit().arg("notices").arg(&plan).arg("--out-dir").arg(&notices).assert().success();
    let scripts = dir.path().join("scripts");
    orgsplit().arg("scripts").arg(&plan).arg("--out-dir").arg(&scripts).assert().success();
    let written: Vec<String> = files_in(&notices).into_iter().chain(files_in(&scripts)).collect();
    assert!(written.iter().any(|f| f.contains("aaron-ahmed")), "people get theirs: {written:?}");
    assert!(!written.iter().any(|f| f.contains("aaron-adams")), "{written:?}");
    for list in [notices.join("mailing-list.csv"), scripts.join("index.csv")] {
        let text = std::fs::read_to_string(&list).unwrap();
        assert!(text.contains("aaron-ahmed") && !text.contains("aaron-adams"), "{}: {text}", list.display());
    }
}

#[test]
fn a_live_import_reads_service_accounts_from_the_fake_coder() {
    let mut s = crate::fake_coder::megaco();
    let u = s.users.iter_mut().find(|u| u.username == "aaron-adams").unwrap();
    u.is_service_account = true;
    let fake = crate::fake_coder::FakeCoder::start(s);
    let (client, _) = fake.client();
    let live = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
    let flagged: Vec<&str> = live.users.iter().filter(|u| u.is_service_account).map(|u| u.username.as_str()).collect();
    assert_eq!(flagged, ["aaron-adams"]);
}
