//! Bad input: a one-line error naming the file (and line and column), exit
//! code 1, no partial output, and never a panic.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use orgsplit::import::{ImportOptions, import_dir, terraform};
use orgsplit::model::Snapshot;

use crate::common::*;

/// Run `import` and return its stderr, asserting exit 1 and no output file.
fn import_fails(args: &[&str], dir: &Path) -> String {
    let out = dir.join("out.json");
    let assert = orgsplit().arg("import").args(args).arg("--out").arg(&out).assert().code(1);
    assert!(!out.exists(), "a failed import must not leave an output file");
    let leftovers: Vec<_> = fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(leftovers.iter().all(|n| !n.to_string_lossy().starts_with(".orgsplit-")), "temp files left: {leftovers:?}");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    stderr
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files_in(from) {
        let dest = to.join(&f);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(from.join(&f), dest).unwrap();
    }
}

#[test]
fn broken_json_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    copy_dir(&fixtures().join("swagger-bodies"), &export);
    let users = export.join("users.json");
    let text = fs::read_to_string(&users).unwrap();
    fs::write(&users, &text[..text.len() / 2]).unwrap();
    let err = import_fails(&["--from-dir", export.to_str().unwrap()], dir.path());
    assert!(err.starts_with(&format!("error: {}:", users.display())), "{err}");
    assert!(err.contains("the file ends early"), "{err}");
    let pos: Vec<&str> = err.split(':').skip(2).take(2).collect();
    assert!(pos.iter().all(|p| p.trim().parse::<usize>().is_ok()), "line and column in {err}");
}

#[test]
fn a_field_of_the_wrong_type_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    fs::create_dir_all(&export).unwrap();
    fs::write(export.join("orgs.json"), "[\n  {\"id\": \"o\", \"name\": 7, \"is_default\": true}\n]\n").unwrap();
    let err = import_fails(&["--from-dir", export.to_str().unwrap()], dir.path());
    assert!(err.contains("orgs.json:2:"), "{err}");
    assert!(err.contains("expected a string"), "{err}");
}

#[test]
fn existing_output_is_left_alone_when_import_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.json");
    fs::write(&out, "previous snapshot").unwrap();
    let export = dir.path().join("export");
    fs::create_dir_all(&export).unwrap();
    fs::write(export.join("a.json"), "{").unwrap();
    orgsplit().args(["import", "--from-dir"]).arg(&export).arg("--out").arg(&out).assert().code(1);
    assert_eq!(fs::read_to_string(&out).unwrap(), "previous snapshot");
}

#[test]
fn csv_row_with_wrong_number_of_fields() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    fs::write(&csv, "username,department,region\nalice,platform,eu\nbob,sales\n").unwrap();
    let bodies = fixtures().join("swagger-bodies");
    let err = import_fails(&["--from-dir", bodies.to_str().unwrap(), "--people", csv.to_str().unwrap()], dir.path());
    assert!(err.contains(&format!("{}:3:1: this row has 2 fields but the header has 3", csv.display())), "{err}");
}

#[test]
fn people_file_without_key_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    fs::write(&csv, "login,department\nalice,platform\n").unwrap();
    let bodies = fixtures().join("swagger-bodies");
    let err = import_fails(&["--from-dir", bodies.to_str().unwrap(), "--people", csv.to_str().unwrap()], dir.path());
    assert!(
        err.contains("no key column: the header needs a `username` or `email` column (found: login, department)"),
        "{err}"
    );
}

#[test]
fn unreadable_template_source_folder() {
    let dir = tempfile::tempdir().unwrap();
    let bodies = fixtures().join("swagger-bodies");
    let missing = dir.path().join("no-such-folder");
    let err = import_fails(
        &["--from-dir", bodies.to_str().unwrap(), "--template-sources", missing.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains(&format!("cannot read `{}`", missing.display())), "{err}");

    // A folder the user cannot read. Root reads everything, so this half only runs as another user.
    let sources = dir.path().join("sources");
    fs::create_dir_all(sources.join("docker")).unwrap();
    fs::write(sources.join("docker/main.tf"), "").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(sources.join("docker"), fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read_dir(sources.join("docker")).is_ok() {
        eprintln!("skipping the permission half: running as root, which can read a mode-000 folder");
    } else {
        let err = import_fails(
            &["--from-dir", bodies.to_str().unwrap(), "--template-sources", sources.to_str().unwrap()],
            dir.path(),
        );
        assert!(err.contains("docker") && err.contains("cannot read"), "{err}");
    }
    fs::set_permissions(sources.join("docker"), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn unknown_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.json");
    fs::write(&s, r#"{"format_version": 3, "users": []}"#).unwrap();
    let assert = orgsplit().arg("inventory").arg(&s).assert().code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: {}: unknown snapshot format_version 3: this orgsplit reads versions 1 to 2 (re-create the snapshot with \
             `orgsplit import`, or use the orgsplit release that wrote it)",
            s.display()
        )
    );
}

#[test]
fn usage_errors_exit_64() {
    orgsplit().args(["import", "--no-such-flag"]).assert().code(64);
    orgsplit().args(["inventory", "-o", "yaml"]).assert().code(64);
    orgsplit().arg("--help").assert().code(0);
}

/// Cut points and corruptions applied to every kind of input.
fn damaged(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for cut in [0, 1, 2, 7, bytes.len() / 3, bytes.len() / 2, bytes.len().saturating_sub(2)] {
        out.push(bytes[..cut.min(bytes.len())].to_vec());
    }
    let mut flipped = bytes.to_vec();
    for i in (0..flipped.len()).step_by(97) {
        flipped[i] ^= 0x5a;
    }
    out.push(flipped);
    out.push((0..512u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect());
    out.push(b"\xff\xfe\x00{\"users\": [".to_vec());
    out.push("{\"users\": [{\"id\": \"\u{1F600}\", \"roles\": {}}], \"count\": -1}".as_bytes().to_vec());
    out
}

#[test]
fn truncated_and_garbage_inputs_of_every_kind_never_panic() {
    let export = megaco().join("export");
    let mut kinds = files_in(&export);
    kinds.retain(|f| !f.contains("page-002") && !f.contains("page-003"));
    let dir = tempfile::tempdir().unwrap();
    for name in &kinds {
        let original = fs::read(export.join(name)).unwrap();
        for (i, bad) in damaged(&original).into_iter().enumerate() {
            let case = dir.path().join(format!("case-{i}"));
            let _ = fs::remove_dir_all(&case);
            fs::create_dir_all(&case).unwrap();
            fs::write(case.join("file.json"), &bad).unwrap();
            let r = catch_unwind(AssertUnwindSafe(|| import_dir(&case, &ImportOptions::default())));
            match r {
                Err(_) => panic!("import panicked on {name} damaged #{i}"),
                Ok(Err(e)) => assert!(e.to_string().contains("file.json"), "error names the file: {e}"),
                Ok(Ok(_)) => {}
            }
        }
    }
    // People CSV, a Terraform file and a snapshot.
    let bodies = fixtures().join("swagger-bodies");
    let csv = fs::read(megaco().join("people.csv")).unwrap();
    for (i, bad) in damaged(&csv).into_iter().enumerate() {
        let p = dir.path().join(format!("people-{i}.csv"));
        fs::write(&p, &bad).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            import_dir(&bodies, &ImportOptions { people: Some(p.clone()), ..Default::default() })
        }));
        assert!(r.is_ok(), "people import panicked on damaged #{i}");
    }
    let tf = fs::read(megaco().join("template-sources/k8s-dev/main.tf")).unwrap();
    for bad in damaged(&tf) {
        let text = String::from_utf8_lossy(&bad);
        assert!(catch_unwind(|| terraform::scan("main.tf", &text)).is_ok());
    }
    let snapshot = fixtures::generate(20, 3).snapshot.to_json().unwrap();
    for (i, bad) in damaged(&snapshot).into_iter().enumerate() {
        let r = catch_unwind(|| Snapshot::from_json(&bad, Path::new("s.json")));
        assert!(matches!(r, Ok(Err(_))), "damaged snapshot #{i} must be an error, not a panic or a success");
    }
}
