//! The v1 organization role permission matrices (`data/v1-permissions.toml`,
//! embedded): two versions, 1.15 (with Services) and 1.17 (without), and
//! who in a v1 snapshot holds which matrix role in which organization.

use serde::{Deserialize, Serialize};

use super::model::V1Snapshot;
use crate::error::{Diagnostic, Result};

const DATA: &str = include_str!("../../data/v1-permissions.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Matrices {
    pub actions: Vec<String>,
    pub matrix: Vec<Matrix>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Matrix {
    pub version: String,
    pub source: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub resource: String,
    pub manager: Vec<String>,
    pub member: Vec<String>,
}

/// The matrices, checked: every action is one of `actions`.
pub fn matrices() -> Result<Matrices> {
    let m: Matrices = toml::from_str(DATA)
        .map_err(|e| Diagnostic::new("data/v1-permissions.toml", format!("built-in data does not parse: {e}")))?;
    for matrix in &m.matrix {
        for row in &matrix.rows {
            if let Some(a) = row.manager.iter().chain(&row.member).find(|a| !m.actions.contains(a)) {
                return Err(crate::error::Error::Bug(format!(
                    "data/v1-permissions.toml: {} {}: unknown action `{a}`",
                    matrix.version, row.resource
                )));
            }
        }
    }
    Ok(m)
}

impl Matrices {
    /// The matrix of a version (`1.15`, `1.17`).
    pub fn get(&self, version: &str) -> Option<&Matrix> {
        self.matrix.iter().find(|m| m.version == version)
    }
}

/// One person's role in one v1 organization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Access {
    pub organization: String,
    pub username: String,
    /// The role strings as v1 recorded them.
    pub v1_roles: Vec<String>,
    /// `manager` or `member`: the matrix column that applies.
    pub matrix_role: &'static str,
    /// The v2 organization role the plan gives.
    pub v2_role: &'static str,
    /// Why the mapping needs a look (`organization-admin` is undocumented).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

/// Who holds which role where, sorted by organization then username.
pub fn access(s: &V1Snapshot) -> Vec<Access> {
    let mut out = Vec::new();
    for org in &s.organizations {
        for m in &org.members {
            let manager = m.organization_roles.iter().any(|r| r == "organization-manager" || r == "organization-admin");
            let flag = m
                .organization_roles
                .iter()
                .any(|r| r == "organization-admin")
                .then(|| "`organization-admin` is undocumented in v1; treated as Organization Manager".to_string());
            out.push(Access {
                organization: org.name.clone(),
                username: s.username(&m.id),
                v1_roles: m.organization_roles.clone(),
                matrix_role: if manager { "manager" } else { "member" },
                v2_role: if manager { "organization-admin" } else { "organization-member" },
                flag,
            });
        }
    }
    out.sort_by(|a, b| (&a.organization, &a.username).cmp(&(&b.organization, &b.username)));
    out
}

/// The matrix the plan compares with: the latest documented (1.17).
pub const LATEST: &str = "1.17";

/// How orgsplit reads Coder v2's built-in organization roles, per v1
/// resource: (v1 resource, its v2 counterpart or `None`, what
/// `organization-admin` allows, what a plain member allows), in the matrix's
/// action words. v2 has no registries or services: images name their
/// registry in the template, and credentials live in the cluster.
/// (v1 resource, v2 counterpart, `organization-admin`'s actions, a member's actions).
type V2Reading = (&'static str, Option<&'static str>, &'static [&'static str], &'static [&'static str]);

const V2_ROLES: &[V2Reading] = &[
    ("Dev URLs", Some("shared workspace ports"), &["read-all"], &["read-own"]),
    (
        "Environments",
        Some("workspaces"),
        &["create", "read-all", "read-own", "list", "delete-all", "delete-own", "update-all", "update-own"],
        &["create", "read-own", "list", "delete-own", "update-own"],
    ),
    ("Images", Some("templates"), &["create", "read-all", "list", "delete-all", "update-all"], &["read-all", "list"]),
    (
        "Image Tags",
        Some("template versions"),
        &["create", "read-all", "list", "delete-all", "update-all"],
        &["read-all", "list"],
    ),
    ("Metrics", Some("template insights"), &["read-all", "read-own"], &["read-own"]),
    (
        "Org Members",
        Some("organization members and groups"),
        &["create", "read-all", "list", "delete-all", "update-all"],
        &["read-all", "list"],
    ),
    ("Orgs", Some("the organization"), &["read-all", "list", "update-all"], &["read-all", "list"]),
    ("Registries", None, &[], &[]),
    ("Services", None, &[], &[]),
    ("System Banners", Some("announcement banners (deployment-wide)"), &["read-all"], &["read-all"]),
    ("Users", Some("users"), &["read-all", "read-own"], &["read-own"]),
];

/// Actions that let someone act on what others own or on the org itself.
const ADMIN_LIKE: &[&str] = &["create", "delete-all", "update-all"];

/// One resource where a person's v1 role and v2 role allow different things.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub v1_resource: String,
    /// The v2 counterpart; empty when v2 has none.
    pub v2_resource: String,
    /// Allowed in v1, not in v2.
    pub lost: Vec<String>,
    /// Allowed in v2, not in v1.
    pub gained: Vec<String>,
    /// A gain of an admin-like action (create, update-all, delete-all): listed first.
    pub admin_like_gain: bool,
}

/// Per resource, what the v1 matrix role (`manager` or member) allows that
/// its v2 role (`organization-admin` or member) does not, and the reverse:
/// admin-like gains first, then by resource.
pub fn differences(matrix: &Matrix, manager: bool) -> Vec<Difference> {
    let mut out = Vec::new();
    for row in &matrix.rows {
        let v1: &[String] = if manager { &row.manager } else { &row.member };
        let (v2_resource, v2): (&str, Vec<&str>) = match V2_ROLES.iter().find(|r| r.0 == row.resource) {
            Some((_, res, admin, member)) => {
                (res.unwrap_or(""), if manager { admin.to_vec() } else { member.to_vec() })
            }
            None => ("", Vec::new()),
        };
        let lost: Vec<String> = v1.iter().filter(|a| !v2.contains(&a.as_str())).cloned().collect();
        let gained: Vec<String> = v2.iter().filter(|a| !v1.iter().any(|b| b == *a)).map(|a| a.to_string()).collect();
        if lost.is_empty() && gained.is_empty() {
            continue;
        }
        out.push(Difference {
            v1_resource: row.resource.clone(),
            v2_resource: v2_resource.to_string(),
            admin_like_gain: gained.iter().any(|a| ADMIN_LIKE.contains(&a.as_str())),
            lost,
            gained,
        });
    }
    out.sort_by(|a, b| b.admin_like_gain.cmp(&a.admin_like_gain).then(a.v1_resource.cmp(&b.v1_resource)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_seed_matrices_load_and_only_1_15_has_services() {
        let m = matrices().unwrap();
        let has = |v: &str| m.get(v).unwrap().rows.iter().any(|r| r.resource == "Services");
        assert!(has("1.15"));
        assert!(!has("1.17"));
        let env = m.get("1.17").unwrap().rows.iter().find(|r| r.resource == "Environments").unwrap();
        assert!(env.manager.contains(&"delete-all".to_string()));
        assert!(!env.member.contains(&"delete-all".to_string()));
    }

    #[test]
    fn every_matrix_resource_has_a_v2_reading_and_differences_put_admin_gains_first() {
        let m = matrices().unwrap();
        for matrix in &m.matrix {
            for row in &matrix.rows {
                assert!(V2_ROLES.iter().any(|r| r.0 == row.resource), "{} has no v2 reading", row.resource);
            }
        }
        let manager = differences(m.get(LATEST).unwrap(), true);
        assert_eq!(manager[0].v1_resource, "Orgs", "{manager:?}");
        assert_eq!(manager[0].gained, ["update-all"]);
        let reg = manager.iter().find(|d| d.v1_resource == "Registries").unwrap();
        assert_eq!(reg.lost, ["create", "read-all", "delete-all", "update-all"]);
        assert!(reg.v2_resource.is_empty());
        let member = differences(m.get(LATEST).unwrap(), false);
        let env = member.iter().find(|d| d.v1_resource == "Environments").unwrap();
        assert_eq!(env.lost, ["read-all"], "v2 members do not see others' workspaces");
        assert!(member.iter().all(|d| !d.admin_like_gain), "a member gains nothing admin-like: {member:?}");
        let images = member.iter().find(|d| d.v1_resource == "Images").unwrap();
        assert_eq!(images.lost, ["create"]);
    }
}
