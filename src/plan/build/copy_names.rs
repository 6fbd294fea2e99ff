//! The copies' names: template names are unique per org, and some names
//! the source templates hold Coder refuses.

use std::collections::BTreeSet;

use super::Builder;
use crate::plan::names::unique_name;
use crate::plan::{Finding, Severity};

impl Builder<'_, '_> {
    /// Template names are unique per org, and some names Coder refuses. In
    /// each org the copies the split lists keep their names (the split
    /// cannot list two of one name), then the others (`duplicate`) in the
    /// plan's order; a name that is taken or invalid becomes
    /// `<name>-<source org>` made valid, then `-2`, `-3`, ..., with a
    /// `template-name-adjusted` finding. The same input gives the same names.
    pub(super) fn name_copies(&mut self) {
        let mut taken: Vec<BTreeSet<String>> = vec![BTreeSet::new(); self.orgs.len()];
        let mut findings = Vec::new();
        for listed in [true, false] {
            for i in 0..self.templates.len() {
                for k in 0..self.templates[i].copies.len() {
                    let p = &self.templates[i];
                    let o = p.copies[k];
                    if p.explicit.contains(&o) != listed {
                        continue;
                    }
                    let t = p.source;
                    let invalid = crate::model::names::name_problem(&t.name);
                    if invalid.is_none() && taken[o].insert(t.name.clone()) {
                        continue;
                    }
                    let from = self.ix.org_name(&t.organization_id);
                    let name = unique_name(&format!("{}-{from}", t.name), &mut taken[o]);
                    let why = match invalid {
                        Some(problem) => format!("Coder refuses the name ({problem})"),
                        None => format!("another template copied to `{}` has that name", self.orgs[o].name),
                    };
                    findings.push(Finding {
                        code: "template-name-adjusted".into(),
                        severity: Severity::Warning,
                        message: format!(
                            "the copy of `{from}/{}` in `{}` is named `{name}`: {why}",
                            t.name, self.orgs[o].name
                        ),
                        help: Some(
                            "rename the template before planning, or list only one template of that name for the org"
                                .into(),
                        ),
                        affects: vec![self.template_affected(t)],
                    });
                    self.templates[i].names[k] = name;
                }
            }
        }
        self.findings.extend(findings);
    }
}
