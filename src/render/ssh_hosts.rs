//! The SSH host names the migration scripts connect to,
//! `<prefix><owner>--<workspace>` (what `coder config-ssh` writes), checked
//! before a script is written.
//!
//! The host is the one word rsync and ssh read positionally where no `--`
//! can go (rsync runs `<rsh> HOST rsync --server ...` itself), so a host
//! that began with `-` would be an ssh option: with an empty prefix, a
//! username `-oProxyCommand=...` would run a command on the laptop. Hence:
//! the prefix must begin with a letter or digit (a usage error otherwise),
//! and the owner and workspace names must follow Coder's name rules, or the
//! script refuses that workspace with the reason rather than connect to
//! something odd.
//!
//! Coder's name rules themselves are `model::names`, shared with the
//! import's and the plan's checks.

use crate::error::{Error, Result};
use crate::model::names::{MAX_NAME, name_problem as coder_name_problem};

/// The prefix given with `--ssh-prefix`: letters, digits, `.` and `-`,
/// beginning with a letter or digit (`coder.` by default).
pub fn check_ssh_prefix(prefix: &str) -> Result<()> {
    let valid = prefix.starts_with(|c: char| c.is_ascii_alphanumeric())
        && prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--ssh-prefix {prefix:?} is not a host-name prefix: use letters, digits, `.` and `-`, beginning with a \
             letter or digit (the deployment's `hostname_prefix`, `coder.` unless changed)"
        )))
    }
}

/// Why `name` (a username or workspace name) cannot be part of a host
/// name: Coder's rule is letters and digits in groups joined by single
/// hyphens, at most 32 characters.
fn name_problem(what: &str, name: &str) -> Option<String> {
    coder_name_problem(name).map(|_| {
        format!(
            "the {what} name {:?} breaks Coder's name rules (letters, digits and single hyphens, at most \
             {MAX_NAME} characters), so it cannot be part of an SSH host name",
            super::plain(name)
        )
    })
}

/// Why the script must not connect for this move (empty when it may): the
/// owner and both workspaces appear in host names.
pub fn host_problem(owner: &str, old_workspace: &str, new_workspace: &str) -> String {
    let problems: Vec<String> = [("owner", owner), ("old workspace", old_workspace), ("new workspace", new_workspace)]
        .into_iter()
        .filter_map(|(what, name)| name_problem(what, name))
        .collect();
    problems.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_must_begin_with_a_letter_or_digit() {
        for good in ["coder.", "my-coder.", "c"] {
            assert!(check_ssh_prefix(good).is_ok(), "{good}");
        }
        for bad in ["", "-o", ".coder.", "coder .", "co/der.", "coder.\n"] {
            let e = check_ssh_prefix(bad).unwrap_err();
            assert_eq!(e.exit_code(), 64, "{bad:?}");
        }
    }

    #[test]
    fn names_outside_coders_rules_are_refused_with_the_reason() {
        assert_eq!(host_problem("alice", "dev", "dev-data"), "");
        assert_eq!(host_problem("Alice2", "My-Box", "x"), "", "Coder accepts upper case");
        let p = host_problem("-oProxyCommand=touch /tmp/x", "dev", "a--b");
        assert!(p.starts_with("the owner name \"-oProxyCommand=touch /tmp/x\" breaks Coder's name rules"), "{p}");
        assert!(p.contains("the new workspace name \"a--b\""), "{p}");
        assert!(!p.contains("old workspace"), "{p}");
        assert!(!host_problem(&"x".repeat(33), "dev", "dev").is_empty());
        assert!(!host_problem("a\u{1b}]0;t\u{7}", "dev", "dev").contains('\u{1b}'), "the message is terminal-safe");
    }
}
