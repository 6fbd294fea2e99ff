//! `--variables FILE`: values of sensitive template variables, which the
//! API redacts, given by the admin.

use std::collections::BTreeMap;
use std::path::Path;

use crate::coder::Secret;
use crate::error::{Error, Result};

/// `["org/template"]` tables of `name = "value"`. Values are secrets: an
/// error never repeats the file's content.
pub fn read_variables(path: Option<&Path>) -> Result<BTreeMap<String, BTreeMap<String, Secret>>> {
    let Some(path) = path else { return Ok(BTreeMap::new()) };
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    let parsed: BTreeMap<String, BTreeMap<String, String>> = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].lines().count().max(1));
        Error::Input(
            crate::error::Diagnostic::new(path, "not a variables file")
                .at(line, 1)
                .help("write one table per new template, `[\"org/template\"]`, holding `name = \"value\"` strings"),
        )
    })?;
    Ok(parsed.into_iter().map(|(t, vars)| (t, vars.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_files_are_read_and_their_errors_never_repeat_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("vars.toml");
        std::fs::write(&good, "[\"raptix/raptix-eks\"]\ndb_password = \"hunter2\"\n").unwrap();
        let vars = read_variables(Some(&good)).unwrap();
        assert_eq!(vars["raptix/raptix-eks"]["db_password"].expose(), "hunter2");
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[\"raptix/raptix-eks\"]\n\ndb_password = hunter2\n").unwrap();
        let e = read_variables(Some(&bad)).unwrap_err().to_string();
        assert!(e.contains("bad.toml:3:1: not a variables file"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(read_variables(None).unwrap().is_empty());
    }
}
