//! What the coderd provider cannot express, counted from the plan, with the
//! `orgsplit` step (or IdP sync) that covers each: written at the top of
//! `main.tf` and in the export's README, so nobody takes the Terraform for
//! the whole split.

use std::collections::BTreeMap;

use super::schema::PROVIDER_VERSION;
use crate::plan::{ManagedBy, Plan, StepSpec};

/// Counts of what the export leaves to others.
#[derive(Debug, Default)]
pub struct Gaps {
    pub members_by_api: usize,
    pub members_by_sync: usize,
    pub role_grants: usize,
    pub custom_roles: usize,
    pub deprecations: usize,
    pub migrations: usize,
    /// `org/name` of provisioner keys that exist already (no import).
    pub existing_keys: Vec<String>,
    /// `org/name` of IdP-created groups (no import; read by a data source).
    pub oidc_groups: Vec<String>,
}

impl Gaps {
    pub fn count_plan(&mut self, plan: &Plan) {
        for step in &plan.steps {
            match &step.spec {
                StepSpec::Member(m) => {
                    match m.membership_by {
                        ManagedBy::Api => self.members_by_api += 1,
                        ManagedBy::IdpSync { .. } => self.members_by_sync += 1,
                    }
                    self.role_grants += m.add_roles.len();
                }
                StepSpec::CustomRole(_) => self.custom_roles += 1,
                StepSpec::Deprecation(_) => self.deprecations += 1,
                _ => {}
            }
        }
        self.migrations = plan.workspace_migrations.len();
    }

    /// (what, how many in this plan, what covers it) per thing Terraform leaves out.
    fn lines(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (
                format!(
                    "Organization membership ({} member step(s) by the API, {} by IdP org sync)",
                    self.members_by_api, self.members_by_sync
                ),
                "`orgsplit apply` (its `member` steps), or IdP org sync at the user's next login; \
                 the provider has no membership resource"
                    .into(),
            ),
            (
                format!("Organization roles per user ({} role grant(s))", self.role_grants),
                "`orgsplit apply` (`member` steps set the roles), or role sync where the split syncs roles \
                 (declared here as `role_sync`)"
                    .into(),
            ),
            (
                format!("Custom roles ({})", self.custom_roles),
                "`orgsplit apply` (its `custom-role` steps); the provider has no role resource".into(),
            ),
            (
                "Default member roles of an organization".into(),
                "not in provider v0.0.23; set them with the Coder CLI or API if you use them".into(),
            ),
            (
                format!("Deprecating the old templates ({})", self.deprecations),
                "`orgsplit apply` (its `deprecation` steps) and `orgsplit notices`".into(),
            ),
            (
                format!("Workspace migrations ({})", self.migrations),
                "`orgsplit scripts` (one script per user); Terraform has no workspace resource".into(),
            ),
            (
                "Provisioner daemons".into(),
                "start them with the key's secret (`terraform output -raw <org>_..._provisioner_key`) \
                 where the org's infrastructure is"
                    .into(),
            ),
        ];
        if !self.existing_keys.is_empty() {
            out.push((
                format!("Provisioner keys that exist already: {}", self.existing_keys.join(", ")),
                "kept as they are: the provider cannot import keys".into(),
            ));
        }
        if !self.oidc_groups.is_empty() {
            out.push((
                format!("IdP-created groups: {}", self.oidc_groups.join(", ")),
                "read through `data \"coderd_group\"`, owned by IdP group sync: the provider cannot import them".into(),
            ));
        }
        out
    }
}

/// The comment at the top of `main.tf`.
pub fn header(gaps: &Gaps) -> String {
    let mut s = String::from(
        "# Written by `orgsplit export terraform`: the split's organizations as code\n\
         # (coder/coderd provider). URL and token come from CODER_URL and\n\
         # CODER_SESSION_TOKEN; they are never written here.\n#\n\
         # NOT THE WHOLE SPLIT. The provider cannot express:\n",
    );
    for (what, how) in gaps.lines() {
        s.push_str(&format!("#  - {what}: {how}\n"));
    }
    s.push_str("# See README.md beside this file.\n\n");
    s
}

/// The README written beside the configuration.
pub fn readme(plan: &Plan, gaps: &Gaps, files: &BTreeMap<String, String>) -> String {
    let mut s = String::from("# The split as Terraform\n\n");
    s.push_str(&format!(
        "Written by `orgsplit export terraform` from the plan of `{}` (snapshot `{}`), for the \
         `coder/coderd` provider pinned at `{PROVIDER_VERSION}` (Terraform >= 1.5 for `import` blocks).\n\n",
        plan.split.file, plan.snapshot.fingerprint
    ));
    s.push_str(
        "Set `CODER_URL` and `CODER_SESSION_TOKEN` (an Owner's token) in the environment, then \
         `terraform init` and `terraform plan`. Objects the plan found already there have `import` \
         blocks, so the plan adopts them instead of creating duplicates.\n\n## Files\n\n",
    );
    for name in files.keys().filter(|n| n.ends_with(".tf")) {
        let what = match name.as_str() {
            "main.tf" => "provider (pinned) and the list below as a comment".to_string(),
            "deployment.tf" => "the deployment's organization sync settings (once)".to_string(),
            n => format!("organization `{}`", n.trim_start_matches("org_").trim_end_matches(".tf")),
        };
        s.push_str(&format!("- `{name}`: {what}\n"));
    }
    s.push_str("\n## What this does not do\n\nThe provider cannot express these; run what the right column says.\n\n");
    s.push_str("| What | Covered by |\n|---|---|\n");
    for (what, how) in gaps.lines() {
        s.push_str(&format!("| {} | {} |\n", what.replace('|', "\\|"), how.replace('|', "\\|")));
    }
    s.push_str(
        "\n## Know before you apply\n\n\
         - Users who join an organization by IdP org sync must have logged in once before Terraform \
         can put them in groups (the plan's `group-members-after-login` findings name them).\n\
         - Groups that group sync fills are declared without `members`: sync owns them.\n\
         - A template's first version is built by a provisioner with the org's tags: start one with the \
         org's key before `terraform apply` reaches the template.\n\
         - Templates that already exist are imported without `versions`: their versions stay as they are.\n\
         - `coderd_organization_sync_settings` cannot be imported; creating it sets `field` and \
         `assign_default` and leaves the mapping to each organization's `org_sync_idp_groups`.\n",
    );
    s
}
