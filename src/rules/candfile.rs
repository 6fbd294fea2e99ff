//! The candidates file: candidates a person defines, and facts no export
//! shows, each with a justification; and rules suppressed for a candidate,
//! each with a written reason. Every problem (unknown group, user, fact or
//! rule, wrong type, missing reason) is reported at once with its position.
//!
//! ```toml
//! [[candidates]]
//! name = "raptix"                # no members named: the candidate `--by` derived
//!
//! [[candidates.declare]]
//! fact = "acquired"
//! value = true
//! because = "MegaCo acquired Raptix in 2024"
//!
//! [[candidates.suppress]]
//! rule = "maintenance-overhead"
//! because = "the security team runs its own provisioners"
//!
//! [[candidates]]
//! name = "apac"                  # members named: a new candidate (or replaces a derived one)
//! groups = ["contractors-apac"]
//! users = ["someone"]
//! claims = { memberOf = ["coder-apac"] }
//! people = { employer = ["Offshore Partners Ltd"] }
//! ```

use std::collections::{BTreeSet, HashSet};

use toml::de::DeValue;

use super::candidates::{Candidate, Declared, Selector, Suppression, attribute_values, existing, group_names};
use super::catalogue::Catalogue;
use super::facts::{self, Value};
use crate::error::{Error, Result};
use crate::model::Index;
use crate::tomlread::{At, Doc, Table, suggest, type_name};

/// Apply a candidates file to the derived candidates. Returns the candidates
/// and notes for the report (candidates the file replaced).
pub fn apply(
    path: &str,
    text: &str,
    index: &Index,
    catalogue: &Catalogue,
    mut candidates: Vec<Candidate>,
) -> Result<(Vec<Candidate>, Vec<String>)> {
    let mut doc = Doc::new(path, text);
    let mut notes = Vec::new();
    let Some(root) = doc.parse() else { return Err(fail(doc)) };
    let mut top = Table::new(root.get_ref(), root.span());
    let entries = top.tables(&mut doc, "candidates");
    top.finish(&mut doc, "a candidates file");
    let groups = group_names(index);
    let mut seen: HashSet<String> = HashSet::new();
    for mut t in entries {
        let Some(name) = t.required_string(&mut doc, "name", "the candidate's name") else { continue };
        if !seen.insert(name.value.clone()) {
            doc.problem(
                name.span.clone(),
                format!("candidate `{}` is listed twice", name.value),
                "merge the two entries",
            );
        }
        let display = t.string(&mut doc, "display_name");
        let group_names = t.strings(&mut doc, "groups");
        let user_names = t.strings(&mut doc, "users");
        let selector = Selector {
            groups: checked(&mut doc, group_names, "group", groups.keys().map(String::as_str)),
            users: checked(&mut doc, user_names, "user", index.user_by_name.keys().copied()),
            claims: read_attributes(&mut doc, &mut t, index, "claims", true),
            people: read_attributes(&mut doc, &mut t, index, "people", false),
        };
        let declared = read_declared(&mut doc, &mut t);
        let suppressed = read_suppressed(&mut doc, &mut t, catalogue);
        t.finish(&mut doc, "a candidate");
        let has_selector = !(selector.groups.is_empty()
            && selector.users.is_empty()
            && selector.claims.is_empty()
            && selector.people.is_empty());
        let slot = candidates.iter().position(|c| c.name == name.value);
        match (has_selector, slot) {
            (false, Some(i)) => {
                candidates[i].declared = declared;
                candidates[i].suppressed = suppressed;
                if let Some(d) = display {
                    candidates[i].display_name = d.value;
                }
            }
            (false, None) => doc.problem(
                name.span.clone(),
                format!("no candidate named `{}`", name.value),
                "name one that `--by` derives (by default a Coder group), or say who is in it with `groups`, `users`, `claims` or `people`",
            ),
            (true, slot) => {
                let members = members_of(index, &groups, &selector);
                if members.is_empty() {
                    doc.problem(name.span.clone(), format!("candidate `{}` has no members", name.value), "check its groups, users, claims and people");
                }
                if slot.is_some() {
                    notes.push(format!("candidate `{}` is defined by {path}, replacing the derived one", name.value));
                }
                let candidate = Candidate {
                    display_name: display.map_or(name.value.clone(), |d| d.value),
                    source: doc.location(&name.span),
                    name: name.value,
                    selector,
                    members,
                    declared,
                    suppressed,
                };
                match slot {
                    Some(i) => candidates[i] = candidate,
                    None => candidates.push(candidate),
                }
            }
        }
    }
    if !doc.problems.is_empty() {
        return Err(fail(doc));
    }
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((candidates, notes))
}

fn fail(doc: Doc) -> Error {
    doc.into_result("the candidates file").err().unwrap_or_else(|| Error::Bug("a failure without a problem".into()))
}

/// Keep the names that exist; report the others with a suggestion.
fn checked<'k>(
    doc: &mut Doc,
    names: Vec<At<String>>,
    what: &str,
    known: impl Iterator<Item = &'k str> + Clone,
) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        if known.clone().any(|k| k == n.value) {
            out.push(n.value);
        } else {
            let help = match suggest(&n.value, known.clone()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("`orgsplit inventory -o json` lists the snapshot's {what}s"),
            };
            doc.problem(n.span, format!("unknown {what} `{}`", n.value), help);
        }
    }
    out
}

fn read_attributes(
    doc: &mut Doc,
    t: &mut Table,
    index: &Index,
    key: &'static str,
    claim: bool,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    for (field, values) in t.string_lists(doc, key) {
        let known = match attribute_values(index.snapshot, &field.value, claim) {
            Ok(k) => k,
            Err(e) => {
                doc.problem(field.span, e, "name a column of the people CSV given to `orgsplit import --people`");
                continue;
            }
        };
        let mut kept = Vec::new();
        for v in values {
            if known.contains_key(&v.value) {
                kept.push(v.value);
            } else {
                let help = match suggest(&v.value, known.keys().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "check the value in the people CSV".to_string(),
                };
                doc.problem(v.span, format!("no user has `{}` = `{}`", field.value, v.value), help);
            }
        }
        out.insert(field.value, kept);
    }
    out
}

fn read_declared(doc: &mut Doc, t: &mut Table) -> Vec<Declared> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for mut d in t.tables(doc, "declare") {
        let fact = d.required_string(doc, "fact", "the name of a fact (see `orgsplit rules explain`)");
        let because = reason(doc, &mut d, "because", "why you know it: a justification the report shows");
        let value = d.get("value");
        let span = d.span();
        d.finish(doc, "a declared fact");
        let def = fact.as_ref().and_then(|f| {
            let def = facts::lookup(&f.value);
            if def.is_none() {
                let hint = suggest(&f.value, facts::CATALOGUE.iter().map(|d| d.name))
                    .map_or("`orgsplit rules explain ID` lists the facts a rule uses".to_string(), |s| {
                        format!("did you mean `{s}`?")
                    });
                doc.problem(f.span.clone(), format!("unknown fact `{}`", f.value), hint);
            }
            def
        });
        let Some(value) = value else {
            doc.problem(span, "missing field `value`", "add `value = ...`: the fact's value");
            continue;
        };
        let parsed = match value.get_ref() {
            DeValue::Boolean(b) => Some(Value::Bool(*b)),
            DeValue::Integer(i) => i.as_str().replace('_', "").parse::<i64>().ok().map(Value::Number),
            DeValue::String(s) => Some(Value::Text(s.to_string())),
            _ => None,
        };
        let (Some(def), Some(because), Some(at)) = (def, because, fact.as_ref().map(|f| doc.location(&f.span))) else {
            continue;
        };
        if let Some(f) = fact.as_ref().filter(|_| !seen.insert(def.name)) {
            doc.problem(
                f.span.clone(),
                format!("fact `{}` is declared twice for this candidate", def.name),
                "keep one",
            );
            continue;
        }
        match parsed.filter(|p| p.kind() == def.kind) {
            Some(v) => out.push(Declared { fact: def.name.to_string(), value: v, because, at }),
            None => doc.problem(
                value.span(),
                format!(
                    "`value` must be {} (the type of `{}`), found {}",
                    def.kind.describe(),
                    def.name,
                    type_name(value.get_ref())
                ),
                "write it as the fact's type",
            ),
        }
    }
    out
}

fn read_suppressed(doc: &mut Doc, t: &mut Table, catalogue: &Catalogue) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for mut s in t.tables(doc, "suppress") {
        let rule = s.required_string(doc, "rule", "the id of the rule to suppress");
        let because = reason(doc, &mut s, "because", "a rule can only be suppressed with a written reason");
        s.finish(doc, "a suppression");
        let Some(rule) = rule else { continue };
        if catalogue.get(&rule.value).is_none() {
            let hint = suggest(&rule.value, catalogue.rules.iter().map(|r| r.id.as_str()))
                .map_or("`orgsplit rules list` lists the rules".to_string(), |s| format!("did you mean `{s}`?"));
            doc.problem(rule.span, format!("unknown rule `{}`", rule.value), hint);
            continue;
        }
        if !seen.insert(rule.value.clone()) {
            doc.problem(rule.span, format!("rule `{}` is suppressed twice", rule.value), "keep one");
            continue;
        }
        if let Some(because) = because {
            out.push(Suppression { at: doc.location(&rule.span), rule: rule.value, because });
        }
    }
    out
}

/// A required, non-empty written reason.
fn reason(doc: &mut Doc, t: &mut Table, key: &'static str, what: &str) -> Option<String> {
    let r = t.required_string(doc, key, what)?;
    if r.value.trim().is_empty() {
        doc.problem(r.span, format!("`{key}` is empty"), what.to_string());
        return None;
    }
    Some(r.value)
}

fn members_of(
    index: &Index,
    groups: &std::collections::BTreeMap<String, &crate::model::Group>,
    s: &Selector,
) -> Vec<String> {
    let mut ids: Vec<&str> = Vec::new();
    for g in &s.groups {
        if let Some(g) = groups.get(g) {
            ids.extend(g.members.iter().map(String::as_str));
        }
    }
    for u in &s.users {
        if let Some(u) = index.user_by_name.get(u.as_str()) {
            ids.push(&u.id);
        }
    }
    let mut by_attribute: Vec<String> = Vec::new();
    for (map, claim) in [(&s.claims, true), (&s.people, false)] {
        for (field, values) in map {
            if let Ok(known) = attribute_values(index.snapshot, field, claim) {
                for v in values {
                    by_attribute.extend(known.get(v).into_iter().flatten().cloned());
                }
            }
        }
    }
    ids.extend(by_attribute.iter().map(String::as_str));
    existing(index, ids.into_iter())
}
