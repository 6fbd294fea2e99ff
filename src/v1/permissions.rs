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
}
