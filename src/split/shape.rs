//! The split file's shape, checked against its own JSON Schema (from
//! schemars, so a field added to the types is known here at once): unknown
//! fields, wrong types, missing fields and unknown enum values, every one of
//! them at once with its position, into the [`Doc`] every TOML reader of
//! orgsplit reports to. serde alone stops at the first.

use serde_json::Value as Json;
use toml::Spanned;
use toml::de::DeValue;

use super::spans::{PathDisplay, Seg};
use crate::error::Diagnostic;
use crate::tomlread::{Doc, did_you_mean};

/// Check the document's shape against `schema`, each problem into `doc`.
pub fn check(doc: &mut Doc<'_>, root: &Spanned<DeValue<'_>>, schema: &Json) {
    let mut c = Checker { defs: schema.get("$defs").cloned().unwrap_or(Json::Null), doc };
    c.value(root, schema, &mut Vec::new());
}

struct Checker<'d, 't> {
    defs: Json,
    doc: &'d mut Doc<'t>,
}

fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "string",
        DeValue::Integer(_) => "integer",
        DeValue::Float(_) => "number",
        DeValue::Boolean(_) => "boolean",
        DeValue::Datetime(_) => "date",
        DeValue::Array(_) => "array",
        DeValue::Table(_) => "table",
    }
}

fn article(kind: &str) -> String {
    match kind {
        "object" | "table" => "a table".into(),
        "array" => "an array".into(),
        "integer" => "an integer".into(),
        "null" => "nothing".into(),
        other => format!("a {other}"),
    }
}

impl Checker<'_, '_> {
    /// The schema itself, or the definition it refers to (owned: the
    /// checker records problems while it holds it).
    fn resolve(&self, schema: &Json) -> Json {
        match schema.get("$ref").and_then(Json::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            Some(name) => self.defs.get(name).unwrap_or(schema).clone(),
            None => schema.clone(),
        }
    }

    fn problem(&mut self, offset: usize, message: String, help: Option<String>) {
        self.doc.problem_at(offset, message, help);
    }

    fn value(&mut self, v: &Spanned<DeValue<'_>>, schema: &Json, path: &mut Vec<Seg>) {
        let schema = self.resolve(schema);
        if let Some(alternatives) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Json::as_array) {
            return self.alternatives(v, alternatives, path);
        }
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Json::String(t) => vec![t.as_str()],
                Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
                _ => vec![],
            };
            let found = kind(v.get_ref());
            let fits = allowed
                .iter()
                .any(|t| *t == found || (*t == "object" && found == "table") || (*t == "number" && found == "integer"));
            if !fits {
                let expected: Vec<String> = allowed.iter().filter(|t| **t != "null").map(|t| article(t)).collect();
                let help = (found == "date").then(|| "write dates as strings: `deadline = \"2025-03-31\"`".to_string());
                let at = PathDisplay(path);
                let message = format!("`{at}` must be {}, not {}", expected.join(" or "), article(found));
                return self.problem(v.span().start, message, help);
            }
        }
        if let (Some(c), DeValue::String(s)) = (schema.get("const").and_then(Json::as_str), v.get_ref())
            && c != s.as_ref()
        {
            self.problem(v.span().start, format!("expected `{c}`, found `{s}`"), None);
        }
        if let (Some(min), DeValue::Integer(i)) = (schema.get("minimum").and_then(Json::as_i64), v.get_ref())
            && i.as_str().parse::<i64>().is_ok_and(|n| n < min)
        {
            self.problem(v.span().start, format!("`{}` must be at least {min}", PathDisplay(path)), None);
        }
        match v.get_ref() {
            DeValue::Table(table) => self.table(v.span().start, table, &schema, path),
            DeValue::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        path.push(Seg::Index(i));
                        self.value(item, item_schema, path);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn alternatives(&mut self, v: &Spanned<DeValue<'_>>, alternatives: &[Json], path: &mut Vec<Seg>) {
        let resolved: Vec<Json> = alternatives.iter().map(|a| self.resolve(a)).collect();
        let consts: Vec<&str> = resolved.iter().filter_map(|a| a.get("const").and_then(Json::as_str)).collect();
        if !consts.is_empty() && consts.len() == alternatives.len() {
            let found = match v.get_ref() {
                DeValue::String(s) => s.to_string(),
                other => {
                    return self.problem(
                        v.span().start,
                        format!("expected a string, not {}", article(kind(other))),
                        None,
                    );
                }
            };
            if !consts.contains(&found.as_str()) {
                let expected: Vec<String> = consts.iter().map(|c| format!("`{c}`")).collect();
                let message =
                    format!("unknown value `{found}` for `{}`, expected {}", PathDisplay(path), expected.join(" or "));
                self.problem(v.span().start, message, None);
            }
            return;
        }
        // TOML has no null, so an optional value is checked against its one real alternative;
        // with several, the one with the fewest problems speaks.
        let mut best: Option<Vec<Diagnostic>> = None;
        for alt in resolved.iter().filter(|a| a.get("type") != Some(&Json::from("null"))) {
            let saved = std::mem::take(&mut self.doc.problems);
            self.value(v, alt, path);
            let found = std::mem::replace(&mut self.doc.problems, saved);
            if found.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        self.doc.problems.extend(best.unwrap_or_default());
    }

    fn table(&mut self, start: usize, table: &toml::de::DeTable<'_>, schema: &Json, path: &mut Vec<Seg>) {
        let properties = schema.get("properties").and_then(Json::as_object);
        let additional = schema.get("additionalProperties");
        for (k, v) in table.iter() {
            let key = k.get_ref().to_string();
            path.push(Seg::Key(key.clone()));
            match (properties.and_then(|p| p.get(&key)), additional) {
                (Some(s), _) => self.value(v, s, path),
                (None, Some(Json::Bool(false))) => {
                    let mut known: Vec<&String> = properties.map(|p| p.keys().collect()).unwrap_or_default();
                    known.sort();
                    let known: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                    let message = format!("unknown field `{key}`, expected one of {}", known.join(", "));
                    let help = did_you_mean(&key, properties.into_iter().flat_map(|p| p.keys().map(String::as_str)));
                    self.problem(k.span().start, message, help);
                }
                (None, Some(s)) if s.is_object() => self.value(v, s, path),
                (None, _) => {}
            }
            path.pop();
        }
        for required in schema.get("required").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str) {
            if table.get(required).is_none() {
                let within = if path.is_empty() { "the file".to_string() } else { format!("`{}`", PathDisplay(path)) };
                self.problem(start, format!("missing field `{required}` in {within}"), None);
            }
        }
    }
}
