//! A rule: one case of the best-practice page (or the maintenance-overhead
//! warning) as data. `load` reads rule files into these types.
//!
//! ```toml
//! id = "mergers-and-acquisitions"
//! title = "Mergers and acquisitions"
//! kind = "case"                      # or "warning"
//! verdict = "organization"           # cases only
//! case = "Raptix, a 180-person startup recently acquired by MegaCo, ..."
//! rationale = "..."
//! reference = "https://coder.com/docs/tutorials/best-practices/organizations"
//!
//! [[conditions]]
//! reason = "it has an independent cloud account"
//! fact = "own_cloud_accounts"
//! op = ">="
//! value = 1
//!
//! [[conditions]]
//! reason = "it is a company of its own"
//! required = false                   # supporting: adds to the score only
//! any = [{ fact = "acquired", op = "==", value = true }, { fact = "other_employer", op = "==", value = true }]
//! ```

use std::fmt;

use serde::Serialize;

use super::facts::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub kind: RuleKind,
    /// What a case recommends; warnings have none.
    pub verdict: Option<Verdict>,
    /// The situation, in the page's words.
    pub case: String,
    /// Why the verdict, in the page's words.
    pub rationale: String,
    pub reference: String,
    pub conditions: Vec<Condition>,
    /// `file:line:column` of the rule's id, for messages and `rules list`.
    pub defined_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Case,
    Warning,
}

/// The page's verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Organization,
    OrganizationWithWorkspaceProxies,
    SeparateTemplateOrGroups,
    ParametersDevContainersGroups,
    ProvisionersAndWorkspaceProxies,
}

pub const VERDICTS: &[(&str, Verdict, &str)] = &[
    ("organization", Verdict::Organization, "Organization"),
    (
        "organization-with-workspace-proxies",
        Verdict::OrganizationWithWorkspaceProxies,
        "Organization + workspace proxies",
    ),
    (
        "separate-template-or-groups",
        Verdict::SeparateTemplateOrGroups,
        "Not an organization: a separate template and/or groups",
    ),
    (
        "parameters-dev-containers-groups",
        Verdict::ParametersDevContainersGroups,
        "Not an organization: parameters, dev containers and/or groups",
    ),
    (
        "provisioners-and-workspace-proxies",
        Verdict::ProvisionersAndWorkspaceProxies,
        "Not an organization: provisioners and workspace proxies on one template",
    ),
];

impl Verdict {
    pub fn id(self) -> &'static str {
        VERDICTS.iter().find(|v| v.1 == self).map_or("", |v| v.0)
    }
    pub fn title(self) -> &'static str {
        VERDICTS.iter().find(|v| v.1 == self).map_or("", |v| v.2)
    }
    /// Whether the verdict is to create an organization.
    pub fn is_organization(self) -> bool {
        matches!(self, Verdict::Organization | Verdict::OrganizationWithWorkspaceProxies)
    }
}

/// One condition: a test (or several, any of which will do) with the reason it matters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    pub reason: String,
    /// Required conditions must all hold for the rule to apply; the others add to its score.
    pub required: bool,
    /// Any one of these holding makes the condition hold.
    pub any: Vec<Test>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Test {
    pub fact: String,
    pub op: Op,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

pub const OPS: &[(&str, Op)] =
    &[("==", Op::Eq), ("!=", Op::Ne), ("<", Op::Lt), ("<=", Op::Le), (">", Op::Gt), (">=", Op::Ge)];

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(OPS.iter().find(|o| o.1 == *self).map_or("?", |o| o.0))
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.fact, self.op, self.value)
    }
}

impl Op {
    /// Whether `have op want` holds. Ordering operators only apply to numbers
    /// (the loader refuses them on other kinds).
    pub fn holds(self, have: &Value, want: &Value) -> bool {
        match self {
            Op::Eq => have == want,
            Op::Ne => have != want,
            Op::Lt => have < want,
            Op::Le => have <= want,
            Op::Gt => have > want,
            Op::Ge => have >= want,
        }
    }
}
