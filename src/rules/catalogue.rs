//! The rule catalogue: the built-in rules (`rules/*.toml`, embedded in the
//! binary) plus the files of `--rules DIR`, which add rules or override
//! built-in ones by id. Every problem of every file is collected before
//! anything is scored. Commands read the files; this only sees their text.

use std::collections::BTreeMap;

use include_dir::{Dir, include_dir};

use super::load;
use super::rule::Rule;
use crate::error::{Diagnostic, Error, Result};
use crate::tomlread::Doc;

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/rules");

#[derive(Debug, Clone)]
pub struct Catalogue {
    /// In the page's order (built-in file names are numbered), added rules last.
    pub rules: Vec<Rule>,
    /// Built-in rules replaced by a file of `--rules DIR`: id -> where the built-in one was.
    pub overridden: BTreeMap<String, String>,
}

/// The built-in rule files: (`rules/<name>.toml`, text), by name.
pub fn builtin_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = BUILTIN
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
        .map(|f| (format!("rules/{}", f.path().display()), String::from_utf8_lossy(f.contents()).into_owned()))
        .collect();
    files.sort();
    files
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Result<Catalogue> {
        Catalogue::load(&builtin_files(), &[])
    }

    /// Built-in files, then extra files (`--rules DIR`) that add or override by id.
    pub fn load(builtin: &[(String, String)], extra: &[(String, String)]) -> Result<Catalogue> {
        let mut problems: Vec<Diagnostic> = Vec::new();
        let base = read_all(builtin, &mut problems);
        let added = read_all(extra, &mut problems);
        if !problems.is_empty() {
            return Err(Error::Inputs { what: "rule files".into(), diagnostics: problems });
        }
        let mut rules = base;
        let mut overridden = BTreeMap::new();
        for rule in added {
            match rules.iter_mut().find(|r| r.id == rule.id) {
                Some(slot) => {
                    overridden.insert(rule.id.clone(), slot.defined_at.clone());
                    *slot = rule;
                }
                None => rules.push(rule),
            }
        }
        Ok(Catalogue { rules, overridden })
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Read one set of files; ids must be unique within the set.
fn read_all(files: &[(String, String)], problems: &mut Vec<Diagnostic>) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for (path, text) in files {
        let mut doc = Doc::new(path.clone(), text);
        let loaded = load::read(&mut doc);
        let mut file_problems = std::mem::take(&mut doc.problems);
        file_problems.sort_by_key(|d| (d.line, d.column));
        problems.extend(file_problems);
        let Some(loaded) = loaded else { continue };
        if let Some(first) = rules.iter().find(|r| r.id == loaded.rule.id) {
            let help = format!("it is also defined at {}: give one of them another id", first.defined_at);
            doc.problem(loaded.id_span.clone(), format!("duplicate rule id `{}`", loaded.rule.id), help);
            problems.append(&mut doc.problems);
            continue;
        }
        rules.push(loaded.rule);
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::rule::{RuleKind, Verdict};

    #[test]
    fn builtin_catalogue_has_the_pages_seven_cases_and_the_warning() {
        let c = Catalogue::builtin().unwrap();
        let ids: Vec<&str> = c.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "mergers-and-acquisitions",
                "cloud-native-teams",
                "java-monolith",
                "offshore-contractors",
                "dev-teams",
                "ml-platform-team",
                "multiple-regions",
                "maintenance-overhead",
            ]
        );
        let warnings: Vec<&str> =
            c.rules.iter().filter(|r| r.kind == RuleKind::Warning).map(|r| r.id.as_str()).collect();
        assert_eq!(warnings, ["maintenance-overhead"]);
        assert_eq!(c.get("offshore-contractors").unwrap().verdict, Some(Verdict::OrganizationWithWorkspaceProxies));
        assert!(c.rules.iter().all(|r| r.reference.starts_with("https://coder.com/docs/")));
    }

    #[test]
    fn extra_files_add_and_override_by_id() {
        let builtin = builtin_files();
        let mut text = builtin.iter().find(|f| f.0.ends_with("dev-teams.toml")).unwrap().1.clone();
        text = text.replace("title = \"Dev teams\"", "title = \"Our dev teams\"");
        let added = text.replace("id = \"dev-teams\"", "id = \"our-teams\"");
        let c = Catalogue::load(&builtin, &[("x/a.toml".into(), text), ("x/b.toml".into(), added)]).unwrap();
        assert_eq!(c.get("dev-teams").unwrap().title, "Our dev teams");
        assert_eq!(c.get("dev-teams").unwrap().defined_at, "x/a.toml:2:6");
        assert!(c.overridden["dev-teams"].starts_with("rules/"), "{:?}", c.overridden);
        assert_eq!(c.rules.last().unwrap().id, "our-teams");
        assert_eq!(c.rules.len(), 9);
    }

    #[test]
    fn every_problem_of_every_file_is_reported_before_anything_else() {
        let good = "id = \"a\"\ntitle = \"A\"\nverdict = \"organization\"\ncase = \"c\"\nrationale = \"r\"\n\
                    reference = \"u\"\n[[conditions]]\nreason = \"x\"\nfact = \"members\"\nop = \">\"\nvalue = 1\n";
        let broken = "id = \"b\"\ntitle = \"B\"\nverdict = \"org\"\ncase = \"c\"\nrationale = \"r\"\nreference = \"u\"\n\
                      colour = \"red\"\n[[conditions]]\nreason = \"x\"\nfact = \"own_clouds\"\nop = \"=>\"\nvalue = 1\n\
                      [[conditions]]\nreason = \"y\"\nfact = \"members\"\nop = \">=\"\nvalue = \"ten\"\n\
                      [[conditions]]\nreason = \"z\"\nfact = \"acquired\"\nop = \">\"\nvalue = true\n";
        let files = [
            ("d/a.toml".to_string(), good.to_string()),
            ("d/b.toml".to_string(), broken.to_string()),
            ("d/c.toml".to_string(), good.to_string()),
            ("d/d.toml".to_string(), "id = [\n".to_string()),
        ];
        let err = Catalogue::load(&[], &files).unwrap_err();
        let text = err.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "8 problems in rule files:", "{text}");
        assert_eq!(
            &lines[1..7],
            [
                "  d/b.toml:3:11: unknown verdict `org` (expected one of `organization`, `organization-with-workspace-proxies`, \
                 `separate-template-or-groups`, `parameters-dev-containers-groups`, `provisioners-and-workspace-proxies`)",
                "  d/b.toml:7:1: unknown field `colour` in a rule (expected one of `id`, `title`, `kind`, `verdict`, `case`, \
                 `rationale`, `reference`, `conditions`)",
                "  d/b.toml:10:8: unknown fact `own_clouds` (did you mean `own_cloud_accounts`?)",
                "  d/b.toml:11:6: unknown operator `=>` (expected one of ==, !=, <, <=, >, >=)",
                "  d/b.toml:17:9: `value` must be a whole number (the type of `members`), found a string \
                 (write a whole number, such as `value = 1`)",
                "  d/b.toml:21:6: operator `>` compares numbers, and `acquired` is true or false (use `==` or `!=`)",
            ]
        );
        assert_eq!(
            lines[7],
            "  d/c.toml:1:6: duplicate rule id `a` (it is also defined at d/a.toml:1:6: give one of them another id)"
        );
        assert_eq!(lines[8], "  d/d.toml:1:7: unclosed array, expected `]` (fix the TOML syntax)");
    }

    #[test]
    fn duplicate_ids_name_both_places() {
        let rule = "id = \"a\"\ntitle = \"A\"\nkind = \"warning\"\ncase = \"c\"\nrationale = \"r\"\nreference = \"u\"\n\
                    [[conditions]]\nreason = \"x\"\nfact = \"members\"\nop = \"<\"\nvalue = 5\n";
        let files = [("d/1.toml".to_string(), rule.to_string()), ("d/2.toml".to_string(), rule.to_string())];
        let err = Catalogue::load(&[], &files).unwrap_err().to_string();
        assert_eq!(
            err,
            "1 problem in rule files:\n  d/2.toml:1:6: duplicate rule id `a` (it is also defined at d/1.toml:1:6: \
             give one of them another id)"
        );
    }
}
