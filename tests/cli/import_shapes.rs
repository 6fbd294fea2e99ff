//! Any export folder imports: a body of any shape the Coder API can answer
//! is read or skipped with a warning naming the file, never the end of the
//! import. The bodies are made from `swagger.json`, one per GET endpoint
//! that answers JSON, so an endpoint orgsplit has never seen is covered too.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::common::*;

const UUID: &str = "5a1e0000-0000-4000-8000-000000000001";
const TIME: &str = "2025-03-01T10:00:00Z";

/// An example value of `schema`, resolving `$ref`s against `definitions`:
/// objects with all their properties, arrays with one element.
fn example(schema: &Value, definitions: &Value, depth: usize) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        // regexp.Regexp is `object` in the spec but a string or null on the
        // wire (ENDPOINTS.md 12; fake_contract.rs makes the same adjustment).
        if r == "#/definitions/regexp.Regexp" {
            return Value::Null;
        }
        let name = r.trim_start_matches("#/definitions/");
        return example(&definitions[name], definitions, depth + 1);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        // Merge the parts' objects; a single part is that part.
        let parts: Vec<Value> = all.iter().map(|p| example(p, definitions, depth + 1)).collect();
        if let [one] = parts.as_slice() {
            return one.clone();
        }
        let mut merged = Map::new();
        for p in parts {
            if let Value::Object(m) = p {
                merged.extend(m);
            }
        }
        return Value::Object(merged);
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or(if schema.get("properties").is_some() {
        "object"
    } else {
        ""
    });
    match ty {
        "object" => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, p) in props {
                    out.insert(k.clone(), example(p, definitions, depth + 1));
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                out.insert("key".into(), example(extra, definitions, depth + 1));
            }
            Value::Object(out)
        }
        "array" => {
            let item = schema.get("items").map_or(json!("item"), |i| example(i, definitions, depth + 1));
            json!([item])
        }
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => json!(UUID),
            Some("date-time") => json!(TIME),
            Some("email") => json!("someone@example.com"),
            _ => json!("string"),
        },
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

/// (spec path, example body) for every GET that answers JSON with a schema.
fn bodies() -> BTreeMap<String, Value> {
    let spec = read_json(&fixtures().join("swagger.json"));
    let definitions = &spec["definitions"];
    let mut out = BTreeMap::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        let Some(schema) = ops.get("get").and_then(|g| g["responses"]["200"].get("schema")) else { continue };
        out.insert(path.clone(), example(schema, definitions, 0));
    }
    out
}

fn file_name(spec_path: &str) -> String {
    let stem: String = spec_path.trim_matches('/').replace(['{', '}'], "").replace('/', "-");
    format!("{stem}.json")
}

/// Import `dir` with the CLI: it must succeed; return the snapshot's warnings.
fn import_ok(dir: &Path, out: &Path) -> Vec<(String, String)> {
    let assert = orgsplit().args(["import", "--from-dir"]).arg(dir).arg("--out").arg(out).assert();
    let output = assert.get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "import of {} failed: {stderr}", dir.display());
    assert!(!stderr.contains("panicked"), "{stderr}");
    let s = read_json(out);
    s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["code"].as_str().unwrap().to_string(), w["message"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn a_body_for_every_get_endpoint_imports_with_warnings_only() {
    let bodies = bodies();
    assert!(bodies.len() > 100, "the spec has many GET endpoints: {}", bodies.len());
    assert!(bodies["/experiments"][0].is_string(), "the generator follows the spec: experiments are strings");
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    let saved = dir.path().join("saved");
    fs::create_dir_all(&raw).unwrap();
    fs::create_dir_all(&saved).unwrap();
    for (path, body) in &bodies {
        fs::write(raw.join(file_name(path)), serde_json::to_vec_pretty(body).unwrap()).unwrap();
        let endpoint = format!("/api/v2{}", fill_parameters(path));
        let envelope = json!({"endpoint": endpoint, "body": body});
        fs::write(saved.join(file_name(path)), serde_json::to_vec_pretty(&envelope).unwrap()).unwrap();
    }
    // Saved with its endpoint, `/experiments` is read (whether workspaces say
    // who they are shared with); without it, a list of strings is nothing orgsplit knows.
    for (folder, read) in [(&raw, false), (&saved, true)] {
        let warnings = import_ok(folder, &dir.path().join("s.json"));
        let experiments = warnings.iter().find(|(_, m)| m.contains("`experiments.json`"));
        if read {
            assert!(experiments.is_none(), "{experiments:?}");
        } else {
            assert!(
                experiments.is_some_and(|(c, _)| c == "unknown-file"),
                "an array of strings is a warning naming the file: {warnings:?}"
            );
        }
    }
}

/// Fill a spec path's `{parameters}` with ids.
fn fill_parameters(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { UUID } else { s }).collect::<Vec<_>>().join("/")
}

#[test]
fn odd_json_shapes_are_warnings_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("strings.json", "[\"a\", \"b\"]"),
        ("nested.json", "[[1, 2], [3]]"),
        ("nulls.json", "[null, null]"),
        ("nulls-and-objects.json", "[null, {\"id\": \"o\", \"is_default\": true, \"name\": \"coder\"}]"),
        ("number.json", "42"),
        ("string.json", "\"hello\""),
        ("null.json", "null"),
        ("unknown-object.json", "{\"hello\": {\"world\": [1]}}"),
        ("objects-of-unknown-shape.json", "[{\"a\": 1}, {\"b\": 2}]"),
    ];
    for (name, body) in cases {
        fs::write(dir.path().join(name), body).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let warnings = import_ok(dir.path(), &out.path().join("s.json"));
    for (name, _) in cases {
        assert!(warnings.iter().any(|(_, m)| m.contains(&format!("`{name}`"))), "{name} is named: {warnings:?}");
    }
}

const NOTEBOOK: &str = "7b0b0000-0000-4000-8000-0000000000e1";
const DOCKER: &str = "7d0c0000-0000-4000-8000-0000000000d1";

/// The swagger bodies with the notebook's ACL saved as a raw body under `acl_name`.
fn import_with_raw_acl(acl_name: &str) -> orgsplit::model::Snapshot {
    let src = fixtures().join("swagger-bodies");
    let dir = tempfile::tempdir().unwrap();
    for f in files_in(&src) {
        if f != "acl-notebook.json" {
            fs::copy(src.join(&f), dir.path().join(&f)).unwrap();
        }
    }
    let envelope = read_json(&src.join("acl-notebook.json"));
    let path = dir.path().join(acl_name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, serde_json::to_vec(&envelope["body"]).unwrap()).unwrap();
    orgsplit::import::import_dir(dir.path(), &orgsplit::import::ImportOptions::default()).unwrap()
}

#[test]
fn a_raw_acl_named_after_one_template_id_belongs_to_it() {
    for name in [
        format!("acl-{NOTEBOOK}.json"),
        format!("template-acl-{NOTEBOOK}.json"),
        format!("acls/{}.json", NOTEBOOK.to_uppercase()),
        format!("templates/{NOTEBOOK}/acl"),
    ] {
        let s = import_with_raw_acl(&name);
        let notebook = s.templates.iter().find(|t| t.id == NOTEBOOK).unwrap();
        let acl = notebook.acl.as_ref().unwrap_or_else(|| panic!("{name}: {:?}", s.warnings));
        assert_eq!(acl.users[0].role, "admin", "{name}");
        assert!(!s.warnings.iter().any(|w| w.code == "unattributed-acl"), "{name}: {:?}", s.warnings);
    }
}

#[test]
fn a_raw_acl_whose_name_holds_no_or_several_template_ids_stays_unattributed() {
    for (name, says) in [
        ("acl.json".to_string(), "`acl.json` holds a template ACL but does not say which template it belongs to;"),
        (
            format!("acl-{NOTEBOOK}-{DOCKER}.json"),
            "does not say which template it belongs to (its name holds 2 template ids);",
        ),
    ] {
        let s = import_with_raw_acl(&name);
        assert!(s.templates.iter().all(|t| t.acl.is_none()), "{name}");
        let w = s.warnings.iter().find(|w| w.code == "unattributed-acl").unwrap_or_else(|| panic!("{name}"));
        assert!(w.message.contains(says), "{name}: {}", w.message);
    }
}
