//! Coder's own name rules (`codersdk/name.go`), in one place: what the server
//! refuses, so the import can flag such names and the plan never sends one.
//!
//! - usernames, workspace, template, organization and role names
//!   (`NameValid`): 1 to 32 characters, letters and digits in groups
//!   joined by single hyphens, and not `new` or `create` (routes such as
//!   `/templates/new` would clash);
//! - group names (`GroupNameValid`): the same with up to 36 characters (a
//!   UUID fits);
//! - display names (`DisplayNameValid`): empty, or up to 64 characters that
//!   do not begin or end with white space;
//! - users' real names (`UserRealNameValid`): up to 128 characters without
//!   white space at either end.
//!
//! Lengths are counted in bytes, as Go's `len` does.

use super::{Snapshot, Warning};

/// A `name-refused` warning for each object whose name (or display name)
/// Coder would refuse: it was made some other way (an older release, the
/// database, a hand-edited export), and the plan will not send it back as it
/// is. Names are shown escaped, so a control character in one is visible.
pub fn refused_names(s: &Snapshot) -> Vec<Warning> {
    let org = |id: &str| s.organizations.iter().find(|o| o.id == id).map_or(id, |o| o.name.as_str()).to_string();
    let mut out = Vec::new();
    let mut check = |what: String, name: &str, problem: Option<String>| {
        if let Some(p) = problem {
            out.push(Warning::new(
                "name-refused",
                format!("{what} \"{}\" has a name Coder refuses ({p})", name.escape_debug()),
            ));
        }
    };
    for o in &s.organizations {
        check("organization".into(), &o.name, name_problem(&o.name));
        check(
            format!("organization `{}`: display name", o.name),
            &o.display_name,
            display_name_problem(&o.display_name),
        );
    }
    for u in &s.users {
        check("user".into(), &u.username, name_problem(&u.username));
    }
    for g in &s.groups {
        check(format!("group of `{}`", org(&g.organization_id)), &g.name, group_name_problem(&g.name));
    }
    for t in &s.templates {
        let at = org(&t.organization_id);
        check(format!("template of `{at}`"), &t.name, name_problem(&t.name));
        check(
            format!("template `{at}/{}`: display name", t.name),
            &t.display_name,
            display_name_problem(&t.display_name),
        );
    }
    for w in &s.workspaces {
        check(format!("workspace of `{}`", w.owner_name), &w.name, name_problem(&w.name));
    }
    for r in &s.custom_roles {
        check(format!("custom role of `{}`", org(&r.organization_id)), &r.name, name_problem(&r.name));
    }
    // Provisioner key names follow other rules (up to 64 characters, a few
    // reserved words), which split validation checks for the keys it makes.
    out
}

/// Longest name `NameValid` accepts.
pub const MAX_NAME: usize = 32;
/// Longest group name `GroupNameValid` accepts.
pub const MAX_GROUP_NAME: usize = 36;
/// Longest display name `DisplayNameValid` accepts.
pub const MAX_DISPLAY_NAME: usize = 64;

/// Why Coder would refuse `name` as a user, workspace, template, org or role
/// name; None when it accepts it.
pub fn name_problem(name: &str) -> Option<String> {
    rule_problem(name, MAX_NAME)
}

/// Why Coder would refuse `name` as a group name.
pub fn group_name_problem(name: &str) -> Option<String> {
    rule_problem(name, MAX_GROUP_NAME)
}

/// Why Coder would refuse `name` as a template or group display name.
pub fn display_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        None
    } else if name.len() > MAX_DISPLAY_NAME {
        Some(format!("longer than {MAX_DISPLAY_NAME} characters"))
    } else if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        Some("begins or ends with white space".into())
    } else if name.contains('\n') {
        // Go's `.` in `^[^\s](.*[^\s])?$` does not match a line break.
        Some("holds a line break".into())
    } else {
        None
    }
}

/// The nearest display name Coder accepts: line breaks as spaces, white
/// space trimmed at both ends, at most 64 bytes (on a character boundary).
pub fn valid_display_name(name: &str) -> String {
    let one_line = name.replace(['\r', '\n'], " ");
    let mut out = one_line.trim().to_string();
    while out.len() > MAX_DISPLAY_NAME {
        out.pop();
    }
    out.trim_end().to_string()
}

/// Why Coder would refuse `name` as a user's real name.
pub fn real_name_problem(name: &str) -> Option<String> {
    if name.len() > 128 {
        Some("longer than 128 characters".into())
    } else if name.trim() != name {
        Some("begins or ends with white space".into())
    } else {
        None
    }
}

fn rule_problem(name: &str, max: usize) -> Option<String> {
    if name.is_empty() {
        return Some("empty".into());
    }
    if name.len() > max {
        return Some(format!("longer than {max} characters"));
    }
    if name == "new" || name == "create" {
        return Some(format!("`{name}` is reserved"));
    }
    let groups_ok = name.split('-').all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_alphanumeric()));
    (!groups_ok).then(|| "not letters and digits in groups joined by single hyphens".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coders_name_rules() {
        for (name, ok) in [
            ("docker", true),
            ("Docker-Dev-2", true),
            ("a", true),
            (&"a".repeat(32), true),
            (&"a".repeat(33), false),
            ("", false),
            ("new", false),
            ("create", false),
            ("news", true),
            ("--yes", false),
            ("-x", false),
            ("x-", false),
            ("a--b", false),
            ("a_b", false),
            ("a.b", false),
            ("two words", false),
            ("line\nbreak", false),
            ("café", false),
        ] {
            assert_eq!(name_problem(name).is_none(), ok, "{name:?}");
        }
        assert!(group_name_problem(&"g".repeat(36)).is_none());
        assert!(group_name_problem(&"g".repeat(37)).is_some());
        assert!(group_name_problem("create").is_some());
        assert!(display_name_problem("").is_none());
        assert!(display_name_problem("My Template (v2)").is_none());
        assert!(display_name_problem(" padded").is_some());
        assert!(display_name_problem(&"d".repeat(65)).is_some());
        assert!(display_name_problem("two\nlines").is_some());
        for odd in [" two\nlines ", &"é".repeat(40), "ok"] {
            let fixed = valid_display_name(odd);
            assert!(display_name_problem(&fixed).is_none(), "{fixed:?}");
        }
        assert_eq!(valid_display_name(" two\nlines "), "two lines");
        assert!(real_name_problem("Ada Lovelace").is_none());
        assert!(real_name_problem("Ada ").is_some());
    }
}
