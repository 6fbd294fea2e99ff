//! Scoring: each rule's conditions tested against a candidate's facts, the
//! best-matching case chosen, and the recommendation explained. A rule
//! applies when all its required conditions hold; among the cases that apply
//! the one with the most conditions met wins (then the higher share, then
//! the page's order). No case applying is "no clear case", never a forced match.

use std::fmt;

use serde::{Serialize, Serializer};

use super::candidates::Suppression;
use super::catalogue::Catalogue;
use super::facts::{Facts, Value};
use super::rule::{Rule, RuleKind, Verdict};

/// What orgsplit recommends for a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recommendation {
    Case(Verdict),
    /// No case of the page applies.
    NoClearCase,
    /// The evidence disagrees (a warning against an organization, or a tie): a person decides.
    Review,
}

impl Recommendation {
    pub fn id(self) -> &'static str {
        match self {
            Recommendation::Case(v) => v.id(),
            Recommendation::NoClearCase => "no-clear-case",
            Recommendation::Review => "review",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Recommendation::Case(v) => v.title(),
            Recommendation::NoClearCase => "No clear case: keep it where it is",
            Recommendation::Review => "Review: the evidence disagrees",
        }
    }
    pub fn is_organization(self) -> bool {
        matches!(self, Recommendation::Case(v) if v.is_organization())
    }
}

impl Serialize for Recommendation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Met,
    NotMet,
    /// The fact's value is unknown (no people attributes, not declared, ...).
    Unknown,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Met => "met",
            Status::NotMet => "not met",
            Status::Unknown => "unknown",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// `own_cloud_accounts >= 1`.
    pub test: String,
    pub fact: String,
    /// The candidate's value (null: unknown).
    pub value: Option<Value>,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConditionResult {
    pub reason: String,
    pub required: bool,
    pub status: Status,
    pub tests: Vec<TestResult>,
}

/// One rule tested against one candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    pub rule: String,
    pub title: String,
    pub kind: RuleKind,
    pub verdict: Option<Verdict>,
    pub case: String,
    pub rationale: String,
    pub reference: String,
    /// All required conditions hold.
    pub applies: bool,
    /// Conditions met, of all.
    pub met: usize,
    pub total: usize,
    pub conditions: Vec<ConditionResult>,
}

impl Match {
    /// Share of conditions met, in whole percent.
    pub fn percent(&self) -> usize {
        super::derive::percent(self.met, self.total)
    }
}

/// Test a rule against facts.
pub fn evaluate(rule: &Rule, facts: &Facts) -> Match {
    let conditions: Vec<ConditionResult> = rule
        .conditions
        .iter()
        .map(|c| {
            let tests: Vec<TestResult> = c
                .any
                .iter()
                .map(|t| {
                    let value = facts.get(&t.fact).and_then(|f| f.value.clone());
                    let status = match &value {
                        None => Status::Unknown,
                        Some(v) if t.op.holds(v, &t.value) => Status::Met,
                        Some(_) => Status::NotMet,
                    };
                    TestResult { test: t.to_string(), fact: t.fact.clone(), value, status }
                })
                .collect();
            let status = if tests.iter().any(|t| t.status == Status::Met) {
                Status::Met
            } else if tests.iter().any(|t| t.status == Status::Unknown) {
                Status::Unknown
            } else {
                Status::NotMet
            };
            ConditionResult { reason: c.reason.clone(), required: c.required, status, tests }
        })
        .collect();
    let applies = conditions.iter().filter(|c| c.required).all(|c| c.status == Status::Met);
    let met = conditions.iter().filter(|c| c.status == Status::Met).count();
    Match {
        rule: rule.id.clone(),
        title: rule.title.clone(),
        kind: rule.kind,
        verdict: rule.verdict,
        case: rule.case.clone(),
        rationale: rule.rationale.clone(),
        reference: rule.reference.clone(),
        applies,
        met,
        total: conditions.len(),
        conditions,
    }
}

/// The outcome for one candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub recommendation: Recommendation,
    /// The best-matching case that applies.
    pub best: Option<Match>,
    /// When no case applies: the case closest to applying, to show what is missing.
    pub nearest: Option<Match>,
    /// Other cases that apply: (rule id, title, met, total).
    pub also: Vec<AlsoMatch>,
    /// Warnings that apply.
    pub warnings: Vec<Match>,
    /// Why the recommendation is `review`, or other remarks.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlsoMatch {
    pub rule: String,
    pub title: String,
    pub verdict: Option<Verdict>,
    pub met: usize,
    pub total: usize,
}

/// A candidate is region-shaped when one region holds at least this share (%)
/// of its members...
pub const REGION_SHAPED_SHARE: i64 = 75;
/// ...and no department holds this share (%) or more: several departments' people grouped by place.
pub const REGION_SHAPED_DEPARTMENT: i64 = 50;

/// How `orgsplit rules explain` states it.
pub const REGION_FIRST: &str = "Region-shaped candidates are scored against the multiple-regions case first. A \
candidate is region-shaped when one region holds at least 75% of its members (the people CSV's `region` column) and \
no department holds 50% of them: developers of several teams grouped by where they are. For such a candidate, a case \
whose verdict is `provisioners-and-workspace-proxies` wins when it applies, whatever other case applies too (those are \
listed as also fitting, with a note); when no case applies, it is the closest case shown, with what it misses. In \
template sources, the default and options of a `coder_parameter` whose name mentions a region are regions.";

/// Whether the facts describe a region-shaped candidate (see `REGION_FIRST`).
pub fn region_shaped(facts: &Facts) -> bool {
    let number = |name: &str| match facts.get(name).and_then(|f| f.value.as_ref()) {
        Some(Value::Number(n)) => Some(*n),
        _ => None,
    };
    matches!(
        (number("region_share"), number("department_share")),
        (Some(r), Some(d)) if r >= REGION_SHAPED_SHARE && d < REGION_SHAPED_DEPARTMENT
    )
}

/// The facts of a match's conditions that hold (`met`) or do not, as
/// "`members` = 8": what a person would check to settle a `review`.
fn deciding(m: &Match, met: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in m.conditions.iter().filter(|c| (c.status == Status::Met) == met) {
        for t in &c.tests {
            let value = t.value.as_ref().map_or("unknown".to_string(), |v| v.to_string());
            let line = format!("`{}` = {value}", t.fact);
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

fn is_regions_case(m: &Match) -> bool {
    m.verdict == Some(Verdict::ProvisionersAndWorkspaceProxies)
}

/// Decide a candidate's recommendation from its facts.
pub fn decide(catalogue: &Catalogue, facts: &Facts, suppressed: &[Suppression]) -> Decision {
    let active = catalogue.rules.iter().filter(|r| !suppressed.iter().any(|s| s.rule == r.id));
    let (mut cases, mut warnings) = (Vec::new(), Vec::new());
    for (order, rule) in active.enumerate() {
        let m = evaluate(rule, facts);
        match rule.kind {
            RuleKind::Case => cases.push((order, m)),
            RuleKind::Warning if m.applies => warnings.push(m),
            RuleKind::Warning => {}
        }
    }
    // Most conditions met, then the higher share, then the page's order.
    let rank = |(order, m): &(usize, Match)| (std::cmp::Reverse(m.met), std::cmp::Reverse(m.percent()), *order);
    let (mut applying, mut rest): (Vec<_>, Vec<_>) = cases.into_iter().partition(|(_, m)| m.applies);
    applying.sort_by_key(rank);
    rest.sort_by_key(|(order, m)| (std::cmp::Reverse(m.percent()), std::cmp::Reverse(m.met), *order));
    let mut notes = Vec::new();
    // Region-shaped: the multiple-regions case first (`REGION_FIRST`).
    let shaped = region_shaped(facts);
    let mut region_first = false;
    if shaped {
        if let Some(k) = applying.iter().position(|(_, m)| is_regions_case(m)).filter(|&k| k > 0) {
            let regions = applying.remove(k);
            notes.push(format!(
                "region-shaped (one region holds most of its members, no department half of them): `{}` comes \
                 first, ahead of `{}`",
                regions.1.rule, applying[0].1.rule
            ));
            applying.insert(0, regions);
            region_first = true;
        } else {
            region_first = applying.first().is_some_and(|(_, m)| is_regions_case(m));
        }
        if let Some(k) = rest.iter().position(|(_, m)| is_regions_case(m)) {
            let regions = rest.remove(k);
            rest.insert(0, regions);
        }
    }
    let mut applying = applying.into_iter().map(|(_, m)| m);
    let best = applying.next();
    let also_matches: Vec<Match> = applying.collect();
    let also: Vec<AlsoMatch> = also_matches
        .iter()
        .map(|m| AlsoMatch {
            rule: m.rule.clone(),
            title: m.title.clone(),
            verdict: m.verdict,
            met: m.met,
            total: m.total,
        })
        .collect();
    let recommendation = match &best {
        None => Recommendation::NoClearCase,
        Some(b) => {
            let verdict = b.verdict.unwrap_or(Verdict::Organization);
            let tie = also
                .iter()
                .filter(|_| !region_first)
                .find(|a| a.met == b.met && a.total == b.total && a.verdict != b.verdict);
            if let Some(t) = tie {
                let other = also_matches.iter().find(|m| m.rule == t.rule);
                let mut open = deciding(b, false);
                open.extend(other.map(|m| deciding(m, false)).unwrap_or_default());
                let decide = if open.is_empty() {
                    "every condition of both holds, so no fact decides: a person does".to_string()
                } else {
                    format!("the facts that would decide (conditions not met): {}", open.join(", "))
                };
                notes.push(format!(
                    "`{}` and `{}` fit equally well ({} of {}); {decide}",
                    b.rule, t.rule, b.met, b.total
                ));
                Recommendation::Review
            } else if verdict.is_organization() && !warnings.is_empty() {
                let w: Vec<String> = warnings.iter().map(|w| format!("`{}`", w.rule)).collect();
                let facts: Vec<String> = warnings.iter().flat_map(|w| deciding(w, true)).collect();
                notes.push(format!(
                    "`{}` says organization, but {} says it should not be one; the facts that decide: {}",
                    b.rule,
                    w.join(", "),
                    facts.join(", ")
                ));
                Recommendation::Review
            } else {
                Recommendation::Case(verdict)
            }
        }
    };
    let nearest = if best.is_none() { rest.into_iter().next().map(|(_, m)| m) } else { None };
    Decision { recommendation, best, nearest, also, warnings, notes }
}

#[cfg(test)]
#[path = "score_tests.rs"]
mod tests;
