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
        .arg("--out")
        .arg(&snapshot)
        .assert()
        .success();
    orgsplit()
        .arg("plan")
        .arg(&snapshot)
        .arg("--split")
        .arg(megaco().join("split.toml"))
        .arg("--out")
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
    let mut s = fake_coder::megaco();
    let u = s.users.iter_mut().find(|u| u.username == "aaron-adams").unwrap();
    u.is_service_account = true;
    let fake = fake_coder::FakeCoder::start(s);
    let (client, _) = fake.client();
    let live = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
    let flagged: Vec<&str> = live.users.iter().filter(|u| u.is_service_account).map(|u| u.username.as_str()).collect();
    assert_eq!(flagged, ["aaron-adams"]);
}

/// MegaCo's split, with extra lines after an org's `name = ...` line.
fn split_with(dir: &Path, org: &str, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(megaco().join("split.toml")).unwrap();
    let anchor = format!("\nname = \"{org}\"\n");
    assert!(text.contains(&anchor), "MegaCo's split has {org}");
    let path = dir.join("split.toml");
    std::fs::write(&path, text.replacen(&anchor, &format!("{anchor}{extra}\n"), 1)).unwrap();
    path
}

fn org_step(plan: &serde_json::Value, org: &str) -> serde_json::Value {
    let key = format!("{org}/organization/{org}");
    plan["steps"].as_array().unwrap().iter().find(|s| s["key"] == key).cloned().unwrap()
}

#[test]
fn default_member_roles_are_imported_set_on_new_orgs_and_counted_by_the_access_diff() {
    let dir = tempfile::tempdir().unwrap();

    // An older server's bodies: the roles are unknown, and the plan does not pretend otherwise.
    let (old_snapshot, old_plan) = import_and_plan(dir.path(), &megaco().join("export"));
    let old = read_json(&old_snapshot);
    assert!(old["organizations"].as_array().unwrap().iter().all(|o| o["default_org_member_roles"].is_null()));
    assert!(org_step(&read_json(&old_plan), "ml")["spec"].get("default_member_roles").is_none());

    // A current server's: the default org gives members workspace access.
    let new_dir = dir.path().join("new");
    std::fs::create_dir_all(&new_dir).unwrap();
    let export = copy_export(&new_dir);
    edit_json(&export.join("organizations.json"), |doc| {
        doc[0]["default_org_member_roles"] = serde_json::json!(["organization-workspace-access"]);
    });
    let snapshot = new_dir.join("s.json");
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(&export)
        .arg("--people")
        .arg(megaco().join("people.csv"))
        .arg("--out")
        .arg(&snapshot)
        .assert()
        .success();
    let s = read_json(&snapshot);
    assert_eq!(s["organizations"][0]["default_org_member_roles"], serde_json::json!(["organization-workspace-access"]));

    // raptix names its own (none); ml takes the source org's.
    let split = split_with(&new_dir, "raptix", "default_member_roles = []");
    let plan = new_dir.join("plan.json");
    orgsplit().arg("plan").arg(&snapshot).arg("--split").arg(&split).arg("--out").arg(&plan).assert().success();
    let p = read_json(&plan);
    assert_eq!(org_step(&p, "raptix")["spec"]["default_member_roles"], serde_json::json!([]));
    assert_eq!(
        org_step(&p, "ml")["spec"]["default_member_roles"],
        serde_json::json!(["organization-workspace-access"])
    );
    // Planning checks that those whose workspaces move can use the copies:
    // in raptix (no default roles) members without a workspace role cannot;
    // in ml (workspace access by default) everyone can.
    let unusable: Vec<&serde_json::Value> =
        p["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "template-unusable-in-new-org").collect();
    assert!(!unusable.is_empty(), "raptix's copies cannot be used");
    for f in &unusable {
        let message = f["message"].as_str().unwrap();
        assert!(message.contains("move to `raptix/"), "{message}");
        assert!(message.contains("`raptix` gives its members no default roles"), "{message}");
        assert_eq!(f["severity"], "risk");
        let users: Vec<&str> = f["affects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "user")
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert!(!users.is_empty(), "{f}");
        // Each named user moves a workspace to raptix and holds no org role there.
        for u in users {
            let moves = p["workspace_migrations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["owner"]["username"] == u && m["new"]["org"] == "raptix");
            assert!(moves, "{u} moves a workspace to raptix");
            let member = p["steps"].as_array().unwrap().iter().find(|st| st["key"] == format!("raptix/member/{u}"));
            let roles = member.map(|m| m["spec"]["roles"].clone()).unwrap_or_default();
            assert!(roles.as_array().is_none_or(|r| r.is_empty()), "{u} has no role in raptix: {roles}");
        }
    }
    // Without `default_member_roles = []` (raptix then takes the source org's workspace access), none.
    let plan_all = new_dir.join("plan-all.json");
    let plain_split = megaco().join("split.toml");
    orgsplit()
        .arg("plan")
        .arg(&snapshot)
        .arg("--split")
        .arg(&plain_split)
        .arg("--out")
        .arg(&plan_all)
        .assert()
        .success();
    let all = read_json(&plan_all);
    assert!(
        all["findings"].as_array().unwrap().iter().all(|f| f["code"] != "template-unusable-in-new-org"),
        "{}",
        all["findings"]
    );

    let out = orgsplit()
        .args(["diff", "--access"])
        .arg(&plan)
        .arg("--snapshot")
        .arg(&snapshot)
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("+ role ml: organization-workspace-access"), "ml's members gain its default role:\n{out}");
    assert!(!out.contains("raptix: organization-workspace-access"), "raptix has no default roles");
}

#[test]
fn the_fake_coder_sets_default_member_roles_only_where_its_release_has_them() {
    use orgsplit::coder::requests::{CreateOrganizationRequest, UpdateOrganizationRequest};
    let set_none = UpdateOrganizationRequest { default_org_member_roles: Some(vec![]), ..Default::default() };
    for current in [false, true] {
        let mut s = fake_coder::megaco();
        if current {
            s.organizations[0].default_org_member_roles = Some(vec!["organization-workspace-access".into()]);
        }
        let fake = fake_coder::FakeCoder::start(s);
        let (client, _) = fake.client();
        let org = client.create_organization(&CreateOrganizationRequest { name: "mlbox".into(), ..Default::default() });
        let org = org.unwrap();
        let want = current.then(|| vec!["organization-workspace-access".to_string()]);
        assert_eq!(org.default_org_member_roles, want, "current release: {current}");
        let after = client.update_organization(&org.id, &set_none).unwrap();
        assert_eq!(after.default_org_member_roles, current.then(Vec::new), "current release: {current}");
    }
}

#[test]
fn a_split_that_moves_a_shared_workspace_says_who_loses_access() {
    let dir = tempfile::tempdir().unwrap();
    // First, MegaCo as it is: which workspace of aaron-adams moves to raptix, and who stays out of raptix.
    let (_, before) = import_and_plan(dir.path(), &megaco().join("export"));
    let before = read_json(&before);
    let moved = before["workspace_migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["owner"]["username"] == "aaron-adams" && m["new"]["org"] == "raptix")
        .expect("aaron-adams moves to raptix")
        .clone();
    let in_raptix =
        |u: &str| before["steps"].as_array().unwrap().iter().any(|s| s["key"] == format!("raptix/member/{u}"));
    assert!(in_raptix("aaron-ahmed") && !in_raptix("erik-lee"), "MegaCo's split as this test knows it");
    let users = read_json(&megaco().join("export/users/page-001.json"));
    let id_of = |name: &str| {
        users["users"].as_array().unwrap().iter().find(|u| u["username"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let groups = read_json(&megaco().join("export/orgs/coder/groups.json"));
    let design = groups.as_array().unwrap().iter().find(|g| g["name"] == "design").unwrap();

    let new_dir = dir.path().join("new");
    std::fs::create_dir_all(&new_dir).unwrap();
    let export = copy_export(&new_dir);
    let workspace = moved["old"]["workspace_id"].as_str().unwrap();
    let acl = serde_json::json!({
        "endpoint": format!("/api/v2/workspaces/{workspace}/acl"),
        "body": {
            "users": [{"id": id_of("aaron-ahmed"), "role": "use"}, {"id": id_of("erik-lee"), "role": "admin"}],
            "group": [{"id": design["id"], "role": "use"}],
        },
    });
    std::fs::write(export.join("workspace-acl.json"), serde_json::to_vec(&acl).unwrap()).unwrap();
    let org_id = read_json(&export.join("organizations.json"))[0]["id"].as_str().unwrap().to_string();
    let sharing = serde_json::json!({
        "endpoint": format!("/api/v2/organizations/{org_id}/settings/workspace-sharing"),
        "body": {"sharing_globally_disabled": false, "sharing_disabled": false, "shareable_workspace_owners": "everyone"},
    });
    std::fs::write(export.join("workspace-sharing.json"), serde_json::to_vec(&sharing).unwrap()).unwrap();
    let (snapshot, plan) = import_and_plan(&new_dir, &export);

    let s = read_json(&snapshot);
    assert_eq!(s["organizations"][0]["shareable_workspace_owners"], "everyone");
    let w = s["workspaces"].as_array().unwrap().iter().find(|w| w["id"] == workspace).unwrap();
    assert_eq!(w["shares"]["users"].as_array().unwrap().len(), 2);
    assert_eq!(w["shares"]["groups"][0]["id"], design["id"]);
    assert!(
        s["workspaces"].as_array().unwrap().iter().filter(|w| w["id"] != workspace).all(|w| w["shares"].is_null()),
        "unknown elsewhere, not empty"
    );

    let p = read_json(&plan);
    let found: Vec<&serde_json::Value> =
        p["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "shared-workspace-loses-access").collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let message = found[0]["message"].as_str().unwrap();
    let name = moved["old"]["name"].as_str().unwrap();
    assert!(message.contains(&format!("workspace `aaron-adams/{name}`")), "{message}");
    assert!(message.contains("group(s) `design`"), "{message}");
    let outside = message.split("cannot be given it back: ").nth(1).expect(message);
    assert!(outside.contains("`erik-lee`") && !outside.contains("`aaron-ahmed`"), "{message}");
    let affected: Vec<&str> =
        found[0]["affects"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(affected.contains(&"aaron-ahmed") && affected.contains(&"erik-lee"), "{affected:?}");
    assert!(!affected.contains(&"aaron-adams"), "the owner keeps their own workspace");
}

/// Coder v2.30.0 (the release the real-Coder tests run): with the
/// `workspace-sharing` experiment on, `GET /experiments` says so, each
/// organization answers `{"sharing_disabled": bool}` and each workspace in
/// the list carries `shared_with` (left out when empty). A live import reads
/// all three: the org's setting as `none`/`everyone`, the shares of the
/// shared workspace, and "shared with nobody" (not "unknown") for the rest.
#[test]
fn a_live_import_reads_coder_v2_30_0_workspace_sharing() {
    use orgsplit::model::{AclEntry, WorkspaceShares};
    let mut s = fake_coder::megaco();
    s.organizations.iter_mut().find(|o| o.is_default).unwrap().shareable_workspace_owners = Some("everyone".into());
    let user = s.users.iter().find(|u| u.username == "erik-lee").unwrap().id.clone();
    let group = s.groups.iter().find(|g| g.name == "design").unwrap().id.clone();
    let shared = s.workspaces[0].id.clone();
    let shares = WorkspaceShares {
        users: vec![AclEntry { id: user, role: "admin".into() }],
        groups: vec![AclEntry { id: group, role: "use".into() }],
    };
    s.workspaces[0].shares = Some(shares.clone());
    let fake = fake_coder::FakeCoder::start(s);
    let (client, _) = fake.client();
    let live = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
    let default = live.organizations.iter().find(|o| o.is_default).unwrap();
    assert_eq!(default.shareable_workspace_owners.as_deref(), Some("everyone"));
    let w = live.workspaces.iter().find(|w| w.id == shared).unwrap();
    assert_eq!(w.shares.as_ref(), Some(&shares));
    let nobody = live.workspaces.iter().filter(|w| w.shares == Some(WorkspaceShares::default())).count();
    assert_eq!(nobody, live.workspaces.len() - 1, "the others are shared with nobody, and that is known");
    let asked: Vec<String> = fake.log().iter().map(|r| r.path.clone()).collect();
    assert!(asked.iter().any(|p| p == "/api/v2/experiments"), "{asked:?}");

    // The same server with the experiment off: nothing about sharing is known.
    let fake = fake_coder::FakeCoder::start(fake_coder::megaco());
    let (client, _) = fake.client();
    let live = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
    assert!(live.organizations.iter().all(|o| o.shareable_workspace_owners.is_none()));
    assert!(live.workspaces.iter().all(|w| w.shares.is_none()));
    let asked = fake.log().iter().filter(|r| r.path.ends_with("/settings/workspace-sharing")).count();
    assert_eq!(asked, 0, "not asked for: the server refuses them without the experiment");
    assert!(live.warnings.iter().all(|w| w.code != "endpoint-unavailable"), "{:?}", live.warnings);
}

/// Planning sets each new org's workspace sharing explicitly (the split
/// file's `workspace_sharing`, else the source org's), and apply sets it with
/// one PATCH of v2.30.0's shape, then never again.
#[test]
fn workspace_sharing_is_set_on_new_orgs_once() {
    use crate::apply_support::{Admin, options, read_plan, run, small, succeeded, write_plan};
    for (line, want) in [("", "none"), ("workspace_sharing = \"everyone\"\n", "everyone")] {
        let (mut s, split) = small();
        s.organizations.iter_mut().find(|o| o.is_default).unwrap().shareable_workspace_owners = Some("none".into());
        let split = split.replace("name = \"team-0001\"\n", &format!("name = \"team-0001\"\n{line}"));
        let fake = fake_coder::FakeCoder::start(s.clone());
        // Planned from what a live import reads (with the experiment on, every workspace's shares are known).
        let (client, _) = fake.client();
        let mut live = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
        live.people = s.people.clone();
        let dir = tempfile::tempdir().unwrap();
        let path = write_plan(dir.path(), &live, &split);
        let plan = read_plan(&path);
        let step = plan.steps.iter().find(|s| s.key == "team-0001/organization/team-0001").unwrap();
        let orgsplit::plan::StepSpec::Organization(spec) = &step.spec else { panic!("{step:?}") };
        assert_eq!(spec.workspace_sharing.as_deref(), Some(want), "split line {line:?}");

        let outcome = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
        // Verify read the setting back (the readable form holds it) and found it as planned.
        let verified = outcome.verification.expect("verified");
        assert!(verified.diff.is_empty(), "{}", verified.diff);
        let org = fake.snapshot().organizations.into_iter().find(|o| o.name == "team-0001").unwrap();
        assert_eq!(org.shareable_workspace_owners.as_deref(), Some(want));
        // A new org starts with sharing on: only `none` needs a PATCH.
        let patches = || succeeded(&fake, "PATCH", "/api/v2/organizations/*/settings/workspace-sharing");
        assert_eq!(patches(), usize::from(want == "none"));
        let body = fake.log().into_iter().find(|r| r.method == "PATCH" && r.path.ends_with("/workspace-sharing"));
        if let Some(r) = body {
            let sent: serde_json::Value = serde_json::from_slice(&r.request_body).unwrap();
            assert_eq!(sent, serde_json::json!({"sharing_disabled": true}), "v2.30.0's shape");
        }
        run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
        assert_eq!(patches(), usize::from(want == "none"), "a second apply changes nothing");
    }
}

/// Plan `snapshot` with `split` (TOML text) in `dir`: the plan's JSON.
fn plan_generated(dir: &Path, snapshot: &orgsplit::model::Snapshot, split: &str) -> (PathBuf, serde_json::Value) {
    let (s, sp, p) = (dir.join("s.json"), dir.join("split.toml"), dir.join("plan.json"));
    std::fs::write(&s, snapshot.to_json().unwrap()).unwrap();
    std::fs::write(&sp, split).unwrap();
    orgsplit().arg("plan").arg(&s).arg("--split").arg(&sp).arg("--out").arg(&p).assert().success();
    (s, read_json(&p))
}

/// `split` with `key = value` set on organization `org` (the line after its name).
fn set_in_org(split: &str, org: &str, key_value: &str) -> String {
    let at = format!("name = \"{org}\"\n");
    assert!(split.contains(&at), "org `{org}` in the split");
    split.replacen(&at, &format!("{at}{key_value}\n"), 1)
}

/// Issue 16 §2: the access diff counts workspace shares. On a generated
/// deployment with planted shares, a workspace the plan moves leaves each
/// user it was shared with (directly or through a group) without it, and
/// each line says whether it can be shared with them again: a member of the
/// new org can be, a non-member cannot, and nobody can where the new org's
/// sharing is off. Shares of a workspace that stays change nothing. The
/// JSON form holds the same changes.
#[test]
fn the_access_diff_says_who_loses_a_shared_workspace_that_moves() {
    use orgsplit::model::{AclEntry, WorkspaceShares};
    let dir = tempfile::tempdir().unwrap();
    let d = fixtures::generate(600, 5);
    let mut s = d.snapshot.clone();
    s.organizations.iter_mut().find(|o| o.is_default).unwrap().shareable_workspace_owners = Some("everyone".into());
    let split = fixtures::generated_split_toml(&d).unwrap();
    let (_, first) = plan_generated(dir.path(), &s, &split);
    let migrations = first["workspace_migrations"].as_array().unwrap();
    let members = |org: &str| -> std::collections::BTreeSet<String> {
        let prefix = format!("{org}/member/");
        first["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|st| st["key"].as_str().unwrap().strip_prefix(&prefix).map(String::from))
            .collect()
    };
    // Two moved workspaces going to two different orgs; the second org gets sharing off.
    let m1 = &migrations[0];
    let (x, owner1) = (m1["new"]["org"].as_str().unwrap(), m1["owner"]["username"].as_str().unwrap());
    let m2 = migrations.iter().find(|m| m["new"]["org"] != x).expect("workspaces move to two orgs");
    let (y, owner2) = (m2["new"]["org"].as_str().unwrap(), m2["owner"]["username"].as_str().unwrap());
    let (in_x, in_y) = (members(x), members(y));
    let id_of = |name: &str| s.users.iter().find(|u| u.username == name).unwrap().id.clone();
    let name_of = |id: &str| s.users.iter().find(|u| u.id == id).unwrap().username.clone();
    let member_x = in_x.iter().find(|u| *u != owner1).unwrap().clone();
    let outsider = s.users.iter().map(|u| u.username.clone()).find(|u| !in_x.contains(u) && u != owner1).unwrap();
    let member_y = in_y.iter().find(|u| *u != owner2).unwrap().clone();
    let default_org = s.default_organization().unwrap().id.clone();
    let group = s
        .groups
        .iter()
        .find(|g| g.organization_id == default_org && !g.is_everyone() && g.members.len() >= 2)
        .unwrap()
        .clone();
    let moved: std::collections::BTreeSet<&str> =
        migrations.iter().map(|m| m["old"]["workspace_id"].as_str().unwrap()).collect();
    let stays = s.workspaces.iter().find(|w| !moved.contains(w.id.as_str()) && !w.is_deleted_or_deleting()).unwrap();
    let stays = (stays.id.clone(), format!("{}/{}", stays.owner_name, stays.name));
    let entry = |id: String, role: &str| AclEntry { id, role: role.into() };
    for w in s.workspaces.iter_mut() {
        if w.id == m1["old"]["workspace_id"] {
            w.shares = Some(WorkspaceShares {
                users: vec![entry(id_of(&member_x), "use"), entry(id_of(&outsider), "admin")],
                groups: vec![entry(group.id.clone(), "use")],
            });
        } else if w.id == m2["old"]["workspace_id"] {
            w.shares = Some(WorkspaceShares { users: vec![entry(id_of(&member_y), "use")], groups: vec![] });
        } else if w.id == stays.0 {
            w.shares = Some(WorkspaceShares { users: vec![entry(id_of(&member_x), "admin")], groups: vec![] });
        } else {
            w.shares = Some(WorkspaceShares::default());
        }
    }
    let split = set_in_org(&split, y, "workspace_sharing = \"none\"");
    let (snapshot, _) = plan_generated(dir.path(), &s, &split);
    let plan = dir.path().join("plan.json");
    let run = |json: bool| {
        let mut cmd = orgsplit();
        cmd.arg("diff").arg(&plan).arg("--snapshot").arg(&snapshot).arg("--access").env("NO_COLOR", "1");
        if json {
            cmd.args(["-o", "json"]);
        }
        let out = cmd.assert().code(2).get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    };
    let text = run(false);
    let ws1 = format!("{owner1}/{}", m1["old"]["name"].as_str().unwrap());
    let new1 = format!("{owner1}/{}", m1["new"]["workspace_name"].as_str().unwrap());
    let ws2 = format!("{owner2}/{}", m2["old"]["name"].as_str().unwrap());
    let moves1 = format!("moves to {x} as {new1}, which starts unshared");
    // The lines of one user's block in the text.
    let block = |user: &str| -> Vec<String> {
        let mut lines = text.lines().skip_while(|l| !l.starts_with(&format!("  {user} <")));
        let mut out = vec![lines.next().unwrap_or_else(|| panic!("{user} in:\n{text}")).to_string()];
        out.extend(lines.take_while(|l| l.starts_with("    ")).map(|l| l.trim().to_string()));
        out
    };
    let has = |user: &str, line: &str| {
        let b = block(user);
        assert!(b.iter().any(|l| l == line), "{user} should have `{line}`:\n{}", b.join("\n"));
    };
    has(&member_x, &format!("- workspace {ws1} (use): {moves1}; share it again there to give access back"));
    has(
        &outsider,
        &format!("- workspace {ws1} (admin): {moves1}; not a member of {x}, so it cannot be shared with them again"),
    );
    for u in group.members.iter().map(|u| name_of(u)).filter(|u| *u != owner1 && *u != member_x && *u != outsider) {
        let b = block(&u);
        assert!(
            b.iter().any(|l| l.starts_with(&format!("- workspace {ws1} (use): {moves1}; "))),
            "{u}:\n{}",
            b.join("\n")
        );
    }
    let b = block(&member_y);
    assert!(
        b.iter().any(|l| l.starts_with(&format!("- workspace {ws2} (use): moves to {y} as "))
            && l.ends_with(&format!("; sharing is off in {y}, so it cannot be shared again"))),
        "{}",
        b.join("\n")
    );
    assert!(!text.contains(&stays.1), "a workspace that stays keeps its shares:\n{text}");
    assert!(!block(owner1).iter().any(|l| l.contains(&ws1)), "the owner keeps their workspace");

    let json: serde_json::Value = serde_json::from_str(&run(true)).unwrap();
    let user = |name: &str| json["users"].as_array().unwrap().iter().find(|u| u["username"] == name).unwrap().clone();
    let lost = user(&outsider)["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "workspace" && c["name"] == ws1.as_str())
        .unwrap()
        .clone();
    assert_eq!(lost["change"], "lose");
    assert_eq!(lost["role"], "admin");
    assert!(
        lost["why"]
            .as_str()
            .unwrap()
            .ends_with(&format!("not a member of {x}, so it cannot be shared with them again"))
    );
    let shares_in_json = json["users"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["changes"].as_array().unwrap())
        .filter(|c| c["kind"] == "workspace")
        .count();
    let shares_in_text = text.lines().filter(|l| l.trim_start().starts_with("- workspace ")).count();
    assert_eq!(shares_in_json, shares_in_text, "the same changes in both forms");
    assert!(json["summary"].as_str().unwrap().starts_with("Plan: "));
    // JSON is for the access diff only.
    orgsplit().arg("diff").arg(&plan).arg("--snapshot").arg(&snapshot).args(["-o", "json"]).assert().code(64);
}

/// Save every GET body the fake answered 200 as an orgsplit envelope
/// (`{"endpoint": path?query, "body": ...}`), as the real-Coder harness does.
fn save_bodies(fake: &fake_coder::FakeCoder, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let ok = fake.log().into_iter().filter(|r| r.method == "GET" && r.status == 200);
    for (n, r) in ok.enumerate() {
        let body: serde_json::Value = serde_json::from_slice(r.response_body.as_deref().unwrap()).unwrap();
        let env = serde_json::json!({"endpoint": r.path, "body": body});
        std::fs::write(dir.join(format!("{n:06}.json")), serde_json::to_vec(&env).unwrap()).unwrap();
    }
}

/// Issue 16 §2: a live import of shares and sharing settings (v2.30.0 with
/// the `workspace-sharing` experiment) equals the offline import of the
/// bodies it read; and the same shares saved from `GET
/// /workspaces/{id}/acl` (which the fake serves as v2.30.0 does) give the
/// same snapshot too.
#[test]
fn a_live_import_of_shares_equals_the_offline_import_of_the_same_bodies() {
    use orgsplit::model::{AclEntry, WorkspaceShares};
    let mut s = fake_coder::megaco();
    for o in s.organizations.iter_mut() {
        o.shareable_workspace_owners = Some("everyone".into());
    }
    let user = |n: &str| s.users.iter().find(|u| u.username == n).unwrap().id.clone();
    let (erik, amy) = (user("erik-lee"), user("aaron-ahmed"));
    let design = s.groups.iter().find(|g| g.name == "design").unwrap().id.clone();
    let everyone = s.organizations.iter().find(|o| o.is_default).unwrap().id.clone();
    let e = |id: &str, role: &str| AclEntry { id: id.into(), role: role.into() };
    let planted = [
        (0, WorkspaceShares { users: vec![e(&erik, "admin"), e(&amy, "use")], groups: vec![e(&design, "use")] }),
        (3, WorkspaceShares { users: vec![], groups: vec![e(&everyone, "use")] }),
    ];
    let mut planted = planted;
    for (i, sh) in planted.iter_mut() {
        // In the snapshot's order (by id).
        sh.users.sort_by(|a, b| a.id.cmp(&b.id));
        s.workspaces[*i].shares = Some(sh.clone());
    }
    let fake = fake_coder::FakeCoder::start(s.clone());
    fake.record_bodies(true);
    let (client, _) = fake.client();
    let live = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
    assert!(live.warnings.is_empty(), "{:?}", live.warnings);
    for (i, sh) in &planted {
        let w = live.workspaces.iter().find(|w| w.id == s.workspaces[*i].id).unwrap();
        assert_eq!(w.shares.as_ref(), Some(sh), "{}", w.name);
    }
    let org_sharing: Vec<Option<&str>> =
        live.organizations.iter().map(|o| o.shareable_workspace_owners.as_deref()).collect();
    assert_eq!(org_sharing, [Some("everyone")]);

    let dir = tempfile::tempdir().unwrap();
    let bodies = dir.path().join("bodies");
    save_bodies(&fake, &bodies);
    fake.record_bodies(false);
    let options = orgsplit::import::ImportOptions::default();
    let offline = orgsplit::import::import_dir(&bodies, &options).unwrap();
    let same = |a: &orgsplit::model::Snapshot, b: &orgsplit::model::Snapshot| {
        let strip = |s: &orgsplit::model::Snapshot| {
            let mut s = s.clone();
            s.source = Default::default();
            String::from_utf8(s.to_json().unwrap()).unwrap()
        };
        let (a, b) = (strip(a), strip(b));
        if a != b {
            let diff = similar::TextDiff::from_lines(&a, &b).unified_diff().context_radius(2).to_string();
            panic!("snapshots differ:\n{}", &diff[..diff.len().min(4000)]);
        }
    };
    same(&live, &offline);

    // The shares as `GET /workspaces/{id}/acl` answers them, saved beside the
    // other bodies in place of the workspace list's `shared_with`.
    for (i, _) in &planted {
        let path = format!("/api/v2/workspaces/{}/acl", s.workspaces[*i].id);
        let res = reqwest::blocking::Client::new()
            .get(format!("{}{path}", fake.url()))
            .header("Coder-Session-Token", fake.token())
            .send()
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: serde_json::Value = res.json().unwrap();
        assert!(body["users"].is_array() && body["group"].is_array(), "{body}");
        let env = serde_json::json!({"endpoint": path, "body": body});
        std::fs::write(bodies.join(format!("acl-{i}.json")), serde_json::to_vec(&env).unwrap()).unwrap();
    }
    for f in std::fs::read_dir(&bodies).unwrap() {
        let f = f.unwrap().path();
        let mut env = read_json(&f);
        if env["endpoint"].as_str().unwrap().starts_with("/api/v2/workspaces?") {
            for w in env["body"]["workspaces"].as_array_mut().unwrap() {
                w.as_object_mut().unwrap().remove("shared_with");
            }
            std::fs::write(&f, serde_json::to_vec(&env).unwrap()).unwrap();
        }
    }
    let from_acl = orgsplit::import::import_dir(&bodies, &options).unwrap();
    same(&live, &from_acl);
}

/// A release after v2.30.0 (v2.36.1 checked against the real server) has
/// workspace sharing on without an experiment: `GET /experiments` does not
/// name it, each org says whose workspaces may be shared in three values,
/// and a listed workspace without `shared_with` is shared with nobody. The
/// import knows such a release by its organizations' `default_org_member_roles`.
#[test]
fn a_live_import_reads_a_current_releases_workspace_sharing_without_an_experiment() {
    use orgsplit::model::{AclEntry, WorkspaceShares};
    let mut s = fake_coder::megaco();
    let default = s.organizations.iter_mut().find(|o| o.is_default).unwrap();
    default.default_org_member_roles = Some(vec!["organization-workspace-access".into()]);
    default.shareable_workspace_owners = Some("service_accounts".into());
    let user = s.users.iter().find(|u| u.username == "erik-lee").unwrap().id.clone();
    let shares = WorkspaceShares { users: vec![AclEntry { id: user, role: "use".into() }], groups: vec![] };
    s.workspaces[0].shares = Some(shares.clone());
    let fake = fake_coder::FakeCoder::start(s);
    let (client, _) = fake.client();
    let live = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
    assert!(live.warnings.is_empty(), "{:?}", live.warnings);
    let default = live.organizations.iter().find(|o| o.is_default).unwrap();
    assert_eq!(default.shareable_workspace_owners.as_deref(), Some("service_accounts"));
    assert_eq!(live.workspaces[0].shares.as_ref(), Some(&shares));
    assert!(live.workspaces[1..].iter().all(|w| w.shares == Some(WorkspaceShares::default())), "known: nobody");
    let log = fake.log();
    let experiments = log.iter().find(|r| r.path == "/api/v2/experiments").expect("asked");
    assert_eq!(experiments.status, 200);
    assert!(log.iter().any(|r| r.status == 200 && r.path.ends_with("/settings/workspace-sharing")));
}
