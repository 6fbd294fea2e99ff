//! The fixtures: MegaCo as committed, and the generator.

use std::collections::BTreeSet;
use std::fs;

use crate::common::*;

#[test]
fn committed_megaco_folder_is_byte_identical_to_the_generator_output() {
    let want = fixtures::export_files(&fixtures::megaco());
    let on_disk = files_in(&megaco());
    let generated: BTreeSet<&str> = want.iter().map(|(p, _)| p.as_str()).collect();
    let committed: BTreeSet<&str> = on_disk
        .iter()
        .map(String::as_str)
        .filter(|p| !["candidates.toml", "split.toml", "snapshot.json"].contains(p) && !p.ends_with(".md"))
        .collect();
    assert_eq!(generated, committed, "regenerate with: cargo xtask fixture megaco --out-dir fixtures/megaco");
    for (path, bytes) in want {
        assert!(
            fs::read(megaco().join(&path)).unwrap() == bytes,
            "{path} differs from the generator's output; regenerate"
        );
    }
}

/// The binary embeds MegaCo as a snapshot: it must be exactly what importing
/// the committed folder gives, so the built-in example and `orgsplit import`
/// of the folder never disagree.
#[test]
fn embedded_megaco_snapshot_is_the_import_of_the_committed_folder() {
    let files: Vec<(String, Vec<u8>)> =
        files_in(&megaco()).into_iter().map(|p| (p.clone(), fs::read(megaco().join(&p)).unwrap())).collect();
    let imported = orgsplit::fixture::import_example(&files).unwrap();
    let embedded = orgsplit::fixture::builtin().unwrap();
    let fix = "regenerate with: cargo xtask fixture megaco --out-dir fixtures/megaco";
    assert!(imported == embedded, "fixtures/megaco/snapshot.json is not the import of the folder; {fix}");
    assert!(
        fs::read(megaco().join("snapshot.json")).unwrap() == imported.to_json().unwrap(),
        "fixtures/megaco/snapshot.json is not in canonical form; {fix}"
    );
    assert_eq!(embedded.users.len(), 997);
    assert!(embedded.template_sources.len() >= 10, "template sources are in it");
    assert!(embedded.people.as_ref().is_some_and(|p| p.records.len() > 900), "the people CSV is in it");
}

#[test]
fn generator_is_deterministic_and_sized_as_documented() {
    let a = fixtures::generate(1000, 42);
    let b = fixtures::generate(1000, 42);
    let c = fixtures::generate(1000, 43);
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
