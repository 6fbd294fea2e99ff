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

/// `v1-plan` on the built-in example: the plan, and a folder of generated
/// templates, scripts and notices.
fn v1_plan_folder(dir: &Path) -> (PathBuf, PathBuf) {
    let out = dir.join("out");
    let plan = dir.join("v1-plan.json");
    orgsplit()
        .args(["v1-plan", "--url", "https://v2.megaco.example", "--deadline", "2025-09-30", "--out-dir"])
        .arg(&out)
        .arg("--out")
        .arg(&plan)
        .assert()
        .success();
    (out, plan)
}

#[test]
fn v1_plan_writes_templates_scripts_and_notices_from_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let (out, plan_path) = v1_plan_folder(dir.path());
    let plan = orgsplit::v1::plan::V1Plan::from_json(&fs::read(&plan_path).unwrap(), &plan_path).unwrap();
    assert_eq!(plan.templates.len(), 8);
    assert_eq!(plan.workspaces.len(), 20);
    let files: BTreeSet<String> = files_in(&out).into_iter().collect();
    for t in &plan.templates {
        assert!(files.contains(&format!("templates/{}/main.tf", t.source_dir)), "{files:?}");
    }
    let go = fs::read_to_string(out.join("templates/raptix/go-dev/main.tf")).unwrap();
    assert!(go.contains("image = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/raptix/go-dev\""), "{go}");
    assert!(go.contains("default     = \"coder-raptix\""), "the raptix provider's namespace: {go}");
    assert!(go.contains("default      = \"1.16\""), "the image's default tag: {go}");
    let legacy = fs::read_to_string(out.join("templates/coder/legacy-centos/main.tf")).unwrap();
    assert!(legacy.lines().next().unwrap().contains("DEPRECATED"), "{legacy}");
    let script = fs::read_to_string(out.join("scripts/farah-khan.sh")).unwrap();
    assert!(script.contains("\nCODER_CLI=coderv2\nFROM_V1=1\n"), "{script}");
    assert!(script.contains("\nDEPLOYMENT_URL=https://v2.megaco.example\n"), "{script}");
    assert!(script.contains("\nOLD_HOST=(coder.training)\n"), "{script}");
    assert!(script.contains("\nNEW_PARAMS=('cpu=8 disk_gb=100 gpus=1 image_tag=11.2 memory_gb=32')\n"), "{script}");
    assert!(!script.contains("--delete"), "scripts never delete");
    let notice = fs::read_to_string(out.join("notices/users/carla-diaz.md")).unwrap();
    assert!(notice.contains("dev URL port 8080"), "v1-only features are listed per user: {notice}");
    assert!(notice.contains("2025-09-30"), "{notice}");
    assert!(notice.contains("bash ./carla-diaz.sh --dry-run"), "{notice}");
    let summary = fs::read_to_string(out.join("plan.md")).unwrap();
    assert!(summary.contains("| raptix | bianca-das | manager | organization-admin |"), "{summary}");
    // Same input, same bytes.
    let again = tempfile::tempdir().unwrap();
    let (out2, plan2) = v1_plan_folder(again.path());
    assert_eq!(fs::read(&plan_path).unwrap(), fs::read(&plan2).unwrap());
    for f in &files {
        assert!(fs::read(out.join(f)).unwrap() == fs::read(out2.join(f)).unwrap(), "{f} differs between runs");
    }
}

#[test]
fn generated_templates_pass_terraform_fmt_and_shellcheck() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = v1_plan_folder(dir.path());
    for f in files_in(&out).iter().filter(|f| f.ends_with(".sh")) {
        crate::scripts_e2e::shellcheck_passes(&out.join(f));
    }
    let Some(tf) = crate::export::terraform_cli() else { return };
    let fmt = std::process::Command::new(tf)
        .args(["fmt", "-check", "-recursive", "-diff"])
        .arg(out.join("templates"))
        .output()
        .unwrap();
    assert!(fmt.status.success(), "{tf} fmt -check:\n{}", String::from_utf8_lossy(&fmt.stdout));
}

#[test]
fn hostile_v1_names_stay_strings_in_hcl_and_are_refused_as_ssh_hosts() {
    let mut v1 = orgsplit::v1::fixture::builtin().unwrap();
    let evil = "evil\"/${file(\"/etc/passwd\")}%{ if true }x";
    v1.images[0].repository = evil.to_string();
    let ws = v1.workspaces.iter_mut().find(|w| w.image_id == v1.images[0].id).unwrap();
    ws.name = "-oProxyCommand=touch PWNED".into();
    let plan = orgsplit::v1::plan::plan(&orgsplit::v1::plan::Inputs { v1: &v1, target: None, split: None }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let t = plan.templates.iter().find(|t| t.image.contains("evil")).unwrap();
    let tf = orgsplit::v1::render::template_source(t).unwrap();
    assert!(tf.contains(r#"image = "evil\"/$${file(\"/etc/passwd\")}%%{ if true }x""#), "{tf}");
    let main = dir.path().join("t");
    fs::create_dir_all(&main).unwrap();
    fs::write(main.join("main.tf"), &tf).unwrap();
    if let Some(cli) = crate::export::terraform_cli() {
        let fmt = std::process::Command::new(cli).args(["fmt", "-check"]).arg(&main).output().unwrap();
        assert!(fmt.status.success(), "{}", String::from_utf8_lossy(&fmt.stderr));
    }
    let scripts = orgsplit::v1::render::script_files(&plan, "https://v2.example", "", "").unwrap();
    let w = plan.workspaces.iter().find(|w| w.old_name.starts_with("-o")).unwrap();
    assert_ne!(w.new_name, w.old_name, "the new name is made valid");
    let (_, script) = scripts.iter().find(|(n, _)| *n == format!("{}.sh", w.owner)).unwrap();
    let problem = script.lines().find(|l| l.starts_with("HOST_PROBLEM=(")).unwrap();
    assert!(problem.contains("breaks Coder's name rules"), "the odd v1 host is refused: {problem}");
}

/// A v1 move end to end with stand-ins: the v1 workspace is reached by its
/// v1 host name (`coder.<workspace>`), the new one is created with the
/// plan's parameters, and the files arrive.
#[test]
fn a_v1_script_copies_from_the_v1_host_and_creates_with_parameters() {
    use crate::scripts_e2e::{Sandbox, assert_ok, have};
    if !have("rsync") {
        return;
    }
    let v1 = orgsplit::v1::fixture::builtin().unwrap();
    let plan = orgsplit::v1::plan::plan(&orgsplit::v1::plan::Inputs { v1: &v1, target: None, split: None }).unwrap();
    let scripts = orgsplit::v1::render::script_files(&plan, "https://coder.example.com", "", "").unwrap();
    let (_, text) = scripts.iter().find(|(n, _)| n == "farah-khan.sh").unwrap();
    let sb = Sandbox::new();
    let script = sb.root.path().join("farah-khan.sh");
    fs::write(&script, text).unwrap();
    // The stand-in remote shell maps a host to ws/<part after `--`>: v1's `coder.training` has none.
    fs::create_dir_all(sb.ws("coder.training").join("src")).unwrap();
    fs::write(sb.ws("coder.training").join("src/model.py"), b"print(1)\n").unwrap();
    let mut cmd = sb.command(&script, "farah-khan", &[]);
    cmd.env("ORGSPLIT_CODER", "coder");
    let out = cmd.output().unwrap();
    assert_ok(&out);
    assert_eq!(fs::read(sb.ws("training").join("src/model.py")).unwrap(), b"print(1)\n");
    assert!(sb.ws("coder.training").join("src/model.py").exists(), "nothing is removed from the v1 workspace");
    let calls = fs::read_to_string(sb.root.path().join("coder-calls.log")).unwrap();
    assert!(calls.contains("create\n--org=data-platform\n--template=ml-cuda\n--parameter=cpu=8\n"), "{calls}");
    assert!(calls.contains("--parameter=gpus=1\n"), "{calls}");
    assert!(!calls.contains("start\n--yes\n--\nfarah-khan/training\n==\nstart"), "{calls}");
    assert!(!calls.contains("copy-parameters-from"), "a v1 workspace is not in v2: {calls}");
}

#[test]
fn report_example_megaco_v1_tells_the_v1_story() {
    let out = orgsplit().args(["report", "--example", "megaco-v1"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("# Coder v1 deployment report\n"), "{text}");
    assert!(text.contains("| MegaCo | yes | 6 | admin, alice-chen | 3 | 8 |"), "{text}");
    assert!(text.contains("| raptix-aws | coder-raptix | on | raptix |"), "{text}");
    assert!(text.contains("| raptix | created | raptix | 3 | go-dev, node-dev | 4 |"), "{text}");
    assert!(text.contains("`v1-deprecated-image`"), "{text}");
    assert!(text.contains("farah-khan/training: dev URL tensorboard (port 6006)"), "{text}");
    let json = orgsplit().args(["report", "--example", "megaco-v1", "-o", "json"]).assert().success();
    let plan = orgsplit::v1::plan::V1Plan::from_json(&json.get_output().stdout, Path::new("stdout")).unwrap();
    assert_eq!(plan.workspaces.len(), 20);
    orgsplit().args(["report", "--example", "megaco-v1", "-o", "html"]).assert().code(64);
    orgsplit().args(["report", "--example", "megaco-v1", "--split", "x.toml"]).assert().code(64);
    orgsplit().args(["report", "--example", "megaco-v2"]).assert().code(64);
}

/// `v1-plan -o json` prints the plan; the old `-o FILE` still writes it, with a note, the same
/// bytes as `--out FILE`.
#[test]
fn v1_plan_dash_o_is_a_format_and_the_old_file_spelling_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let printed = orgsplit().args(["v1-plan", "-o", "json"]).output().unwrap();
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    let plan = orgsplit::v1::plan::V1Plan::from_json(&printed.stdout, Path::new("stdout")).unwrap();
    assert_eq!(plan.workspaces.len(), 20);
    let (old, new) = (dir.path().join("old.json"), dir.path().join("new.json"));
    let run = orgsplit().arg("v1-plan").arg("-o").arg(&old).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success() && run.stdout.is_empty(), "{stderr}");
    assert!(stderr.contains(&format!("`-o {}` is deprecated", old.display())), "{stderr}");
    orgsplit().arg("v1-plan").arg("--out").arg(&new).assert().success();
    assert_eq!(fs::read(&old).unwrap(), fs::read(&new).unwrap());
    assert_eq!(fs::read(&new).unwrap(), printed.stdout);
}
