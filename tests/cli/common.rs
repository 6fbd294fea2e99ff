//! Helpers shared by the integration tests: running the binary, fixture paths.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn orgsplit() -> Command {
    let mut cmd = Command::cargo_bin("orgsplit").expect("the orgsplit binary is built");
    cmd.env_remove("CODER_SESSION_TOKEN").env_remove("CODER_URL").env("NO_COLOR", "1");
    cmd
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn megaco() -> PathBuf {
    root().join("fixtures/megaco")
}

pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

/// Import the MegaCo fixture folder into `dir/s.json` with the CLI, as a user would.
pub fn import_megaco(dir: &Path) -> PathBuf {
    let out = dir.join("s.json");
    let m = megaco();
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(m.join("export"))
        .arg("--people")
        .arg(m.join("people.csv"))
        .arg("--template-sources")
        .arg(m.join("template-sources"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every file name in a folder, recursively, relative to it.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    out.sort();
    out
}
