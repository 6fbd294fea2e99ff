//! The fixtures: MegaCo as committed, and the generator.

use std::collections::BTreeSet;
use std::fs;

use crate::common::*;

#[test]
fn committed_megaco_folder_is_byte_identical_to_the_generator_output() {
    let want = orgsplit::fixture::export_files(&orgsplit::fixture::megaco());
    let on_disk = files_in(&megaco());
    let generated: BTreeSet<&str> = want.iter().map(|(p, _)| p.as_str()).collect();
    let committed: BTreeSet<&str> = on_disk
        .iter()
        .map(String::as_str)
        .filter(|p| !["candidates.toml", "split.toml"].contains(p) && !p.ends_with(".md"))
        .collect();
    assert_eq!(generated, committed, "regenerate with: cargo run -- fixture megaco -o fixtures/megaco");
    for (path, bytes) in want {
        assert!(
            fs::read(megaco().join(&path)).unwrap() == bytes,
            "{path} differs from the generator's output; regenerate"
        );
    }
}

#[test]
fn generator_is_deterministic_and_sized_as_documented() {
    let a = orgsplit::fixture::generate(1000, 42);
    let b = orgsplit::fixture::generate(1000, 42);
    let c = orgsplit::fixture::generate(1000, 43);
    assert_eq!(a.snapshot.to_json().unwrap(), b.snapshot.to_json().unwrap());
    assert_ne!(a.snapshot.fingerprint(), c.snapshot.fingerprint());
    let s = &a.snapshot;
    assert_eq!(s.users.len(), 1000);
    let per_user = s.workspaces.len() as f64 / s.users.len() as f64;
    assert!((2.5..=3.5).contains(&per_user), "about 3 workspaces per user: {per_user}");
    assert!(s.templates.len().abs_diff(1000 / 20) <= 5, "about N/20 templates: {}", s.templates.len());
    let groups = s.groups.iter().filter(|g| !g.is_everyone()).count();
    assert_eq!(groups, 1000 / 50);
}

#[test]
fn fixture_command_writes_an_importable_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen");
    orgsplit().args(["fixture", "generate", "--users", "120", "--seed", "5", "-o"]).arg(&out).assert().success();
    let snapshot = dir.path().join("s.json");
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(out.join("export"))
        .arg("--people")
        .arg(out.join("people.csv"))
        .arg("--template-sources")
        .arg(out.join("template-sources"))
        .arg("-o")
        .arg(&snapshot)
        .assert()
        .success();
    let s = read_json(&snapshot);
    assert_eq!(s["users"].as_array().unwrap().len(), 120);
    assert_eq!(s["warnings"].as_array().unwrap().len(), 0, "{}", s["warnings"]);
}

#[test]
fn bench_runs_every_stage_and_reports_medians_and_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = orgsplit()
        .args(["bench", "--users", "300", "--runs", "2", "--fake-coder", "/nonexistent/fake_coder", "--work-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("input: 300 users"), "{text}");
    assert!(text.contains("median of 2 run(s)"), "{text}");
    for stage in ["import", "plan", "scripts", "notices", "diff", "report --split -o html", "diff --access"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("{stage} "))), "no `{stage}` line: {text}");
    }
    let together = text.lines().find(|l| l.contains(" together: ")).unwrap_or_else(|| panic!("{text}"));
    assert!(together.starts_with("plan + diff + report --split -o html together: "), "{together}");
    assert!(text.contains("live import: skipped"), "{text}");
    // Each run of a stage that writes a folder writes a new one.
    for folder in ["scripts", "scripts-2", "notices", "notices-2"] {
        assert!(dir.path().join(folder).is_dir(), "{folder} was not written");
    }
    assert!(!dir.path().join("scripts-3").exists());
}
