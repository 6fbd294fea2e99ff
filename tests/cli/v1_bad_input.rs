//! Bad Coder v1 input gets what bad v2 input gets: a one-line error naming
//! the file (and line and column, or item and field), exit code 1, no
//! partial output, never a panic; and v1 documents given to v2 commands
//! (or the reverse) say which command takes them.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use orgsplit::v1::V1Snapshot;
use orgsplit::v1::import::import_files;
use orgsplit::v1::model::V1Source;

use crate::common::*;

/// A copy of MegaCo v1's export folder to damage.
fn export_copy(dir: &Path) -> std::path::PathBuf {
    let from = crate::v1::megaco_v1().join("export");
    let to = dir.join("export");
    fs::create_dir_all(&to).unwrap();
    for f in files_in(&from) {
        fs::copy(from.join(&f), to.join(&f)).unwrap();
    }
    to
}

/// `args`, asserting exit `code`, no output file and one line on stderr.
fn fails(args: &[&str], code: i32, dir: &Path) -> String {
    let out = dir.join("out.json");
    let assert = orgsplit().args(args).arg("--out").arg(&out).assert().code(code);
    assert!(!out.exists(), "a failed command must not leave an output file");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn broken_v1_json_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let export = export_copy(dir.path());
    let orgs = export.join("orgs.json");
    let text = fs::read_to_string(&orgs).unwrap();
    fs::write(&orgs, &text[..text.len() / 2]).unwrap();
    let err = fails(&["import", "--from-dir", export.to_str().unwrap()], 1, dir.path());
    assert!(err.starts_with(&format!("error: {}:", orgs.display())), "{err}");
    assert!(err.contains("the file ends early"), "{err}");
    let pos: Vec<&str> = err.split(':').skip(2).take(2).collect();
    assert!(pos.iter().all(|p| p.trim().parse::<usize>().is_ok()), "line and column in {err}");
}

#[test]
fn a_utf16_v1_file_is_told_as_a_v2_one_is() {
    let dir = tempfile::tempdir().unwrap();
    let export = export_copy(dir.path());
    let users = export.join("users.json");
    let text = fs::read_to_string(&users).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    fs::write(&users, utf16).unwrap();
    let err = fails(&["import", "--from-dir", export.to_str().unwrap()], 1, dir.path());
    assert!(err.contains("users.json: this file is UTF-16 text"), "{err}");
    assert!(err.contains("iconv -f UTF-16 -t UTF-8"), "{err}");
}

#[test]
fn existing_output_is_left_alone_when_a_v1_import_fails() {
    let dir = tempfile::tempdir().unwrap();
    let export = export_copy(dir.path());
    fs::write(export.join("environments.json"), r#"[{"id":"w","user_id":"u","image_id":"i","gpus":"many"}]"#).unwrap();
    let out = dir.path().join("keep.json");
    fs::write(&out, "previous snapshot").unwrap();
    let assert = orgsplit().args(["import", "--from-dir"]).arg(&export).arg("--out").arg(&out).assert().code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("environments.json: item 1 is a v1 workspace but"), "{stderr}");
    assert_eq!(fs::read_to_string(&out).unwrap(), "previous snapshot");
}

#[test]
fn bad_v1_split_files_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, _) = crate::v1::import_v1(&crate::v1::megaco_v1().join("export"), dir.path());
    let v1 = v1.to_str().unwrap();
    let split = dir.path().join("split.toml");
    fs::write(&split, "[[organizations]]\nname = \"eng\"\nv1_organizations = [\"nope\"]\n").unwrap();
    let err = fails(&["v1-plan", v1, "--split", split.to_str().unwrap()], 1, dir.path());
    assert!(err.contains("organizations[0].v1_organizations: no v1 organization is named \"nope\""), "{err}");
    assert!(err.contains("the v1 snapshot has: "), "{err}");
    fs::write(&split, "[[organizations]]\nname = \"eng\"\nv1_organizations = [\"raptix\"\n").unwrap();
    let err = fails(&["v1-plan", v1, "--split", split.to_str().unwrap()], 1, dir.path());
    assert!(err.contains(&format!("{}:", split.display())), "{err}");
    fs::write(&split, "[[organizations]]\nname = \"Not Valid\"\n").unwrap();
    let err = fails(&["v1-plan", v1, "--split", split.to_str().unwrap()], 1, dir.path());
    assert!(err.contains("organizations[0].name"), "{err}");
}

#[test]
fn v1_and_v2_documents_name_the_command_that_takes_them() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, _) = crate::v1::import_v1(&crate::v1::megaco_v1().join("export"), dir.path());
    let run = |args: &[&str]| {
        let out = orgsplit().args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let v1s = v1.to_str().unwrap();
    let (code, err) = run(&["inventory", v1s]);
    assert_eq!(code, Some(1));
    assert!(err.contains("this is a Coder v1 snapshot") && err.contains("orgsplit v1-plan V1-SNAPSHOT"), "{err}");
    let v1_plan = dir.path().join("v1-plan.json");
    orgsplit().args(["v1-plan", v1s, "--out"]).arg(&v1_plan).assert().success();
    for cmd in ["diff", "apply"] {
        let (code, err) = run(&[cmd, v1_plan.to_str().unwrap(), "--yes"][..if cmd == "diff" { 2 } else { 3 }]);
        assert_eq!(code, Some(1), "{cmd}: {err}");
        assert!(err.contains("this is a v1 plan") && err.contains("--v2-plan"), "{cmd}: {err}");
    }
    let (code, err) = run(&["v1-plan", v1s, "--v2-plan", "x.json"]);
    assert_eq!(code, Some(64), "--v2-plan needs --target: {err}");
    assert!(err.contains("--target"), "{err}");
    let v2 = import_megaco(dir.path());
    let (code, err) = run(&["access", v2.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not a v1 snapshot"), "{err}");
}

#[test]
fn damaged_v1_inputs_of_every_kind_never_panic() {
    let export = crate::v1::megaco_v1().join("export");
    for name in files_in(&export) {
        let original = fs::read(export.join(&name)).unwrap();
        let mut damaged: Vec<Vec<u8>> =
            [0, 1, 7, original.len() / 3, original.len() / 2].iter().map(|&c| original[..c].to_vec()).collect();
        let mut flipped = original.clone();
        for i in (0..flipped.len()).step_by(61) {
            flipped[i] ^= 0x5a;
        }
        damaged.push(flipped);
        damaged.push(b"\xff\xfe\x00[{\"image_id\": [".to_vec());
        damaged.push(br#"[{"id": 7, "image_id": {}, "user_id": null}]"#.to_vec());
        for (i, bad) in damaged.into_iter().enumerate() {
            let r = catch_unwind(AssertUnwindSafe(|| {
                import_files([("file.json".to_string(), bad.as_slice())], V1Source::default())
            }));
            match r {
                Err(_) => panic!("the v1 import panicked on {name} damaged #{i}"),
                Ok(Err(e)) => assert!(e.to_string().contains("file.json"), "the error names the file: {e}"),
                Ok(Ok(_)) => {}
            }
        }
    }
    let snapshot = fs::read(crate::v1::import_v1(&export, tempfile::tempdir().unwrap().path()).0).unwrap();
    for cut in [0, 1, snapshot.len() / 2, snapshot.len() - 2] {
        let r = catch_unwind(|| V1Snapshot::from_json(&snapshot[..cut], Path::new("v1.json")));
        assert!(matches!(r, Ok(Err(_))), "a cut v1 snapshot is an error, not a panic or a success");
    }
}
