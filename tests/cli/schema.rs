//! `orgsplit schema`: the published schema accepts what orgsplit writes and
//! rejects what it would not.

use crate::common::*;

fn snapshot_schema() -> jsonschema::Validator {
    let out = orgsplit().args(["schema", "snapshot"]).assert().success();
    let schema: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    jsonschema::validator_for(&schema).expect("the published schema is a valid JSON Schema")
}

#[test]
fn megaco_snapshot_validates_against_the_published_schema() {
    let dir = tempfile::tempdir().unwrap();
    let s = read_json(&import_megaco(dir.path()));
    let v = snapshot_schema();
    let errors: Vec<String> = v.iter_errors(&s).take(5).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn schema_rejects_a_malformed_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = read_json(&import_megaco(dir.path()));
    s["users"][0]["status"] = serde_json::json!(7);
    assert!(!snapshot_schema().is_valid(&s));
    let mut s2 = read_json(&import_megaco(dir.path()));
    s2["extra"] = serde_json::json!(true);
    assert!(!snapshot_schema().is_valid(&s2), "unknown fields are not allowed");
}
