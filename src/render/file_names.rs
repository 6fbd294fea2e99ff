//! File names made from names a deployment holds (usernames, organization,
//! template and workspace names), for the scripts and notices folders.
//!
//! A file name is safe anywhere: only `A-Z a-z 0-9 . _ -`, never starting
//! with `-` (a command would take it for an option) or `.` (hidden, or `..`),
//! at most [`MAX_STEM`] characters before a suffix. A name that is already
//! like that keeps its form; any other is sanitised, truncated and given
//! `-<hash>` of the original name, so that two names that sanitise alike
//! (`dup$x`, `dup_x`) get different files. Names are unique in a folder
//! even where the file system ignores case (macOS). All of it depends only
//! on the names and their order, never on the machine.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

/// The longest part of a name kept in a file name (the hash suffix aside).
pub const MAX_STEM: usize = 64;

/// The safe form of one name, without regard to other names.
pub fn stem(name: &str) -> String {
    match sanitise(name) {
        (safe, true) => safe,
        (safe, false) => hashed(&safe, name),
    }
}

/// A safe stem for each name, in the same order, no two the same (ignoring
/// case). Names that are safe as they are keep their form when no earlier
/// name took it; the others get the hash, and a counter if even that is taken.
pub fn unique_stems<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    let mut out = vec![String::new(); names.len()];
    let mut used = BTreeSet::new();
    let mut later = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match sanitise(name.as_ref()) {
            (safe, true) if used.insert(safe.to_ascii_lowercase()) => out[i] = safe,
            (safe, _) => later.push((i, safe)),
        }
    }
    for (i, safe) in later {
        let base = hashed(&safe, names[i].as_ref());
        let mut candidate = base.clone();
        let mut n = 2;
        while !used.insert(candidate.to_ascii_lowercase()) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        out[i] = candidate;
    }
    out
}

/// The sanitised, truncated form, and whether it is the name unchanged.
fn sanitise(name: &str) -> (String, bool) {
    let mut safe = String::with_capacity(name.len().min(MAX_STEM));
    for (i, c) in name.chars().enumerate() {
        if i == MAX_STEM {
            break;
        }
        let keep = c.is_ascii_alphanumeric() || c == '_' || (i > 0 && (c == '-' || c == '.'));
        safe.push(if keep { c } else { '_' });
    }
    if safe.is_empty() {
        safe.push('_');
    }
    let unchanged = safe == name;
    (safe, unchanged)
}

fn hashed(safe: &str, name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{safe}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_safe(s: &str) -> bool {
        !s.is_empty()
            && !s.starts_with(['-', '.'])
            && s.len() <= MAX_STEM + 9
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    }

    #[test]
    fn safe_names_keep_their_form_and_others_get_a_hash() {
        for (have, want) in [
            ("alice", "alice"),
            ("bob-2.old", "bob-2.old"),
            ("dup_x", "dup_x"),
            ("dup$x", "dup_x-"),
            ("-rf", "_rf-"),
            (".ssh", "_ssh-"),
            ("..", "_.-"),
            ("", "_-"),
            ("a/b\nc", "a_b_c-"),
            ("données", "donn_es-"),
        ] {
            let got = stem(have);
            assert!(got.starts_with(want) && (want.ends_with('-') || got == want), "{have:?} -> {got}");
            assert!(is_safe(&got), "{have:?} -> {got}");
            assert_eq!(got.len(), if want.ends_with('-') { want.len() + 8 } else { want.len() }, "{have:?} -> {got}");
        }
    }

    #[test]
    fn long_names_are_bounded_and_stay_apart() {
        let a = "a".repeat(300);
        let b = format!("{}b", "a".repeat(299));
        let (sa, sb) = (stem(&a), stem(&b));
        assert!(is_safe(&sa) && is_safe(&sb), "{sa} {sb}");
        assert_ne!(sa, sb);
        assert!(sa.starts_with(&"a".repeat(MAX_STEM)));
        assert_eq!(stem(&"x".repeat(MAX_STEM)), "x".repeat(MAX_STEM), "a name at the bound is kept");
    }

    #[test]
    fn unique_stems_keep_safe_names_and_separate_the_rest_deterministically() {
        let names = ["dup$x", "dup_x", "Alice", "alice", "-", "_-6b86b273"];
        let got = unique_stems(&names);
        assert_eq!(got[1], "dup_x", "the safe name keeps its form even after a name that sanitises to it");
        assert!(got[0].starts_with("dup_x-"));
        assert_eq!(got[2], "Alice");
        assert!(got[3].starts_with("alice-"), "case-insensitive file systems see Alice and alice as one: {got:?}");
        let lower: BTreeSet<String> = got.iter().map(|s| s.to_ascii_lowercase()).collect();
        assert_eq!(lower.len(), names.len(), "{got:?}");
        assert!(got.iter().all(|s| is_safe(s)), "{got:?}");
        assert_eq!(unique_stems(&names), got, "same names, same files");
    }

    #[test]
    fn a_taken_hashed_name_gets_a_counter() {
        let crafted = stem("-");
        let got = unique_stems(&[crafted.as_str(), "-"]);
        assert_eq!(got[0], crafted);
        assert_eq!(got[1], format!("{crafted}-2"));
    }
}
