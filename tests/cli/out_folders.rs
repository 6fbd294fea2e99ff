//! The scripts and notices folders are written as one unit: file names that
//! are safe, bounded and unique whatever the usernames, the mapping listed
//! in the index and the mailing list, an earlier orgsplit folder replaced
//! whole, a folder orgsplit did not write refused, and an error part-way
//! leaving the folder as it was.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use orgsplit::plan::*;

use crate::common::*;
use crate::handout::{migration, sample_plan, write_plan};

const MANIFEST: &str = ".orgsplit-manifest.json";

/// `sample_plan` plus one active user per name, each moving a workspace `dev`.
fn plan_with_users(names: &[&str]) -> Plan {
    let mut plan = sample_plan();
    for name in names {
        plan.workspace_migrations.push(migration(
            (name, &format!("{}@example.com", name.len()), "Someone"),
            "active",
            "dev",
            ("docker", "t-docker"),
            ("data", "docker", "dev-data"),
        ));
    }
    plan
}

fn run(command: &str, plan: &Path, out: &Path) -> assert_cmd::assert::Assert {
    orgsplit().arg(command).arg(plan).arg("--out-dir").arg(out).assert()
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path).unwrap().records().map(|r| r.unwrap()).collect()
}

/// Each entry of `dir` (not recursive), sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    out.sort();
    out
}

fn safe_file_name(name: &str) -> bool {
    !name.starts_with(['-', '.'])
        && name.len() <= 80
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

#[derive(serde::Deserialize)]
struct Manifest {
    tool: String,
    kind: String,
    files: Vec<String>,
}

#[test]
fn names_that_map_to_one_file_a_leading_dash_and_a_long_name_each_get_their_own_safe_file() {
    let long = "x".repeat(300);
    let names = ["dup$x", "dup_x", "-rf", long.as_str()];
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_with_users(&names));
    let scripts = dir.path().join("scripts");
    run("scripts", &plan, &scripts).success();

    // index.csv maps every user to their own script, and the script is there.
    // A cell a spreadsheet would run as a formula (`-rf`) is written with a leading `'`.
    let unneutralised = |cell: &str| match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => cell.to_string(),
    };
    let index: BTreeMap<String, String> =
        csv_rows(&scripts.join("index.csv")).iter().map(|r| (unneutralised(&r[0]), r[6].to_string())).collect();
    assert_eq!(index.len(), 6, "{index:?}");
    assert_eq!(index["dup_x"], "dup_x.sh", "a safe name keeps its file");
    assert_eq!(index["alice"], "alice.sh");
    let files: std::collections::BTreeSet<&String> = index.values().collect();
    assert_eq!(files.len(), index.len(), "one file per user: {index:?}");
    for (user, file) in &index {
        assert!(safe_file_name(file) && file.ends_with(".sh"), "{user:?} -> {file}");
        let script = fs::read_to_string(scripts.join(file)).unwrap();
        let owner = script.lines().find(|l| l.starts_with("OWNER=")).unwrap();
        assert_eq!(shlex::split(owner.trim_start_matches("OWNER=")).unwrap(), [user.as_str()], "{file} is {user}'s");
    }
    assert!(index["dup$x"].starts_with("dup_x-") && index["-rf"].starts_with("_rf-"), "{index:?}");
    let manifest: Manifest = serde_json::from_slice(&fs::read(scripts.join(MANIFEST)).unwrap()).unwrap();
    assert_eq!((manifest.tool.as_str(), manifest.kind.as_str()), ("orgsplit", "scripts"));
    let mut listed = manifest.files.clone();
    listed.push(MANIFEST.into());
    listed.sort();
    assert_eq!(listed, files_in(&scripts), "the manifest lists every file");

    // The notices name the same files, and tell the user to run them as `./file`.
    let notices = dir.path().join("notices");
    run("notices", &plan, &notices).success();
    let list = csv_rows(&notices.join("mailing-list.csv"));
    assert_eq!(list.len(), 6);
    let bodies: std::collections::BTreeSet<&str> = list.iter().map(|r| &r[4]).collect();
    assert_eq!(bodies.len(), 6, "one notice per user");
    for r in &list {
        let body = &r[4];
        let file = body.strip_prefix("users/").unwrap();
        assert!(safe_file_name(file), "{body}");
        let text = fs::read_to_string(notices.join(body)).unwrap();
        let script = &index[&unneutralised(&r[2])];
        assert!(text.contains(&format!("bash ./{script} --dry-run then bash ./{script}.")), "{text}");
    }
}

#[test]
fn a_second_run_replaces_the_earlier_folder_whole() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_plan(dir.path(), &plan_with_users(&["carol"]));
    let scripts = dir.path().join("scripts");
    let notices = dir.path().join("notices");
    run("scripts", &first, &scripts).success();
    run("notices", &first, &notices).success();
    assert!(scripts.join("carol.sh").is_file() && notices.join("users/carol.md").is_file());

    let second = write_plan(dir.path(), &sample_plan());
    run("scripts", &second, &scripts).success();
    run("notices", &second, &notices).success();
    assert_eq!(files_in(&scripts), [MANIFEST, "README.md", "alice.sh", "bob.sh", "index.csv"]);
    assert!(!notices.join("users/carol.md").exists() && notices.join("users/bob.md").is_file());
    assert_eq!(entries(dir.path()), ["notices", "plan.json", "scripts"], "nothing left beside them");
}

#[test]
fn a_folder_orgsplit_did_not_write_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &sample_plan());
    let mine = dir.path().join("mine");
    fs::create_dir_all(mine.join("docs")).unwrap();
    fs::write(mine.join("alice.sh"), "my own script").unwrap();
    fs::write(mine.join("docs/notes.txt"), "notes").unwrap();
    for command in ["scripts", "notices"] {
        let out = run(command, &plan, &mine).code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("is not empty and has no .orgsplit-manifest.json")
                && stderr.contains("choose another --out-dir, or move that folder away"),
            "{stderr}"
        );
        assert_eq!(files_in(&mine), ["alice.sh", "docs/notes.txt"]);
        assert_eq!(fs::read_to_string(mine.join("alice.sh")).unwrap(), "my own script");
    }
    // A file added to an orgsplit folder is not removed with it either.
    let scripts = dir.path().join("scripts");
    run("scripts", &plan, &scripts).success();
    fs::write(scripts.join("handed-out.txt"), "alice: done").unwrap();
    let out = run("scripts", &plan, &scripts).code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("`handed-out.txt`"));
    assert!(scripts.join("handed-out.txt").is_file() && scripts.join("alice.sh").is_file());
    // The notices command does not replace a scripts folder.
    fs::remove_file(scripts.join("handed-out.txt")).unwrap();
    let out = run("notices", &plan, &scripts).code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("holds orgsplit's scripts, not notices"));
    // An empty folder is fine.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    run("notices", &plan, &empty).success();
    assert!(empty.join("mailing-list.csv").is_file());
    assert_eq!(entries(dir.path()), ["empty", "mine", "plan.json", "scripts"]);
}

#[test]
fn an_error_part_way_leaves_the_earlier_folder_and_no_temp_folder() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("scripts");
    run("scripts", &write_plan(dir.path(), &sample_plan()), &scripts).success();
    let before: Vec<(String, Vec<u8>)> =
        files_in(&scripts).into_iter().map(|f| (f.clone(), fs::read(scripts.join(&f)).unwrap())).collect();
    // alice's script is written, then bob's workspace name cannot be: the run stops part-way.
    let mut bad = sample_plan();
    bad.workspace_migrations[2].old.name = "dev\0".into();
    let plan = write_plan(dir.path(), &bad);
    let out = run("scripts", &plan, &scripts).code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("NUL"), "{out:?}");
    let after: Vec<(String, Vec<u8>)> =
        files_in(&scripts).into_iter().map(|f| (f.clone(), fs::read(scripts.join(&f)).unwrap())).collect();
    assert_eq!(after, before, "the earlier folder is as it was");
    let fresh = dir.path().join("fresh");
    run("scripts", &plan, &fresh).code(1);
    assert!(!fresh.exists(), "no half-written folder");
    assert_eq!(entries(dir.path()), ["plan.json", "scripts"], "no temp folder left behind");
    // An output that cannot be made at all: its parent is a file.
    let out = run("notices", &plan, &dir.path().join("plan.json/notices")).code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("plan.json"), "{out:?}");
    assert_eq!(entries(dir.path()), ["plan.json", "scripts"]);
}
