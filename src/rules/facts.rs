//! The facts rules are written over: a closed catalogue (name, type, what it
//! means), and a candidate's value for each, with its evidence and whether it
//! was derived from the snapshot or declared in a candidates file.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// The type of a fact's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Bool,
    Number,
    Text,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Bool => "true or false",
            Kind::Number => "a whole number",
            Kind::Text => "a string",
        }
    }
}

/// A fact's value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Number(i64),
    Text(String),
}

impl Value {
    pub fn kind(&self) -> Kind {
        match self {
            Value::Bool(_) => Kind::Bool,
            Value::Number(_) => Kind::Number,
            Value::Text(_) => Kind::Text,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::Text(s) => write!(f, "\"{s}\""),
        }
    }
}

/// One entry of the catalogue.
pub struct Def {
    pub name: &'static str,
    pub kind: Kind,
    /// What it means, and how it is derived (or that only a person can declare it).
    pub means: &'static str,
    /// False for facts no export shows: only a candidates file can declare them.
    pub derived: bool,
}

const fn def(name: &'static str, kind: Kind, means: &'static str) -> Def {
    Def { name, kind, means, derived: true }
}

const fn declared(name: &'static str, means: &'static str) -> Def {
    Def { name, kind: Kind::Bool, means, derived: false }
}

/// Every fact a rule may test. "Dedicated" templates are those whose users are
/// mostly (more than half) the candidate's members; "own" infrastructure is
/// found in the candidate's dedicated templates and in no other template.
pub const CATALOGUE: &[Def] = &[
    def("members", Kind::Number, "users in the candidate"),
    def("active_members", Kind::Number, "members whose status is active"),
    def("inactive_members", Kind::Number, "members who are suspended or dormant"),
    def(
        "templates_used",
        Kind::Number,
        "templates its members have live workspaces on, or are granted by name or group in the template's ACL (Everyone aside)",
    ),
    def(
        "dedicated_templates",
        Kind::Number,
        "its own templates: more than half of the template's users are its members, with a lift of 2 over its share \
         of the deployment; never a central template (used by half the deployment, or across 3 departments with none holding half its users) nor a \
         variant of another (see `orgsplit rules explain`)",
    ),
    def("own_templates", Kind::Number, "dedicated templates written (created) by one of its members"),
    def(
        "central_dedicated_templates",
        Kind::Number,
        "dedicated templates written by someone outside it, such as the central platform team",
    ),
    def(
        "shared_templates",
        Kind::Number,
        "templates it uses that are dedicated to no candidate (deployment-wide templates)",
    ),
    def(
        "shared_workspace_share",
        Kind::Number,
        "percent of its members' live workspaces on templates that people outside it also use",
    ),
    def(
        "own_platform_team",
        Kind::Bool,
        "its members wrote templates that are its own (dedicated), or it is the central platform team: the smallest \
         candidate holding the author of a central template (nobody's own, not a variant); writing a variant, or \
         being a larger group around the central team, is not",
    ),
    def(
        "variant_templates",
        Kind::Number,
        "templates it uses that repeat another template's source except for defaults, tags and names (they inherit \
         that template's infrastructure)",
    ),
    def(
        "own_cloud_accounts",
        Kind::Number,
        "cloud accounts (AWS accounts, GCP projects, Azure subscriptions) in its dedicated templates' sources only",
    ),
    def("own_clusters", Kind::Number, "Kubernetes clusters in its dedicated templates' sources only"),
    def("own_namespaces", Kind::Number, "Kubernetes namespaces in its dedicated templates' sources only"),
    def("own_images", Kind::Number, "container and VM images in its dedicated templates' sources only"),
    def(
        "own_modules",
        Kind::Number,
        "private Terraform modules (not from a public registry) in its dedicated templates' sources only",
    ),
    def("own_regions", Kind::Number, "cloud regions in its dedicated templates' sources only"),
    def(
        "own_providers",
        Kind::Number,
        "Terraform providers (google, helm, ...) in its dedicated templates' sources only",
    ),
    def("gpu_templates", Kind::Number, "dedicated templates that request GPUs"),
    def("vm_templates", Kind::Number, "dedicated templates that run virtual machines"),
    def(
        "restricted_templates",
        Kind::Number,
        "dedicated templates whose ACL lets only its members use them (no Everyone group)",
    ),
    def(
        "dedicated_provisioner_tags",
        Kind::Number,
        "provisioner tags (other than owner and scope) on its dedicated templates' active versions and on no other template",
    ),
    def(
        "idp_synced",
        Kind::Bool,
        "its members come from the identity provider: groups with source oidc, or an IdP claim",
    ),
    def("dominant_region", Kind::Text, "the most common `region` people attribute among its members"),
    def("region_share", Kind::Number, "percent of its members (with a people record) in the dominant region"),
    def("regions", Kind::Number, "distinct `region` values among its members"),
    def("deployment_regions", Kind::Number, "distinct `region` values among all the deployment's people"),
    def("away_from_main_region", Kind::Bool, "its dominant region is not the deployment's most common region"),
    def(
        "region_has_proxy",
        Kind::Bool,
        "a workspace proxy (by name or display name) serves its dominant region, or it is the main region",
    ),
    def("department_share", Kind::Number, "percent of its members in their most common `department`"),
    def("dominant_employer", Kind::Text, "the most common `employer` people attribute among its members"),
    def("other_employer", Kind::Bool, "its dominant employer is not the deployment's most common employer"),
    def("contractor_share", Kind::Number, "percent of its members whose `contractor` attribute is yes"),
    declared("acquired", "it is a company that was acquired (no export shows this: declare it)"),
    declared("data_sovereignty", "rules require its data to stay in a jurisdiction (declare it)"),
    declared("privacy_concerns", "its access to code and data must be kept apart for privacy (declare it)"),
];

pub fn lookup(name: &str) -> Option<&'static Def> {
    CATALOGUE.iter().find(|d| d.name == name)
}

/// Where a candidate's fact value came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Derived,
    Declared,
}

/// One line of evidence: what was seen, and where (`file:line`) when known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Evidence {
    pub fn new(text: impl Into<String>) -> Evidence {
        Evidence { text: text.into(), at: None }
    }
    pub fn at(text: impl Into<String>, at: impl Into<String>) -> Evidence {
        Evidence { text: text.into(), at: Some(at.into()) }
    }
}

/// A candidate's value for one fact. `value` is `None` when the snapshot
/// cannot say (no people attributes, no template sources) and nobody declared it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub value: Option<Value>,
    pub origin: Origin,
    pub evidence: Vec<Evidence>,
    /// Why the value is unknown, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

impl Fact {
    pub fn derived(value: Value, evidence: Vec<Evidence>) -> Fact {
        Fact { value: Some(value), origin: Origin::Derived, evidence, unknown: None }
    }
    pub fn unknown(why: impl Into<String>) -> Fact {
        Fact { value: None, origin: Origin::Derived, evidence: Vec::new(), unknown: Some(why.into()) }
    }
}

/// A candidate's facts, by name.
pub type Facts = BTreeMap<String, Fact>;

/// At most `max` names, then "and N more", for evidence lines.
pub fn sample<S: AsRef<str>>(names: &[S], max: usize) -> String {
    let mut out: Vec<String> = names.iter().take(max).map(|n| format!("`{}`", n.as_ref())).collect();
    if names.len() > max {
        out.push(format!("and {} more", names.len() - max));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_names_are_unique_snake_case() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|d| d.name).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')), "{names:?}");
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate fact names");
    }

    #[test]
    fn sample_says_how_many_were_left_out() {
        assert_eq!(sample(&["a", "b", "c"], 2), "`a`, `b`, and 1 more");
        assert_eq!(sample(&["a"], 2), "`a`");
    }
}
