//! The split file: the decision "these teams get these organizations", in
//! TOML, as a person (or `orgsplit score --emit-split`) writes it.
//!
//! ```toml
//! format_version = 1
//!
//! [migration]
//! wiki = "https://wiki.example.com/coder/organizations"
//! deadline = "2025-03-31"
//! # {org} {org_display_name} {template} {new_template} {wiki} {deadline}
//! deprecation_message = "Moved to the {org_display_name} organization as {new_template}: {wiki} (by {deadline})"
//! shared_templates = "duplicate"          # or "keep-in-default"
//!
//! [org_sync]                              # optional: deployment-wide IdP organization sync
//! field = "memberOf"
//! assign_default = true
//!
//! [[organizations]]
//! name = "raptix"
//! display_name = "Raptix"
//! groups = ["raptix"]                     # who goes in: members of these groups,
//! users = ["someone"]                     # these users,
//! claims = { memberOf = ["coder-raptix"] }  # users with these IdP claim values,
//! people = { employer = ["Raptix"] }      # and people-CSV rows matching these values
//! templates = ["raptix-*"]                # re-created there (names or globs)
//! provisioner_tags = { cloud = "raptix-aws" }
//! admins = ["bianca-das"]
//! roles = { organization-template-admin = ["carlos-jones"] }
//! custom_roles = ["provisioner-admin", "template-editor", "template-pusher"]
//! org_sync_claims = ["coder-raptix"]
//! group_sync = { field = "memberOf", mapping = { coder-raptix = ["raptix"] } }
//! role_sync = { field = "memberOf", mapping = { raptix-admins = ["organization-admin"] } }
//! ```
//!
//! This module holds the types and the parse: TOML syntax, then the shape
//! (every unknown field, wrong type and missing field at once, checked
//! against the types' own JSON Schema), keeping where each value was
//! written. Validation against a snapshot (unknown groups, users,
//! templates) is the planner's (`plan::validate`), using those positions.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use toml::Spanned;

use crate::tomlread::Doc;

use crate::error::{Diagnostic, Result, display_path};

mod shape;
mod spans;

pub use spans::{PathDisplay, Seg, Spans};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitFile {
    pub format_version: u32,
    #[serde(default)]
    pub migration: Migration,
    #[serde(default)]
    pub org_sync: Option<OrgSync>,
    #[serde(default)]
    pub organizations: Vec<OrgSpec>,
    /// Custom role definitions beyond the built-in catalogue
    /// (`provisioner-admin`, `template-editor`, `template-pusher`).
    #[serde(default)]
    pub custom_roles: Vec<CustomRole>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Migration {
    /// The migration wiki page linked from every deprecation message and notice.
    pub wiki: String,
    /// The date (YYYY-MM-DD) by which users must have moved.
    pub deadline: String,
    /// Deprecation message template. Placeholders: `{org}`, `{org_display_name}`,
    /// `{template}` (old name), `{new_template}`, `{wiki}`, `{deadline}`.
    pub deprecation_message: String,
    /// What to do with a template used by teams going to different orgs.
    pub shared_templates: SharedTemplates,
}

impl Default for Migration {
    fn default() -> Migration {
        Migration {
            wiki: String::new(),
            deadline: String::new(),
            deprecation_message: DEFAULT_DEPRECATION_MESSAGE.to_string(),
            shared_templates: SharedTemplates::Duplicate,
        }
    }
}

pub const DEFAULT_DEPRECATION_MESSAGE: &str = "This template has moved to the {org_display_name} organization as \
     {new_template}. Create your new workspace there and copy your files before {deadline}: see {wiki}";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SharedTemplates {
    /// Re-create the template in each org whose teams use it.
    #[default]
    Duplicate,
    /// Leave it in the default org, where everyone keeps using it.
    KeepInDefault,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSync {
    /// The IdP claim that names a user's organizations (e.g. `memberOf`).
    pub field: String,
    /// Also keep every user in the default org. On unless turned off: without
    /// it, OIDC users leave the default org, where their old workspaces are.
    #[serde(default = "keep_in_default")]
    pub assign_default: bool,
}

impl Default for OrgSync {
    fn default() -> OrgSync {
        OrgSync { field: String::new(), assign_default: keep_in_default() }
    }
}

fn keep_in_default() -> bool {
    true
}

/// Whose workspaces may be shared (Coder's `shareable_workspace_owners`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceSharing {
    None,
    Everyone,
    ServiceAccounts,
}

impl WorkspaceSharing {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceSharing::None => "none",
            WorkspaceSharing::Everyone => "everyone",
            WorkspaceSharing::ServiceAccounts => "service_accounts",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OrgSpec {
    /// A valid Coder name: lowercase letters, digits, single hyphens, at most 32 characters.
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    /// Org roles every member of the org has (Coder's default member roles);
    /// without it, the source (default) organization's.
    pub default_member_roles: Option<Vec<String>>,
    /// Whose workspaces in the org may be shared: `none` or `everyone`
    /// (Coder v2.30.0's sharing off or on), or `service_accounts` (newer
    /// releases); without it, the source (default) organization's.
    pub workspace_sharing: Option<WorkspaceSharing>,
    /// Members of these groups (in the default org) go in.
    pub groups: Vec<String>,
    /// These usernames go in.
    pub users: Vec<String>,
    /// Users whose IdP claim (a people attribute) has one of these values go in.
    pub claims: BTreeMap<String, Vec<String>>,
    /// Users whose people-CSV column has one of these values go in.
    pub people: BTreeMap<String, Vec<String>>,
    /// Templates re-created in this org: names or globs (`raptix-*`).
    pub templates: Vec<String>,
    /// Tags of the org's provisioner key, and of its re-created template versions.
    pub provisioner_tags: BTreeMap<String, String>,
    /// Name of the provisioner key to create (default `<org>-provisioner`).
    pub provisioner_key: Option<String>,
    /// Usernames given `organization-admin`.
    pub admins: Vec<String>,
    /// Other org roles: role name -> usernames.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Custom roles to create in this org (catalogue names or `[[custom_roles]]`).
    pub custom_roles: Vec<String>,
    /// Claim values that organization sync maps to this org.
    pub org_sync_claims: Vec<String>,
    pub group_sync: Option<SyncMapping>,
    pub role_sync: Option<SyncMapping>,
    /// Workspace proxies (regions) the org's users need; proxies are
    /// deployment-wide, so this is checked and reported, not created.
    pub workspace_proxies: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncMapping {
    pub field: String,
    /// Claim value -> group names (group sync) or org role names (role sync).
    pub mapping: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomRole {
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    /// Org-wide permissions (`organization_permissions` in the API).
    pub permissions: Vec<PermissionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    pub resource_type: String,
    pub action: String,
    #[serde(default)]
    pub negate: bool,
}

/// A split file with where each of its values was written, so that
/// validation against a snapshot can point at the line and column.
#[derive(Debug, Clone)]
pub struct SplitDocument {
    pub split: SplitFile,
    /// The file's name as given, for messages.
    pub path: String,
    text: String,
    spans: Spans,
}

impl SplitDocument {
    /// A problem at the value found at `path` (or its nearest written ancestor).
    pub fn diagnostic(&self, path: &[Seg], message: impl Into<String>) -> Diagnostic {
        self.at(self.spans.value_start(path), message)
    }

    /// A problem at the key at `path` (for fields that should not be there).
    pub fn key_diagnostic(&self, path: &[Seg], message: impl Into<String>) -> Diagnostic {
        self.at(self.spans.key_start(path), message)
    }

    fn at(&self, offset: Option<usize>, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(&self.path, message);
        match offset {
            Some(offset) => {
                let (line, column) = line_column(&self.text, offset);
                d.at(line, column)
            }
            None => d,
        }
    }
}

/// Parse a split file's text. `path` is used in messages.
pub fn parse(text: &str, path: &Path) -> Result<SplitFile> {
    load(text, path).map(|d| d.split)
}

/// Parse and check a split file's shape: TOML syntax, then every unknown
/// field, wrong type and missing field at once, then the format version.
pub fn load(text: &str, path: &Path) -> Result<SplitDocument> {
    let root = toml::de::DeTable::parse(text).map_err(|e| toml_diagnostic(text, path, &e))?;
    let root = Spanned::new(root.span(), toml::de::DeValue::Table(root.into_inner()));
    let spans = Spans::of(&root);
    let schema = serde_json::to_value(schemars::schema_for!(SplitFile))
        .map_err(|e| crate::error::Error::Bug(format!("the split file's schema: {e}")))?;
    let mut doc = Doc::new(path.display().to_string(), text);
    shape::check(&mut doc, &root, &schema);
    let version = root.get_ref().get("format_version").and_then(|v| match v.get_ref() {
        toml::de::DeValue::Integer(i) => i.as_str().parse::<i64>().ok(),
        _ => None,
    });
    if let Some(version) = version.filter(|v| *v != i64::from(FORMAT_VERSION)) {
        let offset = spans.value_start(&[Seg::from("format_version")]).unwrap_or(0);
        doc.problem_at(
            offset,
            format!("unknown split format_version {version}: this orgsplit reads version {FORMAT_VERSION}"),
            Some("set `format_version = 1`".into()),
        );
    }
    doc.into_result(&display_path(path))?;
    // The shape is right, so this only fails on what the schema cannot say.
    let split: SplitFile = toml::from_str(text).map_err(|e| toml_diagnostic(text, path, &e))?;
    Ok(SplitDocument { split, path: display_path(path), text: text.to_string(), spans })
}

/// A TOML error as `file:line:column: message`.
pub fn toml_diagnostic(text: &str, path: &Path, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().to_string();
    match e.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            Diagnostic::new(path, message).at(line, column)
        }
        None => Diagnostic::new(path, message),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |i| before[i + 1..].chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let text = r#"format_version = 1
[migration]
wiki = "https://wiki.example.com"
deadline = "2025-03-31"
shared_templates = "keep-in-default"

[[organizations]]
name = "raptix"
groups = ["raptix"]
templates = ["raptix-*"]
provisioner_tags = { cloud = "raptix-aws" }
roles = { organization-template-admin = ["carol"] }
group_sync = { field = "memberOf", mapping = { coder-raptix = ["raptix"] } }
"#;
        let s = parse(text, Path::new("split.toml")).unwrap();
        assert_eq!(s.migration.shared_templates, SharedTemplates::KeepInDefault);
        assert_eq!(s.organizations[0].provisioner_tags["cloud"], "raptix-aws");
        assert!(s.migration.deprecation_message.contains("{new_template}"), "default message");
    }

    #[test]
    fn unknown_field_has_line_and_column_and_a_suggestion() {
        let err = parse("format_version = 1\n[[organizations]]\nname = \"x\"\ngroop = []\n", Path::new("s.toml"))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\n  s.toml:4:1: unknown field `groop`, expected one of `admins`, "), "{text}");
        assert!(text.ends_with("(did you mean `groups`?)"), "{text}");
    }

    #[test]
    fn every_shape_problem_is_reported_at_once_in_file_order() {
        let text = r#"format_version = 1
[migration]
deadline = 2025-03-31
shared_templates = "both"

[[organizations]]
groups = "raptix"
provisioner_tags = { cloud = 1 }

[[organizations]]
name = "ml"
group_sync = { mapping = {} }
"#;
        let err = parse(text, Path::new("split.toml")).unwrap_err();
        let crate::error::Error::Inputs { diagnostics, .. } = &err else { panic!("{err}") };
        let have: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
        let want = [
            "split.toml:3:12: `migration.deadline` must be a string, not a date \
             (write dates as strings: `deadline = \"2025-03-31\"`)",
            "split.toml:4:20: unknown value `both` for `migration.shared_templates`, expected `duplicate` or `keep-in-default`",
            "split.toml:7:10: `organizations[0].groups` must be an array, not a string",
            "split.toml:8:30: `organizations[0].provisioner_tags.cloud` must be a string, not an integer",
            "split.toml:12:14: missing field `field` in `organizations[1].group_sync`",
        ];
        assert_eq!(have, want);
    }

    #[test]
    fn wrong_version_and_syntax_errors_are_located() {
        let err = parse("format_version = 2\n", Path::new("s.toml")).unwrap_err().to_string();
        assert!(err.contains("s.toml:1:18: unknown split format_version 2"), "{err}");
        let err = parse("format_version = 1\n[[organizations]\n", Path::new("s.toml")).unwrap_err().to_string();
        assert!(err.starts_with("s.toml:2:"), "{err}");
        let err = parse("name = \"x\"\n", Path::new("s.toml")).unwrap_err().to_string();
        assert!(err.contains("s.toml:1:1: missing field `format_version` in the file"), "{err}");
    }

    #[test]
    fn document_points_semantic_problems_at_values() {
        let text = "format_version = 1\n[[organizations]]\nname = \"a\"\ngroups = [\"x\", \"nope\"]\n";
        let doc = load(text, Path::new("s.toml")).unwrap();
        let path = [Seg::from("organizations"), 0.into(), "groups".into(), 1.into()];
        assert_eq!(doc.diagnostic(&path, "unknown group").to_string(), "s.toml:4:16: unknown group");
    }
}
