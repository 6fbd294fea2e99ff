//! The dry-run org-split report: what an admin circulates before anything
//! changes. Assembled from the scoring (who should get an organization, and
//! why) and the plan of one split (the resulting orgs, shared templates,
//! deprecation messages, migrations and findings), plus an aggregated
//! picture of the split. Pure: `build` takes values and returns the
//! `Report`, which `render::report_doc` renders (as Markdown or HTML) into
//! text and `-o json` serialises as it is.
//!
//! Layout: this file holds the document (what `-o json` writes); `build.rs`
//! assembles it; `picture.rs` aggregates orgs, groups, templates and the
//! edges that cross orgs into a graph small enough to draw.

mod boxes;
mod build;
pub mod picture;
mod planned;

use std::collections::BTreeMap;

use serde::Serialize;

pub use build::{Inputs, build};
pub use picture::Picture;
pub use planned::{Planned, RECOMMENDED, plan_and_score};

use crate::plan::{Finding, Severity};
use crate::split::SharedTemplates;

/// Bump when a change would make an older reader misread the JSON.
pub const FORMAT_VERSION: u32 = 1;

/// The marker written where a recommended split leaves the migration wiki blank.
pub const WIKI_TO_FILL_IN: &str = "[migration wiki: to be filled in]";
/// The marker written where a recommended split leaves the deadline blank.
pub const DEADLINE_TO_FILL_IN: &str = "[deadline: to be filled in]";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub deployment: Deployment,
    pub split: SplitUsed,
    pub summary: Summary,
    /// Every candidate scored, by name.
    pub candidates: Vec<Verdict>,
    /// The split's organizations, by name.
    pub organizations: Vec<Org>,
    /// Templates re-created somewhere whose users go to more than one place, by org and name.
    pub shared_templates: Vec<SharedTemplate>,
    /// Templates that stay where they are (not deprecated) while members of a
    /// split organization keep using them: shared, by org and name.
    pub staying_templates: Vec<StayingTemplate>,
    /// Old templates the plan deprecates, with the exact message, by org and name.
    pub deprecations: Vec<Deprecation>,
    /// Per target org, its users whose workspaces move, by username.
    pub migrations: Vec<OrgMigrations>,
    /// What planning found: risks first, then warnings, then notes (the plan's order).
    pub findings: Vec<Finding>,
    pub picture: Picture,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    /// Empty when the snapshot does not say.
    pub url: String,
    pub version: String,
    /// `export-dir`, `api` or `builtin`, and the folder or URL.
    pub source_kind: String,
    pub source_location: String,
    pub taken_at: Option<String>,
    /// The snapshot's fingerprint: the report is about this state only.
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitOrigin {
    /// A split file given with `--split`.
    File,
    /// The split scoring recommends (`orgsplit score --emit-split` writes the same).
    Recommended,
}

#[derive(Debug, Clone, Serialize)]
pub struct SplitUsed {
    pub origin: SplitOrigin,
    /// The file as given, or what the recommended split is.
    pub file: String,
    /// `sha256:<hex>` of the split file's bytes (for the recommended split, of its text).
    pub sha256: String,
    pub wiki: String,
    pub deadline: String,
    pub deprecation_message_template: String,
    pub shared_templates: SharedTemplates,
    /// Settings the split leaves blank, shown as markers in the messages: fill them in
    /// a split file before planning for real.
    pub to_fill_in: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub candidates: usize,
    /// Candidates whose recommendation is an organization.
    pub recommended_organizations: usize,
    /// Organizations in the split, and how many of them are new.
    pub organizations: usize,
    pub new_organizations: usize,
    /// Distinct users who are members of a split organization after the plan.
    pub members_placed: usize,
    pub templates_recreated: usize,
    pub templates_deprecated: usize,
    pub shared_templates: usize,
    pub users_to_migrate: usize,
    pub workspaces_to_migrate: usize,
    /// The deployment's users and workspaces, for the shares that move.
    pub users_total: usize,
    pub workspaces_total: usize,
    pub steps_create: usize,
    pub steps_update: usize,
    pub steps_unchanged: usize,
    pub risks: usize,
    pub warnings: usize,
    pub notes: usize,
}

/// One candidate's verdict, with the reasons, and where the split puts it.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub name: String,
    pub display_name: String,
    /// Where the candidate came from: "group `raptix`", a candidates file line, ...
    pub source: String,
    pub members: usize,
    /// `organization`, `organization-with-workspace-proxies`, ..., `no-clear-case`, `review`.
    pub recommendation: String,
    pub recommendation_title: String,
    pub is_organization: bool,
    /// The overlapping candidate whose organization this one joins (then it is
    /// not an organization of its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joins: Option<String>,
    /// Why it has no organization of its own, when others with one overlap
    /// it: "subset of `pricing`", "umbrella over `pricing` and `risk`", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// The best-matching case of the page, or for "no clear case" the closest one.
    pub case: Option<String>,
    pub case_applies: bool,
    pub met: usize,
    pub total: usize,
    /// The case's conditions that hold.
    pub reasons: Vec<String>,
    /// The case's conditions that do not hold (or are unknown).
    pub missing: Vec<String>,
    /// The key evidence of the case's conditions, as `orgsplit score` shows
    /// it: "what was seen (file:line)", a few per condition.
    pub evidence: Vec<String>,
    /// Warning rules that apply (the maintenance overhead of a small team, ...).
    pub warnings: Vec<String>,
    /// Why a person must decide, and one line per declared fact that contradicts the snapshot.
    pub notes: Vec<String>,
    /// Those contradictions in full: both values, where each comes from, which one counts.
    pub contradictions: Vec<crate::rules::Contradiction>,
    /// The page's section for the case.
    pub reference: String,
    /// The split's organizations its members end up in, most first.
    pub placed_in: Vec<Placement>,
    pub agreement: Agreement,
}

/// A template that stays in its organization while members of split
/// organizations keep using it.
#[derive(Debug, Clone, Serialize)]
pub struct StayingTemplate {
    pub org: String,
    pub template: String,
    /// All its users.
    pub users: usize,
    /// Per split organization, how many of its members keep using it, most first.
    pub kept_by: Vec<Placement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub org: String,
    pub members: usize,
}

/// Whether the split does what the verdict says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// An organization, and most of its members go to one; or not one, and they stay.
    AsRecommended,
    /// Recommended an organization, but the split does not move most of its members.
    NotInSplit,
    /// Not recommended an organization (or undecided), but the split moves most of its members.
    OrgNotRecommended,
}

#[derive(Debug, Clone, Serialize)]
pub struct Org {
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// True when the organization exists already.
    pub exists: bool,
    pub members: usize,
    /// Members the API adds, and members IdP sync places (at their next login).
    pub members_by_api: usize,
    pub members_by_idp_sync: usize,
    /// Org role -> usernames (`organization-admin` included).
    pub roles: BTreeMap<String, Vec<String>>,
    pub groups: Vec<OrgGroup>,
    pub templates: Vec<OrgTemplate>,
    pub provisioner_key: Option<ProvisionerKey>,
    pub custom_roles: Vec<String>,
    pub workspace_proxies: Vec<String>,
    pub users_to_migrate: usize,
    pub workspaces_to_migrate: usize,
    /// The candidates most of whose members come here.
    pub candidates: Vec<String>,
    /// Every member's username, sorted.
    pub member_usernames: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgGroup {
    pub name: String,
    pub members: usize,
    /// `org/name` of the group it is copied from.
    pub copied_from: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgTemplate {
    pub name: String,
    /// `org/name` of the template it is re-created from.
    pub recreated_from: String,
    /// `create`, `update` or `no-op`.
    pub action: String,
    pub provisioner_tags: BTreeMap<String, String>,
    pub workspaces_to_migrate: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProvisionerKey {
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub create_command: String,
    pub start_command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SharedTemplate {
    pub template: String,
    pub org: String,
    /// Orgs it is re-created in.
    pub copies: Vec<String>,
    pub deprecated: bool,
    /// Its users (workspace owners and ACL grants).
    pub users: usize,
    /// Where its users end up: a split org, or none (they stay where they are).
    pub destinations: Vec<Destination>,
    /// What the plan says about it (`shared-template`, `users-left-behind`).
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// None: in no organization of the split.
    pub org: Option<String>,
    pub users: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deprecation {
    pub template: String,
    pub org: String,
    pub display_name: String,
    /// The message set on the template, exactly (plain text, names as they are).
    pub message: String,
    /// `org/template` of each copy its users go to.
    pub replacements: Vec<String>,
    pub workspaces_to_migrate: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgMigrations {
    pub org: String,
    pub users: Vec<UserMigration>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserMigration {
    pub username: String,
    pub name: String,
    pub email: String,
    /// `active`, `suspended` or `dormant`.
    pub status: String,
    pub workspaces: Vec<WorkspaceMove>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceMove {
    pub old_workspace: String,
    pub old_template: String,
    pub old_status: String,
    pub new_workspace: String,
    pub new_template: String,
    /// `pending` or `new-workspace-exists`.
    pub state: String,
    /// Why the new name is not simply `<old>-<org>`, when it is not.
    pub name_note: Option<String>,
}

impl Report {
    /// Findings of one severity, in the plan's order.
    pub fn findings_of(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity == severity)
    }
}
