//! The one way orgsplit reports every problem of a hand-written TOML file at
//! once, each as `file:line:column: message (help)` (serde stops at the
//! first): a [`Doc`] collects them. Rule and candidates files are read field
//! by field through [`Table`]; the split file's shape is checked against its
//! JSON Schema (`split/shape.rs`) into the same `Doc`. Near misses get the
//! same "did you mean" from [`suggest`] everywhere.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Diagnostic, Error};
use crate::split::line_column;

/// One file being read: its path (for messages), text, and the problems found so far.
pub struct Doc<'t> {
    pub path: String,
    pub text: &'t str,
    pub problems: Vec<Diagnostic>,
}

/// A string value with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    pub span: Range<usize>,
}

/// A table being read: each `take_*` marks a key as known; `finish` reports the rest.
pub struct Table<'a, 'i> {
    table: &'a DeTable<'i>,
    span: Range<usize>,
    seen: Vec<&'static str>,
}

impl<'t> Doc<'t> {
    pub fn new(path: impl Into<String>, text: &'t str) -> Doc<'t> {
        Doc { path: path.into(), text, problems: Vec::new() }
    }

    /// Parse the text; a syntax error is recorded and `None` returned.
    pub fn parse(&mut self) -> Option<Spanned<DeTable<'t>>> {
        match DeTable::parse(self.text) {
            Ok(t) => Some(t),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim_end().to_string();
                self.problem(span, message, "fix the TOML syntax");
                None
            }
        }
    }

    pub fn problem(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        self.problem_at(span.start, message, Some(help.into()));
    }

    /// A problem at a byte offset, with or without help.
    pub fn problem_at(&mut self, offset: usize, message: impl Into<String>, help: Option<String>) {
        let (line, column) = line_column(self.text, offset);
        let d = Diagnostic::new(&self.path, message).at(line, column);
        self.problems.push(match help {
            Some(help) => d.help(help),
            None => d,
        });
    }

    /// The problems found, in the file's order, as one error about `what`;
    /// `Ok` when there are none.
    pub fn into_result(mut self, what: &str) -> Result<(), Error> {
        if self.problems.is_empty() {
            return Ok(());
        }
        self.problems.sort_by_key(|d| (d.line, d.column));
        Err(Error::Inputs { what: what.into(), diagnostics: self.problems })
    }

    /// `file:line` of a position, for evidence and "also defined at".
    pub fn location(&self, span: &Range<usize>) -> String {
        let (line, column) = line_column(self.text, span.start);
        format!("{}:{line}:{column}", self.path)
    }
}

impl<'a, 'i> Table<'a, 'i> {
    pub fn new(table: &'a DeTable<'i>, span: Range<usize>) -> Table<'a, 'i> {
        Table { table, span, seen: Vec::new() }
    }

    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    pub fn get(&mut self, key: &'static str) -> Option<&'a Spanned<DeValue<'i>>> {
        if !self.seen.contains(&key) {
            self.seen.push(key);
        }
        self.table.get(key)
    }

    /// A string; `None` (with a problem if present with another type).
    pub fn string(&mut self, doc: &mut Doc, key: &'static str) -> Option<At<String>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(At { value: s.to_string(), span: v.span() }),
            other => {
                doc.problem(v.span(), wrong_type(key, "a string", other), format!("write `{key} = \"...\"`"));
                None
            }
        }
    }

    /// A required string: missing is a problem at the table.
    pub fn required_string(&mut self, doc: &mut Doc, key: &'static str, what: &str) -> Option<At<String>> {
        if self.table.get(key).is_none() {
            self.get(key);
            doc.problem(self.span.clone(), format!("missing field `{key}`"), format!("add `{key} = \"...\"`: {what}"));
            return None;
        }
        self.string(doc, key)
    }

    pub fn bool(&mut self, doc: &mut Doc, key: &'static str) -> Option<bool> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                doc.problem(v.span(), wrong_type(key, "true or false", other), format!("write `{key} = true`"));
                None
            }
        }
    }

    /// A list of strings (each with its position).
    pub fn strings(&mut self, doc: &mut Doc, key: &'static str) -> Vec<At<String>> {
        let Some(v) = self.get(key) else { return Vec::new() };
        let DeValue::Array(items) = v.get_ref() else {
            doc.problem(
                v.span(),
                wrong_type(key, "a list of strings", v.get_ref()),
                format!("write `{key} = [\"...\"]`"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(At { value: s.to_string(), span: item.span() }),
                other => doc.problem(item.span(), wrong_type(key, "a list of strings", other), "quote each name"),
            }
        }
        out
    }

    /// A table of string lists (`claims = { memberOf = ["a"] }`).
    pub fn string_lists(&mut self, doc: &mut Doc, key: &'static str) -> Vec<(At<String>, Vec<At<String>>)> {
        let Some(v) = self.get(key) else { return Vec::new() };
        let DeValue::Table(t) = v.get_ref() else {
            let help = format!("write `{key} = {{ column = [\"value\"] }}`");
            doc.problem(v.span(), wrong_type(key, "a table of lists", v.get_ref()), help);
            return Vec::new();
        };
        let mut inner = Table::new(t, v.span());
        let mut out = Vec::new();
        for (k, _) in t.iter() {
            let name = At { value: k.get_ref().to_string(), span: k.span() };
            let values = inner.strings_dynamic(doc, k.get_ref());
            out.push((name, values));
        }
        out
    }

    fn strings_dynamic(&mut self, doc: &mut Doc, key: &str) -> Vec<At<String>> {
        let Some(v) = self.table.get(key) else { return Vec::new() };
        match v.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::String(s) => Some(At { value: s.to_string(), span: item.span() }),
                    other => {
                        doc.problem(item.span(), wrong_type(key, "a list of strings", other), "quote each value");
                        None
                    }
                })
                .collect(),
            other => {
                doc.problem(
                    v.span(),
                    wrong_type(key, "a list of strings", other),
                    format!("write `{key} = [\"...\"]`"),
                );
                Vec::new()
            }
        }
    }

    /// An array of tables (`[[conditions]]` or `conditions = [{...}]`).
    pub fn tables(&mut self, doc: &mut Doc, key: &'static str) -> Vec<Table<'a, 'i>> {
        let Some(v) = self.get(key) else { return Vec::new() };
        let DeValue::Array(items) = v.get_ref() else {
            doc.problem(
                v.span(),
                wrong_type(key, "a list of tables", v.get_ref()),
                format!("write `[[{key}]]` sections"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::Table(t) => out.push(Table::new(t, item.span())),
                other => doc.problem(item.span(), wrong_type(key, "a list of tables", other), "write `{ ... }` items"),
            }
        }
        out
    }

    /// Report every key not taken, with the expected ones.
    pub fn finish(self, doc: &mut Doc, context: &str) {
        for (k, _) in self.table.iter() {
            let name: &str = k.get_ref();
            if !self.seen.contains(&name) {
                let expected = self.seen.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
                let suggestion = suggest(name, self.seen.iter().copied())
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                doc.problem(
                    k.span(),
                    format!("unknown field `{name}` in {context}"),
                    format!("{suggestion}expected one of {expected}"),
                );
            }
        }
    }
}

/// "`value` must be a number, found a string".
pub fn wrong_type(key: &str, expected: &str, found: &DeValue) -> String {
    format!("`{key}` must be {expected}, found {}", type_name(found))
}

pub fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// "did you mean `x`?" for a name close to a known one (see [`suggest`]).
pub fn did_you_mean<'n>(name: &str, known: impl IntoIterator<Item = &'n str>) -> Option<String> {
    suggest(name, known).map(|k| format!("did you mean `{k}`?"))
}

/// The closest known name, if it is close enough to be a likely typo: among
/// names at most half different (Damerau-Levenshtein), the one sharing the
/// longest prefix with it, then the least different.
pub fn suggest<'n>(name: &str, known: impl IntoIterator<Item = &'n str>) -> Option<&'n str> {
    let prefix = |k: &str| name.chars().zip(k.chars()).take_while(|(a, b)| a == b).count();
    known
        .into_iter()
        .map(|k| (prefix(k), strsim::normalized_damerau_levenshtein(name, k), k))
        .filter(|(_, similarity, _)| *similarity >= 0.5)
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then_with(|| b.2.cmp(a.2)))
        .map(|(_, _, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_wrong_types_are_all_reported_with_positions() {
        let text = "title = 3\ntitel = \"x\"\nnames = [\"a\", 2]\n";
        let mut doc = Doc::new("r.toml", text);
        let root = doc.parse().unwrap();
        let mut t = Table::new(root.get_ref(), root.span());
        assert_eq!(t.string(&mut doc, "title"), None);
        let names = t.strings(&mut doc, "names");
        assert_eq!(names.len(), 1);
        t.finish(&mut doc, "a rule");
        let got: Vec<String> = doc.problems.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            got,
            [
                "r.toml:1:9: `title` must be a string, found an integer (write `title = \"...\"`)",
                "r.toml:3:15: `names` must be a list of strings, found an integer (quote each name)",
                "r.toml:2:1: unknown field `titel` in a rule (did you mean `title`? expected one of `title`, `names`)",
            ]
        );
    }

    #[test]
    fn syntax_error_has_a_position() {
        let mut doc = Doc::new("r.toml", "id = \"x\"\nbroken =\n");
        assert!(doc.parse().is_none());
        assert!(doc.problems[0].to_string().starts_with("r.toml:2:"), "{}", doc.problems[0]);
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        assert_eq!(suggest("own_cloud_acounts", ["own_cloud_accounts", "members"]), Some("own_cloud_accounts"));
        assert_eq!(suggest("zebra", ["own_cloud_accounts", "members"]), None);
        assert_eq!(
            suggest("own_clouds", ["own_modules", "own_clusters", "own_cloud_accounts"]),
            Some("own_cloud_accounts")
        );
        assert_eq!(suggest("raptx", ["ml", "raptix", "payments"]), Some("raptix"));
    }
}
