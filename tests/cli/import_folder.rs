//! What an export folder may hold besides plain JSON files: links, pipes,
//! sockets, loops, unreadable files, byte-order marks, UTF-16. Each is read
//! or named in a warning (or an error) with its reason; none is passed over
//! silently, and none hangs the import.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use orgsplit::import::{ImportOptions, import_dir};
use orgsplit::model::Snapshot;

use crate::common::*;

fn organizations() -> Vec<u8> {
    fs::read(fixtures().join("swagger-bodies/organizations.json")).unwrap()
}

fn warning<'a>(s: &'a Snapshot, name: &str) -> &'a str {
    let w = s.warnings.iter().find(|w| w.message.starts_with(&format!("`{name}`")));
    w.unwrap_or_else(|| panic!("a warning naming `{name}`: {:?}", s.warnings)).message.as_str()
}

#[test]
fn fifos_sockets_and_links_are_named_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let outside = dir.path().join("outside");
    fs::create_dir_all(export.join(".hidden")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(export.join(".hidden/orgs.json"), organizations()).unwrap();
    fs::write(export.join("visible.json"), organizations()).unwrap();
    fs::write(outside.join("users.json"), fs::read(fixtures().join("swagger-bodies/users.json")).unwrap()).unwrap();
    let fifo = std::ffi::CString::new(export.join("pipe.json").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0, "mkfifo");
    let _socket = std::os::unix::net::UnixListener::bind(export.join("socket.json")).unwrap();
    symlink("loop-b.json", export.join("loop-a.json")).unwrap();
    symlink("loop-a.json", export.join("loop-b.json")).unwrap();
    symlink(".hidden/orgs.json", export.join("link-inside.json")).unwrap();
    symlink("visible.json", export.join("link-to-visible.json")).unwrap();
    symlink(outside.join("users.json"), export.join("link-outside.json")).unwrap();
    symlink("nowhere.json", export.join("dangling.json")).unwrap();
    symlink(".hidden", export.join("folder-link")).unwrap();

    let s = import_dir(&export, &ImportOptions::default()).unwrap();
    assert_eq!(warning(&s, "pipe.json"), "`pipe.json` is a named pipe (FIFO), not a file; skipped");
    assert_eq!(warning(&s, "socket.json"), "`socket.json` is a socket, not a file; skipped");
    for name in ["loop-a.json", "loop-b.json"] {
        assert!(warning(&s, name).contains("cannot be followed (too many levels of symbolic links)"), "{name}");
    }
    assert!(warning(&s, "link-outside.json").contains("outside the export folder; not followed"));
    assert!(s.users.is_empty(), "the file outside the folder is not read");
    assert_eq!(
        warning(&s, "link-to-visible.json"),
        "`link-to-visible.json` is a symbolic link to `visible.json`, a file that is read under its own name; not \
         read twice"
    );
    assert_eq!(
        warning(&s, "dangling.json"),
        "`dangling.json` is a symbolic link that points to `nowhere.json`, which does not exist; skipped"
    );
    assert!(warning(&s, "folder-link").contains("a folder inside the export folder"));
    assert!(!s.warnings.iter().any(|w| w.message.contains("link-inside.json")), "{:?}", s.warnings);
    let files = &s.warnings;
    assert_eq!(s.organizations.len(), 2, "read through the link and from visible.json: {files:?}");
    assert_eq!(s.warnings.iter().filter(|w| w.code == "conflicting-duplicate").count(), 0);
}

/// chmod 000 stops a reader unless it is root (tests may run as root).
fn unreadable(path: &Path) -> bool {
    fs::set_permissions(path, fs::Permissions::from_mode(0o000)).unwrap();
    let readable = fs::read(path).is_ok();
    if readable {
        eprintln!("running as root: `{}` is still readable after chmod 000", path.display());
    }
    !readable
}

#[test]
fn an_unreadable_json_file_is_an_error_and_another_file_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    fs::create_dir_all(&export).unwrap();
    fs::write(export.join("organizations.json"), organizations()).unwrap();
    fs::write(export.join("notes.txt"), "my notes").unwrap();
    if unreadable(&export.join("notes.txt")) {
        let s = import_dir(&export, &ImportOptions::default()).unwrap();
        assert_eq!(
            warning(&s, "notes.txt"),
            "`notes.txt` cannot be read (permission denied); skipped (if it is an export file, make it readable and \
             import again)"
        );
    } else {
        let s = import_dir(&export, &ImportOptions::default()).unwrap();
        assert!(warning(&s, "notes.txt").contains("is not a JSON file; skipped"), "root reads it: {:?}", s.warnings);
    }
    let out = dir.path().join("s.json");
    let locked = export.join("organizations.json");
    let run = || orgsplit().args(["import", "--from-dir"]).arg(&export).arg("--out").arg(&out).assert();
    if unreadable(&locked) {
        let stderr = String::from_utf8(run().code(1).get_output().stderr.clone()).unwrap();
        assert_eq!(
            stderr.trim_end(),
            format!(
                "error: {}: cannot read this export file: permission denied (make it readable (`chmod u+r`) or run \
                 orgsplit as a user who can read it)",
                locked.display()
            )
        );
        assert!(!out.exists());
    } else {
        run().success();
        assert_eq!(read_json(&out)["organizations"].as_array().unwrap().len(), 2, "root reads it");
    }
}

#[test]
fn a_utf8_byte_order_mark_is_accepted_and_utf16_says_how_to_convert() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    fs::create_dir_all(&export).unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(organizations());
    fs::write(export.join("organizations"), bom).unwrap();
    let utf16 = |text: &str, big: bool| -> Vec<u8> {
        let mut out = if big { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
        for u in text.encode_utf16() {
            out.extend(if big { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    };
    fs::write(export.join("notes.txt"), utf16("just some notes", false)).unwrap();
    let s = import_dir(&export, &ImportOptions::default()).unwrap();
    assert_eq!(s.organizations.len(), 2, "the BOM is passed over, even without a .json name");
    assert!(warning(&s, "notes.txt").starts_with("`notes.txt` is UTF-16 text, not a JSON file; skipped"));

    let out = dir.path().join("s.json");
    for big in [false, true] {
        let users = export.join("users.json");
        fs::write(&users, utf16(&String::from_utf8(organizations()).unwrap(), big)).unwrap();
        let assert = orgsplit().args(["import", "--from-dir"]).arg(&export).arg("--out").arg(&out).assert().code(1);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert_eq!(
            stderr.trim_end(),
            format!(
                "error: {}: this file is UTF-16 text (what PowerShell's `>` writes); JSON must be UTF-8 (convert it to \
                 UTF-8 (`iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8`, or in PowerShell save it with `Out-File \
                 -Encoding utf8`) and import again)",
                users.display()
            )
        );
    }
}

#[test]
fn template_sources_that_do_not_parse_or_cannot_be_read_are_warnings_and_marked_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("sources");
    fs::create_dir_all(src.join("docker")).unwrap();
    fs::create_dir_all(src.join("k8s")).unwrap();
    fs::write(
        src.join("docker/main.tf"),
        "provider \"aws\" {\n  region = \"eu-west-1\"\n}\nresource \"docker_container\" \"w\" {\n  image = \"ubuntu\n}\n",
    )
    .unwrap();
    fs::write(src.join("k8s/main.tf"), "provider \"kubernetes\" {\n  config_context = \"dev\"\n}\n").unwrap();
    let locked = unreadable(&src.join("k8s/main.tf"));
    let out = dir.path().join("s.json");
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(fixtures().join("swagger-bodies"))
        .arg("--template-sources")
        .arg(&src)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let s = Snapshot::from_json(&fs::read(&out).unwrap(), &out).unwrap();
    let source = |p: &str| s.template_sources.iter().find(|t| t.path == p).unwrap();
    let docker = source("docker");
    assert!(docker.signals_incomplete);
    assert!(docker.signals.iter().any(|x| x.kind == "region" && x.value == "eu-west-1"), "kept before the problem");
    assert!(!docker.signals.iter().any(|x| x.kind == "image"), "not kept from the problem on");
    let w = s.warnings.iter().find(|w| w.code == "unparsed-template-source").unwrap();
    assert_eq!(
        w.message,
        "`docker/main.tf`:5: a string that does not end on its line; the template's signals from this line of the \
         file on are not recorded"
    );
    let k8s = source("k8s");
    if locked {
        assert!(k8s.signals_incomplete && k8s.signals.is_empty());
        let w = s.warnings.iter().find(|w| w.code == "unreadable-template-source").unwrap();
        assert_eq!(
            w.message,
            "`k8s/main.tf` cannot be read (permission denied); template `k8s`'s signals are incomplete"
        );
    } else {
        assert!(!k8s.signals_incomplete, "root read it");
    }
    let schema: serde_json::Value =
        serde_json::from_slice(&orgsplit().args(["schema", "snapshot"]).assert().success().get_output().stdout)
            .unwrap();
    let snapshot = read_json(&out);
    assert_eq!(snapshot["template_sources"][0]["signals_incomplete"], true);
    assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&snapshot), "the published schema has the field");
    let mut older = snapshot.clone();
    for t in older["template_sources"].as_array_mut().unwrap() {
        t.as_object_mut().unwrap().remove("signals_incomplete");
    }
    let older = Snapshot::from_json(&serde_json::to_vec(&older).unwrap(), &out).unwrap();
    assert!(older.template_sources.iter().all(|t| !t.signals_incomplete), "snapshots from before still read");
}
