//! Reading one rule file into a checked `Rule`, reporting every problem
//! (unknown field, unknown fact, wrong type, bad operator, ...) with its
//! line and column. The file format is documented in `rule.rs`.

use toml::de::DeValue;

use super::facts::{self, Kind, Value};
use super::rule::*;
use crate::tomlread::{At, Doc, Table, suggest, type_name};

/// A rule read from a file, with the position of its id (for duplicate ids).
pub struct Loaded {
    pub rule: Rule,
    pub id_span: std::ops::Range<usize>,
}

/// Read one rule file. Problems go to `doc.problems`; `None` if there were any.
pub fn read(doc: &mut Doc) -> Option<Loaded> {
    let root = doc.parse()?;
    let before = doc.problems.len();
    let mut t = Table::new(root.get_ref(), root.span());
    let id = t.required_string(doc, "id", "a stable kebab-case name such as `dev-teams`");
    if let Some(id) = &id
        && !is_kebab(&id.value)
    {
        doc.problem(
            id.span.clone(),
            format!("rule id `{}` is not kebab-case", id.value),
            "use lowercase letters, digits and single hyphens",
        );
    }
    let title = t.required_string(doc, "title", "a short name for the case");
    let kind = match t.string(doc, "kind") {
        None => RuleKind::Case,
        Some(k) => match k.value.as_str() {
            "case" => RuleKind::Case,
            "warning" => RuleKind::Warning,
            other => {
                doc.problem(k.span, format!("unknown rule kind `{other}`"), "expected `case` or `warning`");
                RuleKind::Case
            }
        },
    };
    let verdict = read_verdict(doc, &mut t, kind);
    let case = t.required_string(doc, "case", "the situation, in the page's words");
    let rationale = t.required_string(doc, "rationale", "why the verdict, in the page's words");
    let reference = t.required_string(doc, "reference", "the page (URL) the rule comes from");
    let missing = root.get_ref().get("conditions").is_none();
    let tables = t.tables(doc, "conditions");
    if missing {
        doc.problem(t.span(), "a rule needs at least one condition", "add a `[[conditions]]` section");
    }
    let conditions: Vec<Condition> = tables.into_iter().filter_map(|c| read_condition(doc, c)).collect();
    t.finish(doc, "a rule");
    if doc.problems.len() > before {
        return None;
    }
    let id = id?;
    let defined_at = doc.location(&id.span);
    Some(Loaded {
        rule: Rule {
            id: id.value,
            title: title?.value,
            kind,
            verdict,
            case: case?.value,
            rationale: rationale?.value,
            reference: reference?.value,
            conditions,
            defined_at,
        },
        id_span: id.span,
    })
}

fn read_verdict(doc: &mut Doc, t: &mut Table, kind: RuleKind) -> Option<Verdict> {
    let expected = VERDICTS.iter().map(|v| format!("`{}`", v.0)).collect::<Vec<_>>().join(", ");
    match (t.string(doc, "verdict"), kind) {
        (None, RuleKind::Case) => {
            doc.problem(t.span(), "missing field `verdict`", format!("a case needs a verdict: one of {expected}"));
            None
        }
        (Some(v), RuleKind::Warning) => {
            doc.problem(v.span, "a warning has no `verdict`", "remove it, or make the rule `kind = \"case\"`");
            None
        }
        (None, RuleKind::Warning) => None,
        (Some(v), RuleKind::Case) => match VERDICTS.iter().find(|x| x.0 == v.value) {
            Some(x) => Some(x.1),
            None => {
                doc.problem(v.span, format!("unknown verdict `{}`", v.value), format!("expected one of {expected}"));
                None
            }
        },
    }
}

fn read_condition(doc: &mut Doc, mut t: Table) -> Option<Condition> {
    let before = doc.problems.len();
    let reason = t.required_string(doc, "reason", "why this fact matters, in a few words");
    let required = t.bool(doc, "required").unwrap_or(true);
    let any_tables = t.tables(doc, "any");
    let mut any = Vec::new();
    let has_fact = t.get("fact").is_some();
    if has_fact && !any_tables.is_empty() {
        doc.problem(
            t.span(),
            "a condition has both `fact` and `any`",
            "write one test with `fact`, `op`, `value`, or several in `any`",
        );
    } else if !has_fact && any_tables.is_empty() {
        doc.problem(
            t.span(),
            "a condition has no test",
            "add `fact`, `op` and `value`, or `any = [{ fact = ..., op = ..., value = ... }]`",
        );
    }
    if has_fact {
        any.extend(read_test(doc, &mut t));
    } else {
        // `op` and `value` belong to the tests of `any` here.
        for key in ["op", "value"] {
            if let Some(v) = t.get(key) {
                doc.problem(v.span(), format!("`{key}` without `fact`"), "put it in each test of `any`, or add `fact`");
            }
        }
    }
    for mut item in any_tables {
        any.extend(read_test(doc, &mut item));
        item.finish(doc, "a test of `any`");
    }
    t.finish(doc, "a condition");
    let reason = reason?.value;
    (doc.problems.len() == before).then_some(Condition { reason, required, any })
}

fn read_test(doc: &mut Doc, t: &mut Table) -> Option<Test> {
    let fact = t.required_string(doc, "fact", "the name of a fact (see `orgsplit rules explain`)");
    let op = t.required_string(doc, "op", "one of ==, !=, <, <=, >, >=");
    let value = t.get("value");
    let def = fact.as_ref().and_then(|f| match facts::lookup(&f.value) {
        Some(d) => Some(d),
        None => {
            let hint = suggest(&f.value, facts::CATALOGUE.iter().map(|d| d.name))
                .map_or("`orgsplit rules explain` lists the facts".to_string(), |s| format!("did you mean `{s}`?"));
            doc.problem(f.span.clone(), format!("unknown fact `{}`", f.value), hint);
            None
        }
    });
    let op = op.and_then(|o| match OPS.iter().find(|x| x.0 == o.value) {
        Some(x) => Some(At { value: x.1, span: o.span }),
        None => {
            doc.problem(o.span, format!("unknown operator `{}`", o.value), "expected one of ==, !=, <, <=, >, >=");
            None
        }
    });
    let Some(value) = value else {
        doc.problem(t.span(), "missing field `value`", "add `value = ...`: what the fact is compared with");
        return None;
    };
    let parsed = match value.get_ref() {
        DeValue::Boolean(b) => Some(Value::Bool(*b)),
        DeValue::Integer(i) => i.as_str().replace('_', "").parse::<i64>().ok().map(Value::Number),
        DeValue::String(s) => Some(Value::Text(s.to_string())),
        _ => None,
    };
    let (def, op) = (def?, op?);
    let Some(parsed) = parsed.filter(|p| p.kind() == def.kind) else {
        doc.problem(
            value.span(),
            format!(
                "`value` must be {} (the type of `{}`), found {}",
                def.kind.describe(),
                def.name,
                type_name(value.get_ref())
            ),
            example(def.kind),
        );
        return None;
    };
    if def.kind != Kind::Number && !matches!(op.value, Op::Eq | Op::Ne) {
        doc.problem(
            op.span,
            format!("operator `{}` compares numbers, and `{}` is {}", op.value, def.name, def.kind.describe()),
            "use `==` or `!=`",
        );
        return None;
    }
    Some(Test { fact: def.name.to_string(), op: op.value, value: parsed })
}

fn example(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool => "write `value = true` or `value = false`",
        Kind::Number => "write a whole number, such as `value = 1`",
        Kind::Text => "write a quoted string, such as `value = \"us-east\"`",
    }
}

pub fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "id = \"x\"\ntitle = \"X\"\nkind = \"warning\"\ncase = \"c\"\nrationale = \"r\"\nreference = \"u\"\n";

    fn problems(conditions: &str) -> Vec<String> {
        let text = format!("{HEAD}{conditions}");
        let mut doc = Doc::new("r.toml", &text);
        let loaded = read(&mut doc);
        assert_eq!(loaded.is_none(), !doc.problems.is_empty());
        doc.problems.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn any_reads_several_tests_and_required_defaults_to_true() {
        let text = format!(
            "{HEAD}[[conditions]]\nreason = \"r\"\nany = [{{ fact = \"acquired\", op = \"==\", value = true }}, \
             {{ fact = \"members\", op = \">=\", value = 1_000 }}]\n"
        );
        let mut doc = Doc::new("r.toml", &text);
        let rule = read(&mut doc).unwrap().rule;
        assert!(rule.conditions[0].required);
        let tests: Vec<String> = rule.conditions[0].any.iter().map(|t| t.to_string()).collect();
        assert_eq!(tests, ["acquired == true", "members >= 1000"]);
        assert_eq!(rule.verdict, None, "warnings have no verdict");
    }

    #[test]
    fn a_condition_needs_exactly_one_form_of_test() {
        assert_eq!(
            problems("[[conditions]]\nreason = \"r\"\nop = \"==\"\n"),
            [
                "r.toml:7:1: a condition has no test (add `fact`, `op` and `value`, or `any = [{ fact = ..., op = ..., value = ... }]`)",
                "r.toml:9:6: `op` without `fact` (put it in each test of `any`, or add `fact`)",
            ]
        );
        let both = "[[conditions]]\nreason = \"r\"\nfact = \"members\"\nop = \">\"\nvalue = 1\nany = [{ fact = \"members\", op = \">\", value = 2 }]\n";
        assert_eq!(
            problems(both),
            [
                "r.toml:7:1: a condition has both `fact` and `any` (write one test with `fact`, `op`, `value`, or several in `any`)"
            ]
        );
    }

    #[test]
    fn a_warning_with_a_verdict_and_a_float_value_are_refused() {
        let text = "[[conditions]]\nreason = \"r\"\nfact = \"members\"\nop = \">\"\nvalue = 1.5\n";
        assert_eq!(
            problems(text),
            [
                "r.toml:11:9: `value` must be a whole number (the type of `members`), found a float (write a whole number, such as `value = 1`)"
            ]
        );
        let with_verdict = format!("verdict = \"organization\"\n{text}").replace("1.5", "1");
        assert_eq!(
            problems(&with_verdict),
            ["r.toml:7:11: a warning has no `verdict` (remove it, or make the rule `kind = \"case\"`)"]
        );
    }

    #[test]
    fn kebab_case_ids() {
        for (id, ok) in
            [("dev-teams", true), ("ml2", true), ("Dev", false), ("a--b", false), ("-a", false), ("", false)]
        {
            assert_eq!(is_kebab(id), ok, "{id}");
        }
    }
}
