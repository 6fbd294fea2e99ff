//! Candidates: sets of users that might become an organization. Derived from
//! Coder groups (the default), an IdP claim (`--by claim:memberOf`), a people
//! column (`--by people:department`), or nothing (`--by none`); a candidates
//! file (`candfile.rs` reads it) adds candidates and declares facts.

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::facts::Value;
use crate::model::{Group, Index, Snapshot};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub name: String,
    pub display_name: String,
    /// Where it came from: "group `raptix`", "claim `memberOf` = `coder-ml`", "candidates.toml:3:1".
    pub source: String,
    /// Who is in it, as a split file would say it.
    pub selector: Selector,
    /// Member user ids, sorted.
    #[serde(skip)]
    pub members: Vec<String>,
    pub declared: Vec<Declared>,
    pub suppressed: Vec<Suppression>,
}

/// Who is in a candidate: members of these groups, these users, and users
/// with these claim values or people attributes (the split file's terms).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Selector {
    pub groups: Vec<String>,
    pub users: Vec<String>,
    pub claims: BTreeMap<String, Vec<String>>,
    pub people: BTreeMap<String, Vec<String>>,
}

/// A fact a person declared, with why and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Declared {
    pub fact: String,
    pub value: Value,
    pub because: String,
    pub at: String,
}

/// A rule a person turned off for a candidate, with why and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppression {
    pub rule: String,
    pub because: String,
    pub at: String,
}

/// How to derive candidates from the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum By {
    Groups,
    Claim(String),
    People(String),
    None,
}

impl By {
    /// `groups`, `claim:FIELD`, `people:COLUMN` or `none`.
    pub fn parse(s: &str) -> Result<By, String> {
        let bad = || {
            "expected `groups`, `claim:FIELD` (e.g. `claim:memberOf`), `people:COLUMN` (e.g. `people:department`) \
             or `none`"
                .to_string()
        };
        match s.split_once(':') {
            None if s == "groups" => Ok(By::Groups),
            None if s == "none" => Ok(By::None),
            Some(("claim", f)) if !f.trim().is_empty() => Ok(By::Claim(f.trim().to_string())),
            Some(("people", c)) if !c.trim().is_empty() => Ok(By::People(c.trim().to_string())),
            _ => Err(bad()),
        }
    }

    /// The value as `--by` spells it (`claim:memberOf`), for messages.
    pub fn spelled(&self) -> String {
        match self {
            By::Groups => "groups".into(),
            By::Claim(f) => format!("claim:{f}"),
            By::People(c) => format!("people:{c}"),
            By::None => "none".into(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            By::Groups => "Coder groups".into(),
            By::Claim(f) => format!("values of the IdP claim `{f}`"),
            By::People(c) => format!("values of the people column `{c}`"),
            By::None => "the candidates file only".into(),
        }
    }
}

/// Group names as candidates and split files write them: the name, or
/// `org/name` when several organizations have a group of that name.
pub fn group_names<'a>(index: &Index<'a>) -> BTreeMap<String, &'a Group> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for g in index.snapshot.groups.iter().filter(|g| !g.is_everyone()) {
        *count.entry(&g.name).or_default() += 1;
    }
    index
        .snapshot
        .groups
        .iter()
        .filter(|g| !g.is_everyone())
        .map(|g| {
            let name = if count[g.name.as_str()] > 1 {
                format!("{}/{}", index.org_name(&g.organization_id), g.name)
            } else {
                g.name.clone()
            };
            (name, g)
        })
        .collect()
}

/// Derive candidates. An error names what is missing (a claim field the
/// people attributes do not have). Empty sets are left out and listed in the
/// second value, so the report can say so.
pub fn derive(index: &Index, by: &By) -> Result<(Vec<Candidate>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut empty = Vec::new();
    match by {
        By::None => {}
        By::Groups => {
            for (name, g) in group_names(index) {
                let members = existing(index, g.members.iter().map(String::as_str));
                if members.is_empty() {
                    empty.push(format!("group `{name}`"));
                    continue;
                }
                let display = if g.display_name.is_empty() { name.clone() } else { g.display_name.clone() };
                out.push(Candidate {
                    source: format!("group `{name}`"),
                    selector: Selector { groups: vec![name.clone()], ..Default::default() },
                    name,
                    display_name: display,
                    members,
                    declared: Vec::new(),
                    suppressed: Vec::new(),
                });
            }
        }
        By::Claim(field) | By::People(field) => {
            let claim = matches!(by, By::Claim(_));
            let values = attribute_values(index.snapshot, field, claim)?;
            for (value, users) in values {
                let mut selector = Selector::default();
                let (kind, map) =
                    if claim { ("claim", &mut selector.claims) } else { ("people", &mut selector.people) };
                map.insert(field.clone(), vec![value.clone()]);
                out.push(Candidate {
                    name: value.clone(),
                    display_name: value.clone(),
                    source: format!("{kind} `{field}` = `{value}`"),
                    selector,
                    members: existing(index, users.iter().map(String::as_str)),
                    declared: Vec::new(),
                    suppressed: Vec::new(),
                });
            }
        }
    }
    Ok((out, empty))
}

/// Value -> user ids holding it, for a people column; claims split `;`-separated values.
pub fn attribute_values(
    snapshot: &Snapshot,
    field: &str,
    split: bool,
) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let Some(people) = &snapshot.people else {
        return Err("the snapshot has no people attributes: import it with `--people FILE.csv`".into());
    };
    if !people.columns.iter().any(|c| c == field) {
        let columns = people.columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
        return Err(format!("the people attributes have no column `{field}` (columns: {columns})"));
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &people.records {
        let Some(raw) = r.attributes.get(field) else { continue };
        let values: Vec<&str> = if split { raw.split(';').collect() } else { vec![raw.as_str()] };
        for v in values.into_iter().map(str::trim).filter(|v| !v.is_empty()) {
            out.entry(v.to_string()).or_default().insert(r.user_id.clone());
        }
    }
    Ok(out)
}

/// User ids that exist in the snapshot, sorted and unique.
pub fn existing<'a>(index: &Index, ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = ids.filter(|id| index.user_by_id.contains_key(id)).collect();
    set.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{People, PersonRecord, User};

    fn snapshot() -> Snapshot {
        let user = |id: &str| User {
            id: id.into(),
            username: format!("u{id}"),
            status: "active".into(),
            ..Default::default()
        };
        let record = |id: &str, member_of: &str, dept: &str| PersonRecord {
            user_id: id.into(),
            username: format!("u{id}"),
            attributes: [("memberOf".to_string(), member_of.to_string()), ("department".to_string(), dept.to_string())]
                .into(),
            line: 2,
        };
        Snapshot {
            users: vec![user("1"), user("2"), user("3")],
            groups: vec![
                Group {
                    id: "o".into(),
                    organization_id: "o".into(),
                    name: "Everyone".into(),
                    members: vec!["1".into()],
                    ..Default::default()
                },
                Group {
                    id: "g1".into(),
                    organization_id: "o".into(),
                    name: "ml".into(),
                    members: vec!["2".into(), "1".into(), "9".into()],
                    ..Default::default()
                },
                Group { id: "g2".into(), organization_id: "o".into(), name: "empty".into(), ..Default::default() },
            ],
            people: Some(People {
                columns: vec!["memberOf".into(), "department".into()],
                records: vec![record("1", "a; b", "Eng"), record("2", "b", "Eng"), record("3", "", "Design")],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn groups_skip_everyone_unknown_users_and_empty_groups() {
        let s = snapshot();
        let (c, empty) = derive(&Index::new(&s), &By::Groups).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name, "ml");
        assert_eq!(c[0].members, ["1", "2"]);
        assert_eq!(empty, ["group `empty`"]);
    }

    #[test]
    fn claims_split_values_and_people_columns_do_not() {
        let s = snapshot();
        let (c, _) = derive(&Index::new(&s), &By::Claim("memberOf".into())).unwrap();
        let got: Vec<(&str, usize)> = c.iter().map(|c| (c.name.as_str(), c.members.len())).collect();
        assert_eq!(got, [("a", 1), ("b", 2)]);
        let (c, _) = derive(&Index::new(&s), &By::People("department".into())).unwrap();
        assert_eq!(c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Design", "Eng"]);
        assert_eq!(c[1].selector.people["department"], ["Eng"]);
    }

    #[test]
    fn unknown_column_lists_the_known_ones() {
        let s = snapshot();
        let err = derive(&Index::new(&s), &By::People("dept".into())).unwrap_err();
        assert_eq!(err, "the people attributes have no column `dept` (columns: `memberOf`, `department`)");
    }

    #[test]
    fn by_parses_the_documented_forms() {
        assert_eq!(By::parse("claim:memberOf"), Ok(By::Claim("memberOf".into())));
        assert_eq!(By::parse("people:department"), Ok(By::People("department".into())));
        assert_eq!(By::parse("groups"), Ok(By::Groups));
        assert!(By::parse("claim:").unwrap_err().contains("expected `groups`"));
        for by in [By::Groups, By::None, By::Claim("memberOf".into()), By::People("department".into())] {
            assert_eq!(By::parse(&by.spelled()), Ok(by));
        }
    }
}
