//! Names: Coder's name rules, new workspace names that are valid and unique,
//! and the deprecation message (a template filled with names, as plain text:
//! Coder shows it as it is, so each medium that shows it escapes it there).

use std::collections::BTreeSet;

/// Longest name Coder accepts for organizations, workspaces and templates.
pub const MAX_NAME: usize = 32;

/// Coder's rule for org and workspace names: lowercase letters and digits in
/// groups joined by single hyphens, at most 32 characters.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Why a name is not valid, for messages.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("a name is required".into())
    } else if name.len() > MAX_NAME {
        Some(format!("`{name}` is longer than {MAX_NAME} characters"))
    } else if !is_valid_name(name) {
        Some(format!("`{name}` is not a valid Coder name: use lowercase letters, digits and single hyphens"))
    } else {
        None
    }
}

/// The nearest valid name: lowercase, every run of other characters a
/// single hyphen, no hyphen at either end, at most `max` characters.
pub fn normalize(name: &str, max: usize) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(max);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// `base` made a valid name (`template` when nothing of it is left), then
/// `-2`, `-3`, ... until it is free among `taken`, which it joins.
pub fn unique_name(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut base = normalize(base, MAX_NAME);
    if base.is_empty() || crate::model::names::name_problem(&base).is_some() {
        base = normalize(&format!("{base}-template"), MAX_NAME);
    }
    let (name, _) = first_free(&base, taken);
    taken.insert(name.clone());
    name
}

/// A new workspace name for `old` moving to `org`: `<old>-<org>` made valid,
/// then `-2`, `-3`, ... until it is free among `taken` (which it joins).
/// Returns the name and, when it is not simply `<old>-<org>`, why.
pub fn new_workspace_name(old: &str, org: &str, taken: &mut BTreeSet<String>) -> (String, Option<String>) {
    let plain = format!("{old}-{org}");
    let mut notes = Vec::new();
    let mut base = normalize(&plain, MAX_NAME);
    if base.is_empty() {
        base = normalize(org, MAX_NAME);
    }
    if !is_valid_name(old) {
        notes.push(format!("`{old}` breaks Coder's name rules, so it was made valid"));
    } else if base != plain {
        notes.push(format!("`{plain}` is longer than {MAX_NAME} characters, so it was shortened"));
    }
    let (name, n) = first_free(&base, taken);
    if n > 1 {
        notes.push(format!("`{base}` is taken by another of the owner's workspaces, so `-{n}` was added"));
    }
    taken.insert(name.clone());
    (name, (!notes.is_empty()).then(|| notes.join("; ")))
}

/// `base`, else `base-2`, `base-3`, ... (the stem shortened to stay within
/// [`MAX_NAME`]): the first not in `taken`, and the number used (1 for `base`).
fn first_free(base: &str, taken: &BTreeSet<String>) -> (String, usize) {
    let mut name = base.to_string();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        let suffix = format!("-{n}");
        let mut stem = base.to_string();
        stem.truncate(MAX_NAME - suffix.len());
        while stem.ends_with('-') {
            stem.pop();
        }
        name = format!("{stem}{suffix}");
    }
    (name, n)
}

/// The placeholders a deprecation message may use.
pub const PLACEHOLDERS: [&str; 6] = ["org", "org_display_name", "template", "new_template", "wiki", "deadline"];

/// `{name}` placeholders in a message template that are not known.
pub fn unknown_placeholders(template: &str) -> Vec<String> {
    placeholders(template).into_iter().filter(|p| !PLACEHOLDERS.contains(&p.as_str())).collect()
}

pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if !after[..end].contains('{') => {
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// Values for the placeholders. The message is plain text, set on the
/// template through the API and shown by Coder as it is: names go in
/// literally (a Markdown escape would show its backslashes), only their
/// control characters made spaces; the report and notices escape the
/// whole message for Markdown when they show it.
pub struct MessageValues<'a> {
    pub orgs: &'a [String],
    pub org_display_names: &'a [String],
    pub template: &'a str,
    pub new_template: &'a str,
    pub wiki: &'a str,
    pub deadline: &'a str,
}

pub fn fill_message(template: &str, v: &MessageValues<'_>) -> String {
    let name = crate::render::plain;
    let or = |items: &[String]| items.iter().map(|s| name(s)).collect::<Vec<_>>().join(" or ");
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}').filter(|&e| !after[..e].contains('{'));
        let value = end.and_then(|e| match &after[..e] {
            "org" => Some(or(v.orgs)),
            "org_display_name" => Some(or(v.org_display_names)),
            "template" => Some(name(v.template)),
            "new_template" => Some(name(v.new_template)),
            "wiki" => Some(v.wiki.to_string()),
            "deadline" => Some(v.deadline.to_string()),
            _ => None,
        });
        match (end, value) {
            (Some(e), Some(value)) => {
                out.push_str(&value);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coder_name_rules() {
        for (have, want) in [
            ("raptix", true),
            ("team-0001", true),
            ("a", true),
            ("", false),
            ("Raptix", false),
            ("two--hyphens", false),
            ("-lead", false),
            ("trail-", false),
            ("under_score", false),
            (&"x".repeat(33), false),
            (&"x".repeat(32), true),
        ] {
            assert_eq!(is_valid_name(have), want, "{have}");
        }
        assert!(name_problem("Bad Name").unwrap().contains("lowercase letters"));
    }

    #[test]
    fn derived_names_are_valid_and_free() {
        let mut taken: BTreeSet<String> = ["yes-coder".to_string()].into();
        for (base, want) in [
            ("--yes-coder", "yes-coder-2"),
            ("--yes-coder", "yes-coder-3"),
            ("two\nlines-other", "two-lines-other"),
            ("", "template"),
            ("new", "new-template"),
            ("a-very-long-template-name-for-a-team-other", "a-very-long-template-name-for-a"),
            ("a-very-long-template-name-for-a-team-other", "a-very-long-template-name-for-2"),
        ] {
            let got = unique_name(base, &mut taken);
            assert_eq!(got, want, "{base:?}");
            assert!(crate::model::names::name_problem(&got).is_none(), "{got}");
        }
    }

    #[test]
    fn new_names_are_valid_unique_and_explained() {
        let mut taken: BTreeSet<String> = ["dev-raptix".to_string()].into();
        let (name, note) = new_workspace_name("dev", "raptix", &mut taken);
        assert_eq!(name, "dev-raptix-2");
        assert!(note.unwrap().contains("taken"));
        let (name, _) = new_workspace_name("dev", "raptix", &mut taken);
        assert_eq!(name, "dev-raptix-3", "names picked earlier count as taken");
        let (name, note) = new_workspace_name("My_Box!!", "ml", &mut taken);
        assert_eq!((name.as_str(), note.is_some()), ("my-box-ml", true));
        let long = "a-long-workspace-name-indeed";
        assert!(is_valid_name(long));
        let (name, note) = new_workspace_name(long, "contractors-apac", &mut taken);
        assert!(is_valid_name(&name) && name.len() <= 32, "{name}");
        assert!(note.unwrap().contains("shortened"));
        let (name, note) = new_workspace_name("plain", "ml", &mut taken);
        assert_eq!((name.as_str(), note), ("plain-ml", None));
        let (name, _) = new_workspace_name("---", "ml", &mut taken);
        assert_eq!(name, "ml");
    }

    #[test]
    fn message_is_plain_text_with_names_as_they_are() {
        let orgs = ["raptix".to_string()];
        let display = ["Raptix [click](http://evil) |>`*\u{1b}]0;t\u{7}".to_string()];
        let v = MessageValues {
            orgs: &orgs,
            org_display_names: &display,
            template: "raptix-eks",
            new_template: "raptix-eks",
            wiki: "https://wiki.example.com/x",
            deadline: "2025-03-31",
        };
        let text = fill_message("Moved to {org_display_name} as {new_template} ({wiki}, by {deadline}) {odd} {", &v);
        assert_eq!(
            text,
            "Moved to Raptix [click](http://evil) |>`* ]0;t  as raptix-eks (https://wiki.example.com/x, by 2025-03-31) {odd} {"
        );
        assert_eq!(unknown_placeholders("{org} {orgg} {wiki}"), ["orgg"]);
    }
}
