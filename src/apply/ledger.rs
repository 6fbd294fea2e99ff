//! The ledger: what became of each step in one run, in plan order, and its
//! rendering for the person who ran apply (failures first, with why).

use std::collections::BTreeMap;
use std::fmt::Write;

/// What became of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Done, or found already done: what was done or found.
    Done(String),
    /// Waits for users to log in (IdP sync places them); not a failure.
    Pending(String),
    /// Waits for the admin (a provisioner to start, a key to create): run apply again after.
    Waiting(String),
    /// Failed, with the reason (the server's words where it said something).
    Failed(String),
    /// Not tried: a step it depends on did not complete.
    Skipped(String),
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Done(_) => "done",
            Status::Pending(_) => "pending",
            Status::Waiting(_) => "waiting",
            Status::Failed(_) => "failed",
            Status::Skipped(_) => "skipped",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Status::Done(d) | Status::Pending(d) | Status::Waiting(d) | Status::Failed(d) | Status::Skipped(d) => d,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, Status::Done(_))
    }
}

/// One step's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: String,
    pub status: Status,
}

/// Every step's outcome in one run, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    pub items: Vec<Item>,
}

impl Ledger {
    pub fn count(&self, word: &str) -> usize {
        self.items.iter().filter(|i| i.status.word() == word).count()
    }

    pub fn status(&self, key: &str) -> Option<&Status> {
        self.items.iter().find(|i| i.key == key).map(|i| &i.status)
    }

    /// True when nothing failed, was skipped or waits for the admin
    /// (steps pending on users' logins do not count against it).
    pub fn complete(&self) -> bool {
        self.items.iter().all(|i| matches!(i.status, Status::Done(_) | Status::Pending(_)))
    }

    /// `N done, N pending, ...`, leaving out the zeros.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = ["done", "pending", "waiting", "failed", "skipped"]
            .iter()
            .map(|w| (w, self.count(w)))
            .filter(|(w, n)| *n > 0 || **w == "done")
            .map(|(w, n)| format!("{n} {w}"))
            .collect();
        format!("{} steps: {}", self.items.len(), parts.join(", "))
    }

    /// The ledger for the terminal: failures, then steps waiting for the
    /// admin, then skipped ones, each with why; pending steps by reason,
    /// with their users; done steps only counted (the journal lists them).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (word, title) in
            [("failed", "failed"), ("waiting", "waiting for you (run apply again once done)"), ("skipped", "skipped")]
        {
            let items: Vec<&Item> = self.items.iter().filter(|i| i.status.word() == word).collect();
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{} {title}:", items.len());
            for i in items {
                let _ = writeln!(out, "  {}: {}", i.key, i.status.detail());
            }
        }
        let mut pending: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for i in self.items.iter().filter(|i| matches!(i.status, Status::Pending(_))) {
            pending.entry(i.status.detail()).or_default().push(&i.key);
        }
        if !pending.is_empty() {
            let _ = writeln!(
                out,
                "{} pending until users log in (IdP sync places them; not failures):",
                self.count("pending")
            );
            for (why, keys) in pending {
                let _ = writeln!(out, "  {} step(s): {why}", keys.len());
                let _ = writeln!(out, "    {}", shorten(&keys, 12));
            }
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }
}

/// `a, b, c and 9 more`.
fn shorten(keys: &[&str], at_most: usize) -> String {
    let shown: Vec<&str> = keys.iter().take(at_most).copied().collect();
    match keys.len().saturating_sub(at_most) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_lists_what_did_not_complete_and_counts_the_rest() {
        let item = |key: &str, status| Item { key: key.into(), status };
        let ledger = Ledger {
            items: vec![
                item("ml/organization/ml", Status::Done("created".into())),
                item("ml/template/gpu", Status::Failed("the build failed: boom".into())),
                item("coder/deprecation/gpu", Status::Skipped("`ml/template/gpu` failed".into())),
                item("ml/member/amy", Status::Pending("joins at her next login".into())),
                item("ml/member/bob", Status::Pending("joins at her next login".into())),
            ],
        };
        let text = ledger.render();
        assert!(text.starts_with("1 failed:\n  ml/template/gpu: the build failed: boom\n1 skipped:\n"), "{text}");
        assert!(text.contains("  2 step(s): joins at her next login\n    ml/member/amy, ml/member/bob\n"), "{text}");
        assert!(text.ends_with("5 steps: 1 done, 2 pending, 1 failed, 1 skipped\n"), "{text}");
        assert!(!ledger.complete());
        assert_eq!(shorten(&["a", "b", "c"], 2), "a, b and 1 more");
    }
}
