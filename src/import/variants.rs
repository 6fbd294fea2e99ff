//! Variants: a template whose source matches another's except for variable
//! and parameter defaults, tags and names (a team's copy of a central
//! template with its own defaults). A variant inherits the other template's
//! infrastructure: scoring counts it as nobody's own template and as no sign
//! of a platform team of its own (`rules::derive`). Found here, where the
//! sources' text is, and recorded on the variant's `TemplateSource` with the
//! differing lines.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::VariantOf;

/// Keys whose values a variant may change: defaults, names, labels and tags.
const MASKED: &[&str] = &["default", "description", "display_name", "name", "icon", "order", "mutable", "tags"];

/// The source's lines without what a variant may change (masked keys, with
/// their blocks), comments and blank lines: equal for a template and its variants.
fn normalize(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut files: Vec<&(String, String)> = files.iter().filter(|(p, _)| p.ends_with(".tf")).collect();
    files.sort();
    for (_, text) in files {
        let mut skip_depth = 0usize;
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
                continue;
            }
            let opens = line.matches(['{', '[']).count();
            let closes = line.matches(['}', ']']).count();
            if skip_depth > 0 {
                skip_depth = (skip_depth + opens).saturating_sub(closes);
                continue;
            }
            let key = line.split('=').next().unwrap_or("").trim();
            if MASKED.contains(&key) && line.contains('=') {
                // Dropped, not masked: a variant may add a tag or a default the original lacks.
                skip_depth = opens.saturating_sub(closes);
            } else {
                out.push(line.to_string());
            }
        }
    }
    out
}

/// For each folder (given in order of preference for the original: oldest
/// template first), the folder it is a variant of and the lines that differ
/// (`file:line: text`, at most 5). Folders with no Terraform are nobody's variant.
pub fn find(folders: &[(String, Vec<(String, String)>)]) -> Vec<Option<VariantOf>> {
    let mut first: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let mut out = vec![None; folders.len()];
    for (i, (_, files)) in folders.iter().enumerate() {
        let norm = normalize(files);
        if norm.is_empty() {
            continue;
        }
        match first.get(&norm) {
            Some(&o) => out[i] = Some(VariantOf { path: folders[o].0.clone(), lines: differing(&folders[o].1, files) }),
            None => {
                first.insert(norm, i);
            }
        }
    }
    out
}

fn differing(original: &[(String, String)], variant: &[(String, String)]) -> Vec<String> {
    let theirs: BTreeSet<&str> = original.iter().flat_map(|(_, t)| t.lines().map(str::trim)).collect();
    let mut out = Vec::new();
    for (file, text) in variant {
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            let comment = t.starts_with('#') || t.starts_with("//");
            if !t.is_empty() && !comment && !theirs.contains(t) && out.len() < 5 {
                let t: String = t.chars().take(80).collect();
                out.push(format!("{file}:{}: {t}", n + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, text: &str) -> (String, Vec<(String, String)>) {
        (name.into(), vec![("main.tf".into(), text.into())])
    }

    #[test]
    fn other_defaults_tags_and_names_make_a_variant_other_infrastructure_does_not() {
        let central =
            "variable \"cpu\" {\n  default = \"2\"\n}\nresource \"kubernetes_pod\" \"x\" {\n  image = \"a:1\"\n}\n";
        let copy = "# the web team's copy\nvariable \"cpu\" {\n  default = \"4\"\n  tags = {\n    team = \"web\"\n  }\n}\nresource \"kubernetes_pod\" \"x\" {\n  image = \"a:1\"\n}\n";
        let other = central.replace("a:1", "b:2");
        let found = find(&[folder("central", central), folder("web", copy), folder("other", &other)]);
        assert!(found[0].is_none() && found[2].is_none(), "{found:?}");
        let v = found[1].as_ref().expect("the copy is a variant");
        assert_eq!(v.path, "central");
        assert_eq!(v.lines[0], "main.tf:3: default = \"4\"");
    }
}
