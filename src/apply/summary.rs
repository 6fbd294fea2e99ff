//! What apply prints at the end: the ledger, the verification, and what to
//! do next.

use std::path::Path;

use super::RunOutcome;

/// The ledger, the verification, and what to do next.
pub(crate) fn render(report: &RunOutcome, plan: &Path) -> String {
    let mut out = report.ledger.render();
    out.push_str(&format!(
        "requests: {} (the plan needs at least {})\n",
        report.requests.made, report.requests.minimum
    ));
    if report.interrupted {
        out.push_str(&format!(
            "interrupted: run `orgsplit apply {}` again to resume (the journal is `{}`)\n",
            plan.display(),
            report.journal.display()
        ));
        return out;
    }
    if let Some(why) = &report.unverified {
        out.push_str(&format!("not verified: the deployment could not be read again ({why})\n"));
    }
    if let Some(v) = &report.verification {
        if v.pending_members + v.pending_group_members + v.pending_roles > 0 {
            out.push_str(&format!(
                "pending until the users log in (IdP sync): {} org membership(s), {} group membership(s), {} role(s)\n",
                v.pending_members, v.pending_group_members, v.pending_roles
            ));
        }
        if v.diff.is_empty() {
            out.push_str("verified: no drift (the deployment is what the plan expects)\n");
        } else {
            if report.ledger.complete() {
                out.push_str(&format!("drift: the deployment differs from what the plan expects:\n{}", v.diff));
            } else {
                // The steps listed above explain it: the start of the diff is enough.
                out.push_str(&format!(
                    "not done yet: the deployment differs from what the plan expects (the steps above that did not \
                     complete explain some or all of it):\n{}",
                    first_lines(&v.diff, 40)
                ));
            }
        }
    }
    if report.exit_code() != 0 {
        out.push_str(&format!("run `orgsplit apply {}` again once that is dealt with: it resumes\n", plan.display()));
    }
    out
}

/// The first `n` lines of `text`, and how many more there are.
fn first_lines(text: &str, n: usize) -> String {
    let total = text.lines().count();
    let mut out: String = text.lines().take(n).flat_map(|l| [l, "\n"]).collect();
    if total > n {
        out.push_str(&format!("... and {} more lines\n", total - n));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{Item, Ledger, Status, Verification};

    #[test]
    fn the_report_says_what_is_left_and_how_to_go_on() {
        let report = |status: Status, diff: &str| RunOutcome {
            ledger: Ledger { items: vec![Item { key: "ml/organization/ml".into(), status }] },
            verification: Some(Verification { diff: diff.into(), pending_members: 2, ..Default::default() }),
            unverified: None,
            interrupted: false,
            journal: "plan.json.journal".into(),
            requests: Default::default(),
        };
        let plan = Path::new("plan.json");
        let done = render(&report(Status::Done("created".into()), ""), plan);
        assert_eq!(
            done,
            "1 steps: 1 done\nrequests: 0 (the plan needs at least 0)\npending until the users log in (IdP sync): 2 org membership(s), 0 group membership(s), \
             0 role(s)\nverified: no drift (the deployment is what the plan expects)\n"
        );
        let failed = render(&report(Status::Failed("boom".into()), "-organization ml\n"), plan);
        assert!(failed.contains("not done yet: the deployment differs from what the plan expects"), "{failed}");
        assert!(
            failed.ends_with("run `orgsplit apply plan.json` again once that is dealt with: it resumes\n"),
            "{failed}"
        );
        let long: String = (0..50).map(|i| format!("-line {i}\n")).collect();
        let cut = render(&report(Status::Failed("boom".into()), &long), plan);
        assert!(cut.contains("-line 39\n... and 10 more lines\n") && !cut.contains("-line 40\n"), "{cut}");
        let drift = render(&report(Status::Done("created".into()), "-organization ml\n"), plan);
        assert!(
            drift.contains("drift: the deployment differs from what the plan expects:\n-organization ml\n"),
            "{drift}"
        );
    }
}
