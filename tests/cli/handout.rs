//! `orgsplit scripts` and `orgsplit notices` on a small hand-built plan.

use std::fs;
use std::path::{Path, PathBuf};

use orgsplit::plan::*;

use crate::common::*;
use crate::scripts_e2e::{Sandbox, have};

pub fn migration(
    user: (&str, &str, &str),
    status: &str,
    old: &str,
    template: (&str, &str),
    new: (&str, &str, &str),
) -> WorkspaceMigration {
    WorkspaceMigration {
        owner: Owner {
            user_id: format!("id-{}", user.0),
            username: user.0.into(),
            email: user.1.into(),
            name: user.2.into(),
            status: status.into(),
            ..Default::default()
        },
        old: OldWorkspace {
            workspace_id: format!("ws-{}-{old}", user.0),
            name: old.into(),
            org: "coder".into(),
            template: template.0.into(),
            template_id: template.1.into(),
            status: "running".into(),
            dormant_at: None,
            deleting_at: None,
        },
        new: NewWorkspace {
            org: new.0.into(),
            template: new.1.into(),
            workspace_name: new.2.into(),
            template_step: format!("{}/template/{}", new.0, new.1),
            name_note: None,
        },
        state: MigrationState::Pending,
    }
}

/// Two users (one suspended), three workspaces, one deprecated template whose
/// display name tries to inject Markdown.
pub fn sample_plan() -> Plan {
    let deprecation = DeprecationSpec {
        template_id: "t-docker".into(),
        template_name: "docker".into(),
        template_display_name: "Docker [click](javascript:alert(1)) <b>now</b>".into(),
        message: "This template moved to the **Data** organization as `docker`: see https://wiki.example.com/move"
            .into(),
        replacements: vec![Replacement {
            org: "data".into(),
            org_display_name: "Data Team".into(),
            template: "docker".into(),
            step: "data/template/docker".into(),
        }],
        settings: TemplateMeta::default(),
    };
    Plan {
        format_version: FORMAT_VERSION,
        deployment: Deployment { url: "https://coder.example.com".into(), version: "v2.20.0".into() },
        snapshot: SnapshotRef { fingerprint: "sha256:feed".into(), ..Default::default() },
        split: SplitRef { file: "split.toml".into(), sha256: "sha256:beef".into() },
        migration: MigrationSettings {
            wiki: "https://wiki.example.com/move".into(),
            deadline: "2025-03-31".into(),
            ..Default::default()
        },
        organizations: vec![],
        steps: vec![Step {
            key: "coder/deprecation/docker".into(),
            org: Some("coder".into()),
            name: "docker".into(),
            action: Action::Update,
            depends_on: vec!["data/template/docker".into()],
            changes: vec![],
            spec: StepSpec::Deprecation(deprecation),
        }],
        workspace_migrations: vec![
            migration(
                ("alice", "alice@example.com", "Alice A."),
                "active",
                "dev",
                ("docker", "t-docker"),
                ("data", "docker", "dev-data"),
            ),
            migration(
                ("alice", "alice@example.com", "Alice A."),
                "active",
                "scratch",
                ("docker", "t-docker"),
                ("data", "docker", "scratch-data"),
            ),
            migration(
                ("bob", "bob@example.com", "Bob *B*"),
                "suspended",
                "dev",
                ("docker", "t-docker"),
                ("data", "docker", "dev-data"),
            ),
        ],
        findings: vec![],
        summary: Summary::default(),
    }
}

pub fn write_plan(dir: &Path, plan: &Plan) -> PathBuf {
    let path = dir.join("plan.json");
    fs::write(&path, plan.to_json().unwrap()).unwrap();
    path
}

#[test]
fn scripts_command_writes_a_script_per_user_an_index_and_a_readme() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &sample_plan());
    let out = dir.path().join("scripts");
    orgsplit().arg("scripts").arg(&plan).arg("--out-dir").arg(&out).assert().success();
    assert_eq!(files_in(&out), [".orgsplit-manifest.json", "README.md", "alice.sh", "bob.sh", "index.csv"]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(fs::metadata(out.join("alice.sh")).unwrap().permissions().mode() & 0o777, 0o755);
    let mut rows = csv::Reader::from_path(out.join("index.csv")).unwrap();
    let rows: Vec<Vec<String>> = rows.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    assert_eq!(
        rows[0],
        [
            "alice",
            "alice@example.com",
            "Alice A.",
            "active",
            "dev;scratch",
            "data/dev-data;data/scratch-data",
            "alice.sh"
        ]
    );
    assert_eq!(rows[1][3], "suspended");
    let readme = fs::read_to_string(out.join("README.md")).unwrap();
    assert!(readme.contains("| bob | suspended | `bob.sh` |"), "{readme}");
    assert!(readme.contains("Deadline: **2025-03-31**"), "{readme}");
    let alice = fs::read_to_string(out.join("alice.sh")).unwrap();
    assert!(alice.contains("OLD_WS=(dev scratch)\n") && alice.contains("NEW_WS=(dev-data scratch-data)\n"), "{alice}");
    if have("shellcheck") {
        let lint =
            std::process::Command::new("shellcheck").args(["-s", "bash"]).arg(out.join("alice.sh")).output().unwrap();
        assert!(lint.status.success(), "{}", String::from_utf8_lossy(&lint.stdout));
    }
    // Same plan, byte-identical output.
    let again = dir.path().join("again");
    orgsplit().arg("scripts").arg(&plan).arg("--out-dir").arg(&again).assert().success();
    for f in files_in(&out) {
        assert_eq!(fs::read(out.join(&f)).unwrap(), fs::read(again.join(&f)).unwrap(), "{f}");
    }
}

#[test]
fn a_plan_without_url_needs_one_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = sample_plan();
    p.deployment.url.clear();
    let plan = write_plan(dir.path(), &p);
    let out = dir.path().join("s");
    let a = orgsplit().arg("scripts").arg(&plan).arg("--out-dir").arg(&out).assert().code(64);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("pass `--url https://coder.example.com`"));
    assert!(!out.exists(), "nothing written on error");
    orgsplit()
        .arg("scripts")
        .arg(&plan)
        .args(["--url", "https://c.example.com", "--out-dir"])
        .arg(&out)
        .assert()
        .success();
    assert!(fs::read_to_string(out.join("bob.sh")).unwrap().contains("DEPLOYMENT_URL=https://c.example.com\n"));
}

#[test]
fn a_generated_script_migrates_in_the_sandbox() {
    if !have("rsync") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &sample_plan());
    let out = dir.path().join("scripts");
    orgsplit().arg("scripts").arg(&plan).arg("--out-dir").arg(&out).assert().success();
    let sb = Sandbox::new();
    for ws in ["dev", "scratch"] {
        fs::create_dir_all(sb.ws(ws).join("src")).unwrap();
        fs::write(sb.ws(ws).join(format!("src/{ws}.txt")), ws).unwrap();
    }
    let mut cmd = sb.command(&out.join("alice.sh"), "alice", &[]);
    cmd.env("FAKE_URL", "https://coder.example.com");
    let run = cmd.output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(fs::read_to_string(sb.ws("dev-data").join("src/dev.txt")).unwrap(), "dev");
    assert_eq!(fs::read_to_string(sb.ws("scratch-data").join("src/scratch.txt")).unwrap(), "scratch");
}

#[test]
fn notices_per_template_and_user_with_a_mailing_list() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &sample_plan());
    let out = dir.path().join("notices");
    orgsplit().arg("notices").arg(&plan).arg("--out-dir").arg(&out).assert().success();
    assert_eq!(
        files_in(&out),
        [
            ".orgsplit-manifest.json",
            "mailing-list.csv",
            "templates/coder--docker.md",
            "templates/coder--docker.message.txt",
            "templates/coder--docker.txt",
            "users/alice.md",
            "users/alice.txt",
            "users/bob.md",
            "users/bob.txt",
        ]
    );
    let message = fs::read_to_string(out.join("templates/coder--docker.message.txt")).unwrap();
    assert_eq!(
        message,
        "This template moved to the **Data** organization as `docker`: see https://wiki.example.com/move\n"
    );
    let md = fs::read_to_string(out.join("templates/coder--docker.md")).unwrap();
    assert!(
        md.contains("# The template Docker \\[click\\](javascript:alert(1)) \\<b\\>now\\</b\\> is deprecated"),
        "{md}"
    );
    // Plain text as Coder shows it, escaped for Markdown here: the asterisks show as typed.
    assert!(
        md.contains("> This template moved to the \\*\\*Data\\*\\* organization"),
        "the message is quoted as set: {md}"
    );
    assert!(md.contains("- the Data Team organization (`data`), as the template `docker`"), "{md}");
    assert!(md.contains("3 workspace(s) made from this template are moving."), "{md}");
    let txt = fs::read_to_string(out.join("templates/coder--docker.txt")).unwrap();
    assert!(txt.contains("What to do before 2025-03-31\n====="), "{txt}");
    let alice = fs::read_to_string(out.join("users/alice.md")).unwrap();
    assert!(alice.contains("| dev | docker | data | docker | dev-data |"), "{alice}");
    assert!(alice.contains("`bash ./alice.sh --dry-run`"), "{alice}");
    let bob = fs::read_to_string(out.join("users/bob.md")).unwrap();
    assert!(bob.contains("Hello Bob \\*B\\*,"), "names are escaped: {bob}");
    let mut list = csv::Reader::from_path(out.join("mailing-list.csv")).unwrap();
    assert_eq!(
        list.headers().unwrap().iter().collect::<Vec<_>>(),
        ["email", "name", "username", "subject", "body_file", "markdown_file"]
    );
    let rows: Vec<csv::StringRecord> = list.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "alice@example.com");
    assert_eq!(&rows[0][3], "Action needed by 2025-03-31: your Coder workspaces move to data");
    assert!(out.join(&rows[0][4]).is_file(), "body_file points at a notice");
}

/// Plan MegaCo with its split file, as an admin would.
fn megaco_plan(dir: &Path) -> PathBuf {
    let plan = dir.join("plan.json");
    orgsplit().arg("plan").arg("--split").arg(megaco().join("split.toml")).arg("--out").arg(&plan).assert().success();
    plan
}

#[test]
fn megaco_plan_gives_one_script_and_one_notice_per_affected_user() {
    let dir = tempfile::tempdir().unwrap();
    let plan_path = megaco_plan(dir.path());
    let plan = Plan::from_json(&fs::read(&plan_path).unwrap(), &plan_path).unwrap();
    let owners: std::collections::BTreeSet<&str> =
        plan.workspace_migrations.iter().map(|m| m.owner.username.as_str()).collect();
    assert!(owners.len() > 100, "MegaCo's split moves many people: {}", owners.len());

    let scripts = dir.path().join("scripts");
    orgsplit().arg("scripts").arg(&plan_path).arg("--out-dir").arg(&scripts).assert().success();
    let sh: Vec<String> = files_in(&scripts).into_iter().filter(|f| f.ends_with(".sh")).collect();
    assert_eq!(sh.len(), owners.len());
    let index: Vec<csv::StringRecord> =
        csv::Reader::from_path(scripts.join("index.csv")).unwrap().records().map(|r| r.unwrap()).collect();
    assert_eq!(index.len(), owners.len());
    let moved: usize = index.iter().map(|r| r[4].split(';').count()).sum();
    assert_eq!(moved, plan.workspace_migrations.len(), "every migration is in exactly one script");
    if have("shellcheck") {
        // Every script is the same template with other data; lint a sample (all take minutes).
        let busiest = index.iter().max_by_key(|r| r[4].split(';').count()).unwrap()[6].to_string();
        let sample = [sh[0].clone(), sh[sh.len() - 1].clone(), busiest];
        let lint = std::process::Command::new("shellcheck")
            .args(["-s", "bash"])
            .args(sample.iter().map(|f| scripts.join(f)))
            .output()
            .unwrap();
        assert!(lint.status.success(), "{}", String::from_utf8_lossy(&lint.stdout));
    }

    let notices = dir.path().join("notices");
    orgsplit().arg("notices").arg(&plan_path).arg("--out-dir").arg(&notices).assert().success();
    for step in &plan.steps {
        if let StepSpec::Deprecation(d) = &step.spec {
            let stem = format!("templates/{}--{}", step.org.as_deref().unwrap(), d.template_name);
            let set = fs::read_to_string(notices.join(format!("{stem}.message.txt"))).unwrap();
            assert_eq!(set, format!("{}\n", d.message), "the exact message set on the template");
            assert!(notices.join(format!("{stem}.md")).is_file() && notices.join(format!("{stem}.txt")).is_file());
        }
    }
    let list: Vec<csv::StringRecord> =
        csv::Reader::from_path(notices.join("mailing-list.csv")).unwrap().records().map(|r| r.unwrap()).collect();
    assert_eq!(list.len(), owners.len());
    assert!(list.iter().all(|r| notices.join(&r[4]).is_file() && r[0].contains('@')));
}

#[test]
fn a_megaco_users_script_moves_all_their_workspaces() {
    if !have("rsync") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plan_path = megaco_plan(dir.path());
    let plan = Plan::from_json(&fs::read(&plan_path).unwrap(), &plan_path).unwrap();
    let scripts = dir.path().join("scripts");
    orgsplit().arg("scripts").arg(&plan_path).arg("--out-dir").arg(&scripts).assert().success();
    // The user with the most workspaces to move.
    let mut per_owner: std::collections::BTreeMap<&str, Vec<&WorkspaceMigration>> = Default::default();
    for m in &plan.workspace_migrations {
        per_owner.entry(&m.owner.username).or_default().push(m);
    }
    let (owner, moves) = per_owner.into_iter().max_by_key(|(_, v)| v.len()).unwrap();
    assert!(moves.len() >= 2, "someone moves two workspaces");
    let sb = Sandbox::new();
    for m in &moves {
        fs::create_dir_all(sb.ws(&m.old.name).join("work")).unwrap();
        fs::write(sb.ws(&m.old.name).join("work/notes.txt"), &m.old.name).unwrap();
    }
    let mut cmd = sb.command(&scripts.join(format!("{owner}.sh")), owner, &[]);
    cmd.env("FAKE_URL", &plan.deployment.url);
    let run = cmd.output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    for m in &moves {
        assert_eq!(fs::read_to_string(sb.ws(&m.new.workspace_name).join("work/notes.txt")).unwrap(), m.old.name);
    }
}
