//! The developer tasks: `xtask fixture` and `xtask bench`. They run the
//! orgsplit binary built next to xtask (`cargo test --workspace`, or
//! `cargo test` at the root before `cargo test -p xtask`, builds it).

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;

fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

fn orgsplit() -> Command {
    let exe = orgsplit_exe();
    assert!(exe.is_file(), "{} is not built: run `cargo build -p orgsplit` first", exe.display());
    let mut cmd = Command::new(exe);
    cmd.env_remove("CODER_SESSION_TOKEN").env_remove("CODER_URL").env("NO_COLOR", "1");
    cmd
}

fn orgsplit_exe() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_xtask")).parent().unwrap().join("orgsplit")
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn fixture_command_writes_an_importable_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen");
    xtask().args(["fixture", "generate", "--users", "120", "--seed", "5", "--out-dir"]).arg(&out).assert().success();
    let snapshot = dir.path().join("s.json");
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(out.join("export"))
        .arg("--people")
        .arg(out.join("people.csv"))
        .arg("--template-sources")
        .arg(out.join("template-sources"))
        .arg("--out")
        .arg(&snapshot)
        .assert()
        .success();
    let s = read_json(&snapshot);
    assert_eq!(s["users"].as_array().unwrap().len(), 120);
    assert_eq!(s["warnings"].as_array().unwrap().len(), 0, "{}", s["warnings"]);
}

#[test]
fn full_bodies_are_larger_and_import_to_the_same_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let import = |full: bool| {
        let out = dir.path().join(if full { "full" } else { "plain" });
        let mut generate = xtask();
        generate.args(["fixture", "generate", "--users", "100", "--seed", "3", "--out-dir"]).arg(&out);
        if full {
            generate.arg("--full-bodies");
        }
        generate.assert().success();
        let snapshot = dir.path().join(if full { "full.json" } else { "plain.json" });
        orgsplit()
            .args(["import", "--from-dir"])
            .arg(out.join("export"))
            .arg("--out")
            .arg(&snapshot)
            .assert()
            .success();
        let page = std::fs::read(out.join("export/workspaces/page-001.json")).unwrap();
        (read_json(&snapshot), page.len())
    };
    let (plain, plain_bytes) = import(false);
    let (full, full_bytes) = import(true);
    assert!(full_bytes > plain_bytes * 3 / 2, "{full_bytes} bytes against {plain_bytes}");
    for section in ["organizations", "users", "templates", "workspaces", "warnings"] {
        assert_eq!(plain[section], full[section], "{section}");
    }
    let text = std::fs::read_to_string(dir.path().join("full/export/workspaces/page-001.json")).unwrap();
    for field in ["\"resources\":[{\"agents\":[{", "\"apps\":[{", "\"log_sources\"", "\"matched_provisioners\""] {
        assert!(text.contains(field), "no {field}");
    }
}

#[test]
fn bench_import_only_compares_both_exports_with_jq() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask()
        .args(["bench", "--import-only", "--users", "200", "--runs", "1", "--work-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for label in ["generated", "full bodies"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("import ({label}) "))), "no import line: {text}");
        if Path::new("/usr/bin/jq").is_file() {
            assert!(text.lines().any(|l| l.starts_with(&format!("jq ({label}) "))), "no jq line: {text}");
            assert!(text.contains(&format!("import/jq ({label}): ")), "no ratio: {text}");
        }
    }
    if Path::new("/usr/bin/jq").is_file() {
        assert!(text.contains("jq counted [templates, workspaces] = ["), "{text}");
    }
    assert!(!text.lines().any(|l| l.starts_with("plan ")), "--import-only ran plan: {text}");
}

#[test]
fn bench_runs_every_stage_and_reports_medians_and_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask()
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

/// `bench --apply-only` against the fake Coder program (built beside xtask
/// by `cargo build --workspace`): apply runs to the end, verified, and its
/// requests stay within the 1.05x of the plan's minimum.
#[test]
fn bench_apply_only_applies_the_split_within_the_request_budget() {
    let fake = Path::new(env!("CARGO_BIN_EXE_xtask")).parent().unwrap().join("fake_coder");
    let script =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).any(|d| d.join("script").is_file());
    if !fake.is_file() || !script {
        let why = format!("needs {} (`cargo build -p fake-coder`) and util-linux `script`", fake.display());
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = xtask()
        .args(["bench", "--apply-only", "--users", "200", "--latency-ms", "0", "--work-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = text
        .lines()
        .find(|l| l.starts_with("apply ") && l.contains("requests by the steps"))
        .unwrap_or_else(|| panic!("{text}"));
    let ratio: f64 = line
        .split_once(" (")
        .and_then(|(_, r)| r.split_once("x)"))
        .and_then(|(r, _)| r.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((1.0..=1.05).contains(&ratio), "{line}");
    let applied = std::fs::read_to_string(dir.path().join("apply.out")).unwrap();
    assert!(applied.contains("verified: no drift"), "{applied}");
}

/// The subcommands of `orgsplit --help`, each with its page.
const COMMANDS: [&str; 16] = [
    "import",
    "inventory",
    "score",
    "rules",
    "plan",
    "diff",
    "report",
    "apply",
    "revert",
    "scripts",
    "notices",
    "export",
    "access",
    "v1-plan",
    "schema",
    "completions",
];

#[test]
fn man_pages_are_written_one_per_command_and_render() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    let run = xtask().args(["man", "--out-dir"]).arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let main = std::fs::read_to_string(out.join("orgsplit.1")).unwrap();
    assert!(main.contains("\n.TH orgsplit 1 "), "{main}");
    assert!(main.contains(".SH NAME") && main.contains(".SH SYNOPSIS"), "{main}");
    for command in COMMANDS {
        // roff escapes every hyphen of a name (`orgsplit\-v1\-plan`).
        let escaped = command.replace('-', "\\-");
        assert!(main.contains(&format!("orgsplit\\-{escaped}(1)")), "orgsplit.1 does not name `{command}`");
        let page = std::fs::read_to_string(out.join(format!("orgsplit-{command}.1"))).unwrap();
        assert!(page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"), "orgsplit-{command}.1: {page}");
    }
    for nested in ["orgsplit-rules-list.1", "orgsplit-rules-explain.1", "orgsplit-export-terraform.1"] {
        assert!(out.join(nested).is_file(), "{nested}");
    }
    let import = std::fs::read_to_string(out.join("orgsplit-import.1")).unwrap();
    assert!(import.contains("\\-\\-out") && import.contains("CODER_URL"), "{import}");
    // Writing again replaces the folder whole, byte for byte the same.
    xtask().args(["man", "--out-dir"]).arg(&out).assert().success();
    assert_eq!(std::fs::read_to_string(out.join("orgsplit.1")).unwrap(), main);
    // The page renders: groff reads it without a warning, into the sections a reader expects.
    if Command::new("groff").arg("--version").output().is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "groff is missing (CI installs groff-base)");
        eprintln!("skipped rendering the man page: groff is not installed");
        return;
    }
    // Plain text: no bold by overstriking or escape sequences (`-P-cbou`).
    let rendered =
        Command::new("groff").args(["-man", "-Tutf8", "-ww", "-P-cbou"]).arg(out.join("orgsplit.1")).output().unwrap();
    let warnings = String::from_utf8_lossy(&rendered.stderr);
    assert!(rendered.status.success() && warnings.is_empty(), "{warnings}");
    let text = String::from_utf8_lossy(&rendered.stdout);
    for heading in ["NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS"] {
        assert!(text.lines().any(|l| l == heading), "{heading} missing from the rendered page:\n{text}");
    }
    assert!(text.contains("orgsplit-completions(1)"), "{text}");
}
