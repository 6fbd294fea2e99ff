//! Facts from the people attributes (HR or IdP export): where a candidate's
//! members are, who employs them, whether they are contractors, and how that
//! compares with the whole deployment.

use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeMap;

use super::derive::percent;
use super::facts::{Evidence, Fact, Facts, Value};
use crate::model::{PersonRecord, Snapshot, WorkspaceProxy};

/// The deployment's people, indexed once.
pub struct People<'a> {
    source: Option<&'a str>,
    columns: Vec<&'a str>,
    by_user: HashMap<&'a str, &'a PersonRecord>,
    /// column -> the deployment's most common value.
    main: HashMap<&'static str, String>,
    regions: usize,
}

/// The most common value and how many hold it (ties: the first by name).
fn dominant<'v>(values: impl Iterator<Item = &'v str>) -> Option<(&'v str, usize, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    for v in values.filter(|v| !v.trim().is_empty()) {
        *counts.entry(v).or_default() += 1;
        total += 1;
    }
    let mut best: Option<(&str, usize)> = None;
    for (v, n) in counts {
        if best.is_none_or(|b| n > b.1) {
            best = Some((v, n));
        }
    }
    best.map(|(v, n)| (v, n, total))
}

impl<'a> People<'a> {
    pub fn new(s: &'a Snapshot) -> People<'a> {
        let Some(p) = &s.people else {
            return People { source: None, columns: vec![], by_user: HashMap::new(), main: HashMap::new(), regions: 0 };
        };
        let by_user = p.records.iter().map(|r| (r.user_id.as_str(), r)).collect();
        let mut main = HashMap::new();
        for col in ["region", "employer"] {
            if let Some((v, _, _)) =
                dominant(p.records.iter().filter_map(|r| r.attributes.get(col).map(String::as_str)))
            {
                main.insert(col, v.to_string());
            }
        }
        let regions: std::collections::BTreeSet<&str> = p
            .records
            .iter()
            .filter_map(|r| r.attributes.get("region").map(|v| v.trim()))
            .filter(|v| !v.is_empty())
            .collect();
        People {
            source: Some(&p.source),
            columns: p.columns.iter().map(String::as_str).collect(),
            by_user,
            main,
            regions: regions.len(),
        }
    }

    /// Why a column's facts are unknown, if they are.
    fn missing(&self, column: &str) -> Option<String> {
        match self.source {
            None => Some("no people attributes in the snapshot: import with `--people FILE.csv`".into()),
            Some(src) if !self.columns.contains(&column) => {
                Some(format!("the people attributes ({src}) have no `{column}` column"))
            }
            _ => None,
        }
    }

    pub fn facts(&self, members: &[String], proxies: &[WorkspaceProxy], f: &mut Facts) {
        let records: Vec<&PersonRecord> =
            members.iter().filter_map(|m| self.by_user.get(m.as_str()).copied()).collect();
        let coverage =
            Evidence::new(format!("{} of its {} members have a people record", records.len(), members.len()));
        let values =
            |col: &str| records.iter().filter_map(move |r| r.attributes.get(col).map(|v| v.trim())).collect::<Vec<_>>();
        let unknown = |f: &mut Facts, names: &[&str], why: &str| {
            for n in names {
                f.insert((*n).into(), Fact::unknown(why));
            }
        };
        const REGION_FACTS: [&str; 6] = [
            "dominant_region",
            "region_share",
            "regions",
            "deployment_regions",
            "away_from_main_region",
            "region_has_proxy",
        ];
        match self.missing("region") {
            Some(why) => unknown(f, &REGION_FACTS, &why),
            None => self.region_facts(&values("region"), proxies, &coverage, f),
        }
        match self.missing("department") {
            Some(why) => unknown(f, &["department_share"], &why),
            None => {
                let (v, n, total) = dominant(values("department").into_iter()).unwrap_or(("", 0, 0));
                let ev = vec![Evidence::new(format!("{n} of {total} in `{v}`")), coverage.clone()];
                f.insert("department_share".into(), Fact::derived(Value::Number(percent(n, total) as i64), ev));
            }
        }
        match self.missing("employer") {
            Some(why) => unknown(f, &["dominant_employer", "other_employer"], &why),
            None => {
                let (v, n, total) = dominant(values("employer").into_iter()).unwrap_or(("", 0, 0));
                let main = self.main.get("employer").cloned().unwrap_or_default();
                let ev = vec![Evidence::new(format!(
                    "{n} of {total} employed by `{v}`; the deployment's main employer is `{main}`"
                ))];
                f.insert("dominant_employer".into(), Fact::derived(Value::Text(v.to_string()), ev.clone()));
                f.insert("other_employer".into(), Fact::derived(Value::Bool(total > 0 && v != main), ev));
            }
        }
        match self.missing("contractor") {
            Some(why) => unknown(f, &["contractor_share"], &why),
            None => {
                let all = values("contractor");
                let yes = all
                    .iter()
                    .filter(|v| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "y" | "1"))
                    .count();
                let ev = vec![Evidence::new(format!("{yes} of {} are contractors", all.len()))];
                f.insert("contractor_share".into(), Fact::derived(Value::Number(percent(yes, all.len()) as i64), ev));
            }
        }
    }

    fn region_facts(&self, regions: &[&str], proxies: &[WorkspaceProxy], coverage: &Evidence, f: &mut Facts) {
        let (region, n, total) = dominant(regions.iter().copied()).unwrap_or(("", 0, 0));
        let main = self.main.get("region").cloned().unwrap_or_default();
        let distinct: std::collections::BTreeSet<&&str> = regions.iter().filter(|r| !r.is_empty()).collect();
        let share_ev = vec![Evidence::new(format!("{n} of {total} in `{region}`")), coverage.clone()];
        f.insert("dominant_region".into(), Fact::derived(Value::Text(region.into()), share_ev.clone()));
        f.insert("region_share".into(), Fact::derived(Value::Number(percent(n, total) as i64), share_ev));
        let list = distinct.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ");
        f.insert("regions".into(), Fact::derived(Value::Number(distinct.len() as i64), vec![Evidence::new(list)]));
        let ev = vec![Evidence::new(format!("the deployment's people are in {} regions", self.regions))];
        f.insert("deployment_regions".into(), Fact::derived(Value::Number(self.regions as i64), ev));
        let away = !region.is_empty() && region != main;
        let ev = vec![Evidence::new(format!("its region `{region}`; the deployment's main region `{main}`"))];
        f.insert("away_from_main_region".into(), Fact::derived(Value::Bool(away), ev));
        let live: Vec<&WorkspaceProxy> = proxies.iter().filter(|p| !p.deleted).collect();
        let serving = live.iter().find(|p| serves(p, region));
        let (has, text) = match serving {
            Some(p) => (true, format!("workspace proxy `{}` ({}) serves `{region}`", p.name, p.display_name)),
            None if !region.is_empty() && region == main => {
                (true, format!("`{region}` is the deployment's main region"))
            }
            None => {
                let names = live.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>().join(", ");
                (
                    false,
                    format!(
                        "no workspace proxy serves `{region}` (proxies: {})",
                        if names.is_empty() { "none".into() } else { names }
                    ),
                )
            }
        };
        f.insert("region_has_proxy".into(), Fact::derived(Value::Bool(has), vec![Evidence::new(text)]));
    }
}

/// A proxy serves a region when its name or display name mentions it
/// (`us-west` ~ "US West", `australia` ~ "Australia"), letters and digits only.
pub fn serves(p: &WorkspaceProxy, region: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let r = norm(region);
    !r.is_empty() && (norm(&p.name).contains(&r) || norm(&p.display_name).contains(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_serve_regions_by_name_or_display_name() {
        let p = |name: &str, display: &str| WorkspaceProxy {
            name: name.into(),
            display_name: display.into(),
            ..Default::default()
        };
        assert!(serves(&p("sydney", "Australia"), "australia"));
        assert!(serves(&p("primary", "US East (primary)"), "us-east"));
        assert!(!serves(&p("us-west", "US West"), "india"));
        assert!(!serves(&p("x", "y"), ""));
    }

    #[test]
    fn dominant_prefers_the_most_common_then_the_first_name() {
        assert_eq!(dominant(["b", "a", "b", ""].into_iter()), Some(("b", 2, 3)));
        assert_eq!(dominant(["b", "a"].into_iter()), Some(("a", 1, 2)));
        assert_eq!(dominant(std::iter::empty()), None);
    }
}
