//! The requests a plan needs, at the least, so apply can say how close it
//! came: one write per object created or changed, plus the reads that no
//! knowledge of the deployment can replace. Reading the deployment before
//! the run (`prepare`) and again after it (`verify`) is the same live import
//! on both sides and is counted by neither.
//!
//! Per step: an org, key, custom role, sync mapping or deprecation is one
//! write (a deprecation also one read: Coder's template PATCH resets the
//! settings it is not sent); a member one write to add them (when the API places them and they
//! are not a member yet) and one to give roles (when the API gives any); a
//! group one to create or change it and one to add its members; a template
//! re-created in a new org seven: its source's variables (the values are
//! the old version's), the archive's download and upload, the new version,
//! one look at its build, the template, and its grants (when it has any),
//! plus one read per org of the provisioners serving it (an admin starts
//! them while apply runs, so what was read at the start cannot tell).

use std::collections::BTreeSet;

use crate::model::Snapshot;
use crate::plan::{Action, ManagedBy, Plan, StepSpec};

/// Requests apply made and the least the plan needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    pub made: u64,
    pub minimum: u64,
}

/// The least number of requests carrying out `plan` on `before` takes.
pub fn minimum(plan: &Plan, before: &Snapshot) -> u64 {
    let org_of = |name: &str| before.organizations.iter().find(|o| o.name == name).map(|o| o.id.as_str());
    let mut template_orgs = BTreeSet::new();
    let mut total = 0u64;
    for s in plan.steps.iter().filter(|s| s.action != Action::NoOp) {
        let org = s.org.as_deref().unwrap_or_default();
        total += match &s.spec {
            StepSpec::Organization(_)
            | StepSpec::ProvisionerKey(_)
            | StepSpec::CustomRole(_)
            | StepSpec::OrganizationSync(_)
            | StepSpec::GroupSync(_)
            | StepSpec::RoleSync(_) => 1,
            // Coder's template PATCH resets the settings it is not sent: one read, one write.
            StepSpec::Deprecation(_) => 2,
            StepSpec::Member(m) => {
                let member = org_of(org).is_some_and(|id| {
                    before.organization_members.iter().any(|x| x.organization_id == id && x.user_id == m.user.user_id)
                });
                let add = u64::from(matches!(m.membership_by, ManagedBy::Api) && !member);
                let roles = u64::from(matches!(m.roles_by, ManagedBy::Api) && !m.add_roles.is_empty());
                add + roles
            }
            StepSpec::Group(g) => 1 + u64::from(!g.add_members.is_empty() && s.action == Action::Create),
            StepSpec::Template(t) => {
                template_orgs.insert(org);
                let grants = !(t.acl.groups.is_empty() && t.acl.users.is_empty());
                6 + u64::from(grants)
            }
        };
    }
    total + template_orgs.len() as u64
}
