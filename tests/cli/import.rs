//! `orgsplit import`: export folders -> snapshots.

use std::fs;
use std::path::Path;

use orgsplit::import::{ImportOptions, import_dir};
use orgsplit::model::Snapshot;

use crate::common::*;

fn import(dir: &Path) -> Snapshot {
    import_dir(dir, &ImportOptions::default()).unwrap()
}

fn codes(s: &Snapshot) -> Vec<&str> {
    let mut c: Vec<&str> = s.warnings.iter().map(|w| w.code.as_str()).collect();
    c.dedup();
    c
}

#[test]
fn megaco_imports_twice_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let a = import_megaco(dir.path());
    let first = fs::read(&a).unwrap();
    let b = import_megaco(dir.path());
    assert_eq!(first, fs::read(&b).unwrap(), "second import differs");
    let s = Snapshot::from_json(&first, &a).unwrap();
    assert_eq!(s.organizations.len(), 1);
    assert!(s.organizations[0].is_default);
    assert!(s.users.len() > 950 && s.users.len() < 1050, "about 1000 users: {}", s.users.len());
    assert!(s.warnings.is_empty(), "MegaCo imports cleanly: {:?}", s.warnings);
    assert_eq!(s.template_sources.len(), s.templates.len(), "every MegaCo template has its source");
    assert!(s.template_sources.iter().all(|t| t.template_id.is_some()));
    let people = s.people.as_ref().unwrap();
    assert_eq!(people.key_column, "username");
    assert!(people.records.len() + 1 == s.users.len(), "everyone but the service account has a people row");
    let legacy = s.templates.iter().find(|t| t.name == "legacy-docker").unwrap();
    assert!(legacy.deprecated && legacy.deprecation_message.contains("wiki.megaco.example"));
}

#[test]
fn megaco_holds_each_situation_of_the_best_practice_page() {
    let dir = tempfile::tempdir().unwrap();
    let s = Snapshot::from_json(&fs::read(import_megaco(dir.path())).unwrap(), Path::new("s.json")).unwrap();
    let group = |name: &str| s.groups.iter().find(|g| g.name == name).unwrap_or_else(|| panic!("group {name}"));
    assert_eq!(group("raptix").members.len(), 180, "the 180-person acquired startup");
    for team in ["payments", "search", "checkout", "identity", "logistics", "streaming"] {
        let source = s.template_sources.iter().find(|t| t.template_name == format!("{team}-k8s")).unwrap();
        assert!(
            source.signals.iter().any(|x| x.kind == "cluster" && x.value == format!("{team}-dev")),
            "{team} has its own cluster"
        );
    }
    let signals = |t: &str, kind: &str| -> Vec<String> {
        let src = s.template_sources.iter().find(|x| x.template_name == t).unwrap();
        src.signals.iter().filter(|x| x.kind == kind).map(|x| x.value.clone()).collect()
    };
    assert!(signals("raptix-eks", "cloud_account").contains(&"aws:987654321098".to_string()));
    assert!(
        !signals("k8s-dev", "cloud_account").contains(&"aws:987654321098".to_string()),
        "Raptix's account is its own"
    );
    assert!(signals("java-vm", "vm").contains(&"aws_instance".to_string()));
    assert!(signals("mlbox-gpu", "gpu").contains(&"nvidia.com/gpu".to_string()));
    let gpu = s.templates.iter().find(|t| t.name == "mlbox-gpu").unwrap();
    let acl = gpu.acl.as_ref().unwrap();
    assert!(!acl.group.iter().any(|g| g.id == gpu.organization_id), "ML templates are not open to Everyone");
    let people = s.people.as_ref().unwrap();
    let employer =
        |u: &str| people.records.iter().find(|r| r.user_id == u).and_then(|r| r.attributes.get("employer").cloned());
    assert!(group("contractors-apac").members.iter().all(|u| employer(u).as_deref() == Some("Offshore Partners Ltd")));
    for (g, region) in [("devs-us-east", "us-east"), ("devs-us-west", "us-west"), ("devs-australia", "australia")] {
        let r =
            |u: &str| people.records.iter().find(|r| r.user_id == u).and_then(|r| r.attributes.get("region").cloned());
        assert!(group(g).members.iter().all(|u| r(u).as_deref() == Some(region)), "{g}");
    }
    // The mess of real deployments.
    assert!(s.users.iter().any(|u| u.status == "suspended") && s.users.iter().any(|u| u.status == "dormant"));
    for status in ["failed", "deleting", "running", "stopped"] {
        assert!(s.workspaces.iter().any(|w| w.latest_build.status == status), "a {status} workspace");
    }
    assert!(s.workspaces.iter().any(|w| w.dormant_at.is_some()), "a dormant workspace");
    let payments = s.templates.iter().find(|t| t.name == "payments-k8s").unwrap();
    let owners: std::collections::BTreeSet<&str> =
        s.workspaces.iter().filter(|w| w.template_id == payments.id).map(|w| w.owner_id.as_str()).collect();
    assert!(
        owners.iter().any(|u| group("checkout").members.iter().any(|m| m == u)),
        "payments-k8s is shared with checkout"
    );
}

#[test]
fn committed_megaco_is_what_the_generator_writes_and_imports_faithfully() {
    let deployment = fixtures::megaco();
    let dir = tempfile::tempdir().unwrap();
    let imported = import_dir(
        &megaco().join("export"),
        &ImportOptions { people: Some(megaco().join("people.csv")), ..Default::default() },
    )
    .unwrap();
    let want = deployment.snapshot.section_fingerprints();
    let have = imported.section_fingerprints();
    let differ: Vec<_> = want.iter().filter(|(k, v)| have.get(*k) != Some(v)).map(|(k, _)| *k).collect();
    assert!(differ.is_empty(), "sections that do not round-trip: {differ:?}");
    assert_eq!(imported.people, deployment.snapshot.people, "people read back as written, line numbers too");
    drop(dir);
}

#[test]
fn generated_deployment_round_trips_through_export_and_import() {
    let deployment = fixtures::generate(400, 7);
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in fixtures::export_files(&deployment) {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
    let imported = import_dir(
        &dir.path().join("export"),
        &ImportOptions {
            people: Some(dir.path().join("people.csv")),
            template_sources: Some(dir.path().join("template-sources")),
            taken_at: None,
            deployment_url: None,
        },
    )
    .unwrap();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    assert_eq!(imported.fingerprint(), deployment.snapshot.fingerprint());
    assert_eq!(imported.people, deployment.snapshot.people);
    assert_eq!(imported.organizations.len(), 2, "the generator makes a second org");
    assert_eq!(imported.template_sources.len(), imported.templates.len() - count_labs(&imported));
}

fn count_labs(s: &Snapshot) -> usize {
    s.templates.iter().filter(|t| t.name.starts_with("labs-")).count()
}

#[test]
fn swagger_bodies_join_by_id_with_every_trap() {
    let s = import(&fixtures().join("swagger-bodies"));
    assert_eq!(s.organizations.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["coder", "data"]);
    assert_eq!(s.default_organization().unwrap().name, "coder");
    assert_eq!(s.users.len(), 5);
    let user = |n: &str| s.users.iter().find(|u| u.username == n).unwrap();
    assert_eq!(user("alice").roles, ["owner"]);
    assert!(user("dave").roles.is_empty(), "Go's null slice reads as empty");
    assert_eq!(user("dave").status, "dormant");
    assert_eq!(user("erin").last_seen_at, None, "Go's zero time means never");
    let coder = &s.organizations[0].id;
    let data = &s.organizations[1].id;
    let roles = |org: &str, u: &str| {
        s.organization_members
            .iter()
            .find(|m| m.organization_id == org && m.user_id == user(u).id)
            .map(|m| m.roles.clone())
    };
    assert_eq!(
        roles(coder, "alice"),
        Some(Some(vec!["organization-admin".to_string()])),
        "from the paginated-members object"
    );
    assert_eq!(
        roles(data, "carol"),
        Some(Some(vec!["organization-template-admin".to_string()])),
        "from the plain members array"
    );
    assert_eq!(roles(data, "bob"), None);
    assert_eq!(s.organization_members.len(), 7);
    let analysts = s.groups.iter().find(|g| g.name == "analysts").unwrap();
    assert_eq!(
        (analysts.organization_id.as_str(), analysts.quota_allowance, analysts.source.as_str()),
        (data.as_str(), 5, "oidc")
    );
    assert_eq!(analysts.members.len(), 2);
    let k8s = s.templates.iter().find(|t| t.name == "k8s").unwrap();
    assert!(k8s.deprecated);
    assert_eq!(k8s.deprecation_message, "Use [docker](/templates/docker) instead.");
    assert_eq!(k8s.settings.time_til_dormant_autodelete_ms, 604_800_000);
    let notebook = s.templates.iter().find(|t| t.name == "notebook").unwrap();
    let acl = notebook.acl.as_ref().expect("the envelope says whose ACL it is");
    assert_eq!(acl.group[0].id, analysts.id);
    assert_eq!((acl.users[0].id.as_str(), acl.users[0].role.as_str()), (user("carol").id.as_str(), "admin"));
    let v = &s.template_versions[0];
    assert_eq!(v.job.file_id, "f11e0000-0000-4000-8000-0000000000d3");
    assert_eq!(v.job.tags.get("region").map(String::as_str), Some("eu"));
    let old = s.workspaces.iter().find(|w| w.name == "old").unwrap();
    assert_eq!(old.deleting_at.as_deref(), Some("2024-12-08T00:00:00Z"));
    assert_eq!(s.workspaces.len(), 4, "the workspace on a missing template is kept");
    assert_eq!(codes(&s), ["dangling-template", "missing-active-version"]);
    assert_eq!(s.source.taken_at.as_deref(), Some("2025-03-01T10:00:00Z"), "from the entitlements' refreshed_at");
}

#[test]
fn real_api_examples_decode_despite_unknown_and_missing_fields() {
    let s = import(&fixtures().join("coder-examples"));
    assert_eq!(s.users.len(), 1);
    assert_eq!(s.templates.len(), 1);
    assert!(s.templates[0].deprecated);
    assert_eq!(s.workspaces.len(), 1, "a single workspace object is a workspace");
    assert_eq!(s.workspaces[0].latest_build.status, "pending");
    assert_eq!(s.groups.len(), 1);
    assert_eq!(s.organization_members.len(), 2);
    for code in ["dangling-owner", "dangling-template", "no-template-versions"] {
        assert!(codes(&s).contains(&code), "{code} in {:?}", codes(&s));
    }
}

#[test]
fn file_names_do_not_matter_and_pages_merge() {
    let src = fixtures().join("swagger-bodies");
    let want = import(&src).fingerprint();
    let dir = tempfile::tempdir().unwrap();
    // Rename every file to something meaningless, some without an extension, in subfolders.
    for (i, name) in files_in(&src).iter().enumerate() {
        let to =
            if i % 2 == 0 { dir.path().join(format!("x/{i:02}")) } else { dir.path().join(format!("dump-{i}.json")) };
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(src.join(name), to).unwrap();
    }
    // And split the users page in two.
    let users: serde_json::Value = read_json(&src.join("users.json"));
    let list = users["users"].as_array().unwrap();
    let users_file = files_in(dir.path())
        .into_iter()
        .find(|f| fs::read_to_string(dir.path().join(f)).unwrap().contains("\"users\": ["))
        .unwrap();
    fs::remove_file(dir.path().join(users_file)).unwrap();
    for (i, page) in list.chunks(3).enumerate() {
        let body = serde_json::json!({"count": list.len(), "users": page});
        fs::write(dir.path().join(format!("page{i}")), serde_json::to_vec(&body).unwrap()).unwrap();
    }
    let s = import(dir.path());
    assert_eq!(s.fingerprint(), want);
    // Lose a page: the count says so.
    fs::remove_file(dir.path().join("page1")).unwrap();
    let s = import(dir.path());
    assert!(
        s.warnings.iter().any(|w| w.code == "incomplete-pages" && w.message.contains("there are 5 users")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn unknown_files_are_warnings_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("organizations.json"),
        fs::read(fixtures().join("swagger-bodies/organizations.json")).unwrap(),
    )
    .unwrap();
    fs::write(dir.path().join("README.md"), "# my export\n").unwrap();
    fs::write(dir.path().join("something.json"), r#"{"hello": "world"}"#).unwrap();
    fs::write(dir.path().join(".DS_Store"), [0u8, 1, 2]).unwrap();
    let s = import(dir.path());
    let unknown: Vec<&str> =
        s.warnings.iter().filter(|w| w.code == "unknown-file").map(|w| w.message.as_str()).collect();
    assert_eq!(unknown.len(), 2, "{unknown:?}");
    assert!(unknown.iter().any(|m| m.contains("README.md")));
    assert!(unknown.iter().any(|m| m.contains("something.json")));
    assert_eq!(s.organizations.len(), 2);
}

#[test]
fn people_rows_that_match_no_user_are_reported_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("hr.csv");
    fs::write(&csv, "email,department\nalice@example.com,platform\nnobody@example.com,sales\n").unwrap();
    let s = import_dir(
        &fixtures().join("swagger-bodies"),
        &ImportOptions { people: Some(csv.clone()), ..Default::default() },
    )
    .unwrap();
    let w = s.warnings.iter().find(|w| w.code == "unmatched-person").unwrap();
    assert!(w.message.contains("hr.csv`:3: no user with email `nobody@example.com`"), "{}", w.message);
    assert_eq!(s.people.unwrap().records[0].attributes["department"], "platform");
}

#[test]
fn template_sources_match_by_name_and_org_folder() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("sources");
    fs::create_dir_all(src.join("docker")).unwrap();
    fs::write(
        src.join("docker/main.tf"),
        "provider \"docker\" {}\nresource \"docker_container\" \"w\" {\n  image = \"ubuntu:24.04\"\n}\n",
    )
    .unwrap();
    fs::create_dir_all(src.join("data/notebook/modules/x")).unwrap();
    fs::write(
        src.join("data/notebook/modules/x/gpu.tf"),
        "resource \"google_compute_instance\" \"x\" {\n  machine_type = \"a2-highgpu-1g\"\n}\n",
    )
    .unwrap();
    fs::create_dir_all(src.join("stray")).unwrap();
    fs::write(src.join("stray/main.tf"), "").unwrap();
    let s = import_dir(
        &fixtures().join("swagger-bodies"),
        &ImportOptions { template_sources: Some(src), ..Default::default() },
    )
    .unwrap();
    let notebook = s.template_sources.iter().find(|t| t.path == "data/notebook").unwrap();
    assert!(notebook.template_id.is_some());
    let gpu = notebook.signals.iter().find(|x| x.kind == "gpu").unwrap();
    assert_eq!((gpu.file.as_str(), gpu.line, gpu.value.as_str()), ("modules/x/gpu.tf", 2, "a2-highgpu-1g"));
    let docker = s.template_sources.iter().find(|t| t.path == "docker").unwrap();
    assert!(docker.signals.iter().any(|x| x.kind == "image" && x.value == "ubuntu:24.04"));
    assert!(s.warnings.iter().any(|w| w.code == "unmatched-template-source" && w.message.contains("`stray`")));
}
