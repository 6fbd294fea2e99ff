//! People attributes from a CSV exported from an HR system or the IdP.
//!
//! The header names the columns; the key column is `username` (preferred) or
//! `email` (case-insensitive). Every other column is an attribute. Rows that
//! match no user are reported, never silently dropped.

use std::collections::BTreeMap;

use crate::error::Diagnostic;
use crate::model::{Index, People, PersonRecord, Warning};

/// Parse `bytes` (the CSV) against the snapshot's users. `name` is used in
/// messages; the snapshot records only the file's own name.
pub fn read_people(name: &str, bytes: &[u8], index: &Index) -> Result<(People, Vec<Warning>), Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // Excel writes a BOM
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let mut lines = Lines { bytes, byte: 0, line: 1 };
    let headers = reader.headers().map_err(|e| csv_error(name, &e, &mut lines))?.clone();
    let columns: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    if columns.iter().all(String::is_empty) {
        return Err(Diagnostic::new(name, "the file is empty: expected a header row")
            .at(1, 1)
            .help("the first row names the columns, one of them `username` or `email`"));
    }
    let find = |key: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(key));
    let (key_index, key_column) = match (find("username"), find("email")) {
        (Some(i), _) => (i, "username"),
        (None, Some(i)) => (i, "email"),
        (None, None) => {
            return Err(Diagnostic::new(
                name,
                format!(
                    "no key column: the header needs a `username` or `email` column (found: {})",
                    columns.join(", ")
                ),
            )
            .at(1, 1)
            .help("rename the column that holds Coder usernames to `username`"));
        }
    };
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| csv_error(name, &e, &mut lines))?;
        let line = row.position().map_or(0, |p| lines.at(p));
        let key = row.get(key_index).unwrap_or_default().trim();
        if key.is_empty() {
            warnings
                .push(Warning::new("unmatched-person", format!("`{name}`:{line}: the `{key_column}` cell is empty")));
            continue;
        }
        let user = match key_column {
            "username" => index.user_by_name.get(key).copied(),
            _ => index.user_by_email.get(&key.to_lowercase()).copied(),
        };
        let Some(user) = user else {
            warnings.push(Warning::new(
                "unmatched-person",
                format!("`{name}`:{line}: no user with {key_column} `{key}` in the snapshot"),
            ));
            continue;
        };
        if let Some(first) = seen.insert(user.id.clone(), line) {
            warnings.push(Warning::new(
                "duplicate-person",
                format!("`{name}`:{line}: `{key}` already appeared on line {first}; using line {line}"),
            ));
            records.retain(|r: &PersonRecord| r.user_id != user.id);
        }
        let attributes = columns
            .iter()
            .zip(row.iter())
            .enumerate()
            .filter(|(i, (_, v))| *i != key_index && !v.trim().is_empty())
            .map(|(_, (c, v))| (c.clone(), v.trim().to_string()))
            .collect();
        records.push(PersonRecord { user_id: user.id.clone(), username: user.username.clone(), attributes, line });
    }
    let people = People {
        source: file_name(name),
        key_column: key_column.to_string(),
        columns: columns.iter().enumerate().filter(|(i, _)| *i != key_index).map(|(_, c)| c.clone()).collect(),
        records,
    };
    Ok((people, warnings))
}

fn file_name(name: &str) -> String {
    std::path::Path::new(name).file_name().map_or(name.to_string(), |n| n.to_string_lossy().into_owned())
}

/// The physical line of a record's first character. The csv crate's
/// `Position::line` is too early after a quoted field that spans lines or a
/// blank line, and its byte offset may point at the line break that ends the
/// previous line (`\r\n`, blank lines); so count the line breaks before the
/// first byte of the record that is not one.
struct Lines<'a> {
    bytes: &'a [u8],
    /// Where the last count stopped, and the line there (records come in order).
    byte: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, p: &csv::Position) -> u64 {
        let mut to = (p.byte() as usize).min(self.bytes.len());
        while matches!(self.bytes.get(to), Some(b'\r' | b'\n')) {
            to += 1;
        }
        if to < self.byte {
            self.byte = 0;
            self.line = 1;
        }
        self.line += memchr::memchr_iter(b'\n', &self.bytes[self.byte..to]).count() as u64;
        self.byte = to;
        self.line
    }
}

fn csv_error(name: &str, e: &csv::Error, lines: &mut Lines) -> Diagnostic {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            let line = pos.as_ref().map_or(0, |p| lines.at(p) as usize);
            Diagnostic::new(name, format!("this row has {len} fields but the header has {expected_len}"))
                .at(line, 1)
                .help("a value containing a comma must be quoted: \"Smith, Jane\"")
        }
        csv::ErrorKind::Utf8 { pos, err } => {
            let line = pos.as_ref().map_or(0, |p| lines.at(p) as usize);
            Diagnostic::new(name, format!("field {} is not valid UTF-8", err.field() + 1))
                .at(line, 1)
                .help("save the file as UTF-8")
        }
        _ => {
            let line = e.position().map_or(0, |p| lines.at(p) as usize);
            Diagnostic::new(name, e.to_string()).at(line, 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Snapshot, User};

    fn snapshot() -> Snapshot {
        Snapshot {
            users: vec![
                User {
                    id: "1".into(),
                    username: "amy".into(),
                    email: "Amy@MegaCo.example".into(),
                    ..Default::default()
                },
                User { id: "2".into(), username: "bo".into(), email: "bo@megaco.example".into(), ..Default::default() },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn reads_attributes_by_username_and_reports_unmatched_rows() {
        let s = snapshot();
        let idx = Index::new(&s);
        let csv = "\u{feff}Username,department,region\namy,payments,us-east\nzoe,ml,emea\nbo,,apac\n";
        let (p, w) = read_people("hr/people.csv", csv.as_bytes(), &idx).unwrap();
        assert_eq!(p.source, "people.csv");
        assert_eq!(p.key_column, "username");
        assert_eq!(p.columns, ["department", "region"]);
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[0].attributes["department"], "payments");
        assert!(!p.records[1].attributes.contains_key("department"), "empty cells are unknown, not empty strings");
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("hr/people.csv`:3: no user with username `zoe`"), "{}", w[0].message);
    }

    #[test]
    fn warnings_name_the_physical_line_after_a_field_that_spans_lines() {
        let s = snapshot();
        let idx = Index::new(&s);
        let csv = "username,notes\namy,\"first line\nsecond line\nthird\"\nzoe,x\r\n\"bo\",\"a\r\nb\"\n\nnobody,y\n";
        let (p, w) = read_people("p.csv", csv.as_bytes(), &idx).unwrap();
        assert_eq!(p.records[0].line, 2);
        assert_eq!(p.records[1].line, 6, "bo's record starts on line 6");
        let lines: Vec<&str> = w.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            lines,
            [
                "`p.csv`:5: no user with username `zoe` in the snapshot",
                "`p.csv`:9: no user with username `nobody` in the snapshot"
            ]
        );
        // What Excel writes: CRLF line ends, a cell on two lines.
        let excel = "\u{feff}username,notes\r\namy,\"a\r\nb\"\r\nzoe,x\r\n";
        let (p, w) = read_people("p.csv", excel.as_bytes(), &idx).unwrap();
        assert_eq!(p.records[0].line, 2);
        assert_eq!(w[0].message, "`p.csv`:4: no user with username `zoe` in the snapshot");
    }

    #[test]
    fn email_key_is_case_insensitive() {
        let s = snapshot();
        let idx = Index::new(&s);
        let (p, w) = read_people("p.csv", b"email,employer\namy@megaco.example,MegaCo\n", &idx).unwrap();
        assert!(w.is_empty());
        assert_eq!(p.records[0].username, "amy");
    }

    #[test]
    fn missing_key_column_is_an_error_naming_the_columns() {
        let s = snapshot();
        let idx = Index::new(&s);
        let err = read_people("p.csv", b"name,department\nAmy,x\n", &idx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.csv:1:1: no key column: the header needs a `username` or `email` column (found: name, department) \
             (rename the column that holds Coder usernames to `username`)"
        );
    }

    #[test]
    fn wrong_field_count_names_the_line() {
        let s = snapshot();
        let idx = Index::new(&s);
        let err = read_people("p.csv", b"username,a,b\namy,1,2\nbo,1\n", &idx).unwrap_err();
        assert!(err.to_string().starts_with("p.csv:3:1: this row has 2 fields but the header has 3"), "{err}");
        let err = read_people("p.csv", b"username,a,b\namy,\"1\n1\",2\nbo,1\n", &idx).unwrap_err();
        assert!(err.to_string().starts_with("p.csv:4:1: this row has 2 fields"), "after a field on two lines: {err}");
    }
}
