//! `orgsplit access`: for a Coder v1 deployment, who holds which
//! organization role (and so which permission matrix column), and the v2
//! role the v1 plan gives them; or the matrices themselves.

use crate::cli::{AccessArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::render::{self, Format};
use crate::v1::{self, permissions};

pub fn run(args: AccessArgs) -> Result<u8> {
    let matrices = permissions::matrices()?;
    let matrix = matrices
        .get(&args.matrix_version)
        .ok_or_else(|| Error::Bug(format!("no v1 matrix for {}", args.matrix_version)))?;
    let text = if args.matrix {
        render_matrix(matrix, &matrices.actions, args.output)?
    } else {
        let snap = load(args.snapshot.as_deref())?;
        render_access(&permissions::access(&snap), args.output)?
    };
    super::print(&text)?;
    super::OK
}

/// A v1 snapshot file, or the built-in MegaCo v1 example (said on stderr).
pub fn load(path: Option<&std::path::Path>) -> Result<v1::V1Snapshot> {
    match path {
        Some(path) => v1::V1Snapshot::from_json(&super::read_input(path)?, path),
        None => {
            super::note("no V1-SNAPSHOT given: using the built-in MegaCo v1 example");
            v1::fixture::builtin()
        }
    }
}

fn render_matrix(m: &permissions::Matrix, actions: &[String], format: OutputFormat) -> Result<String> {
    if format == OutputFormat::Json {
        return json(m);
    }
    let mut header = vec!["resource"];
    header.extend(actions.iter().map(String::as_str));
    let rows = m
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.resource.clone()];
            for a in actions {
                let who: Vec<&str> = [("G", &r.manager), ("M", &r.member)]
                    .iter()
                    .filter(|(_, has)| has.contains(a))
                    .map(|(w, _)| *w)
                    .collect();
                row.push(who.join(" "));
            }
            row
        })
        .collect();
    let f = Format::from(format);
    Ok(format!(
        "{}{}\nG = Organization Manager, M = Organization Member. Source: {}\n",
        render::heading(f, &format!("Coder v1 {} organization permissions", m.version)),
        render::table(f, &header, rows),
        m.source
    ))
}

fn render_access(rows: &[permissions::Access], format: OutputFormat) -> Result<String> {
    if format == OutputFormat::Json {
        return json(&rows);
    }
    let f = Format::from(format);
    let table_rows = rows
        .iter()
        .map(|a| {
            vec![
                a.organization.clone(),
                a.username.clone(),
                a.v1_roles.join(", "),
                a.matrix_role.to_string(),
                a.v2_role.to_string(),
                a.flag.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["v1 organization", "user", "v1 roles", "matrix column", "v2 role", "note"];
    Ok(format!("{}{}\n", render::heading(f, "Coder v1 access"), render::table(f, &header, table_rows)))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    let bytes = crate::json::pretty(value)?;
    String::from_utf8(bytes).map_err(|e| Error::Bug(format!("JSON is not UTF-8: {e}")))
}
