//! Resource labels and file names from deployment names: HCL identifiers
//! (`[A-Za-z_][A-Za-z0-9_-]*`), unique per block type, the same for the same
//! input (first come, first served in plan order; later clashes get `_2`, `_3`).

use std::collections::{BTreeMap, BTreeSet};

/// `name` as an identifier: every other character becomes `_`, and a name
/// that does not start with a letter or `_` gets a leading `_`.
pub fn sanitize(name: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// Labels handed out so far, per block type.
#[derive(Debug, Default)]
pub struct Labels {
    taken: BTreeMap<String, BTreeSet<String>>,
}

impl Labels {
    /// A fresh label for a block of type `kind` named after `parts`.
    pub fn take(&mut self, kind: &str, parts: &[&str]) -> String {
        let base = sanitize(&parts.join("_"));
        let taken = self.taken.entry(kind.to_string()).or_default();
        let mut label = base.clone();
        let mut n = 1;
        while taken.contains(&label) {
            n += 1;
            label = format!("{base}_{n}");
        }
        taken.insert(label.clone());
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_identifiers_and_unique_per_type() {
        for (have, want) in [("ml", "ml"), ("9lives", "_9lives"), ("a.b c/ü", "a_b_c__"), ("", "_"), ("x-y", "x-y")] {
            assert_eq!(sanitize(have), want, "{have}");
        }
        let mut l = Labels::default();
        assert_eq!(l.take("coderd_group", &["ml", "a.b"]), "ml_a_b");
        assert_eq!(l.take("coderd_group", &["ml", "a b"]), "ml_a_b_2");
        assert_eq!(l.take("coderd_group", &["ml_a_b_2"]), "ml_a_b_2_2");
        assert_eq!(l.take("coderd_template", &["ml", "a.b"]), "ml_a_b");
    }
}
