//! Rules as data, and scoring candidates against them: which teams should get
//! an organization, by the cases of Coder's "Organizations - best practices"
//! page, with the evidence for every verdict.
//!
//! `catalogue` loads and checks rule files; `candidates` and `candfile` say
//! who the candidates are; `derive` and `people` compute facts; `score`
//! decides; `recommend` turns the verdicts into a draft split file. All pure:
//! commands read the files and pass their text.

pub mod candfile;
pub mod candidates;
pub mod catalogue;
pub mod derive;
pub mod facts;
pub mod load;
pub mod overlaps;
pub mod people;
pub mod recommend;
pub mod rule;
pub mod score;
pub mod tomlread;

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use candidates::{By, Candidate};
pub use catalogue::Catalogue;
pub use recommend::{recommend_split, render_split};
pub use score::{Decision, Recommendation};

use facts::{Evidence, Facts, Origin};

/// The scoring of every candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Scoring {
    /// How the candidates were found ("Coder groups", ...).
    pub candidates_from: String,
    /// Rule ids in the order they were applied.
    pub rules: Vec<String>,
    /// Remarks about the run (empty groups left out, candidates replaced, overridden rules).
    pub notes: Vec<String>,
    pub candidates: Vec<Scored>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    #[serde(flatten)]
    pub candidate: Candidate,
    pub members: usize,
    #[serde(flatten)]
    pub decision: Decision,
    /// The templates its members use, by name.
    pub templates: Vec<TemplateUse>,
    pub facts: Facts,
    pub conflicts: Conflicts,
    /// Declared facts that contradict the snapshot, with both sources.
    pub fact_warnings: Vec<String>,
    /// The overlapping candidate whose organization it joins (`overlaps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TemplateUse {
    pub name: String,
    /// Its members among the template's users.
    pub members: usize,
    pub users: usize,
    /// Mostly (more than half) used by its members.
    pub dedicated: bool,
    /// Who created the template (username), and whether that is one of its members.
    pub author: String,
    pub by_member: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Conflicts {
    /// Templates it uses that others use too, where that matters for a split:
    /// its dedicated templates used by people outside it, and templates
    /// dedicated to other candidates that its members use.
    pub shared_templates: Vec<SharedTemplate>,
    /// Other candidates with members in common, most first.
    pub overlapping_candidates: Vec<Overlap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SharedTemplate {
    pub template: String,
    /// The candidate it is dedicated to (itself, or another).
    pub dedicated_to: Vec<String>,
    /// This candidate's members among its users.
    pub members: usize,
    /// Its users outside this candidate.
    pub outside_users: usize,
    /// Other candidates among those outside users.
    pub other_candidates: Vec<Overlap>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Overlap {
    pub candidate: String,
    pub users: usize,
}

/// Score candidates against the catalogue. Pure: the snapshot, the
/// candidates and the rules are values.
pub fn score(
    ctx: &derive::Context,
    candidates: Vec<Candidate>,
    catalogue: &Catalogue,
    by: &str,
    notes: Vec<String>,
) -> Scoring {
    // Candidates are scored independently: half of them on a second core.
    let mut usages: Vec<Vec<derive::Usage>> = crate::cores::map_halves(&candidates, |_, c| ctx.usage(&c.members));
    let mut dedicated_to: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, usage) in usages.iter().enumerate() {
        for u in usage.iter().filter(|u| u.dedicated) {
            dedicated_to.entry(u.template.clone()).or_default().push(i);
        }
    }
    // A template several candidates would own is credited to the smallest (then first by name).
    for (template, owners) in dedicated_to.iter_mut().filter(|(_, o)| o.len() > 1) {
        owners.sort_by(|&a, &b| {
            (candidates[a].members.len(), &candidates[a].name).cmp(&(candidates[b].members.len(), &candidates[b].name))
        });
        for &o in &owners[1..] {
            for u in usages[o].iter_mut().filter(|u| &u.template == template) {
                u.dedicated = false;
            }
        }
        owners.truncate(1);
    }
    let dedicated_anywhere: BTreeSet<String> = dedicated_to.keys().cloned().collect();
    let mut of_user: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        for m in &c.members {
            of_user.entry(m).or_default().push(i);
        }
    }
    let central_written = derive::central_authors(ctx, &candidates, &of_user, &dedicated_anywhere);
    let mut scored = crate::cores::map_halves(&candidates, |i, c| {
        let mut facts = derive::facts(ctx, c, &usages[i], &dedicated_anywhere, &central_written[i]);
        let fact_warnings = apply_declared(c, &mut facts);
        let decision = score::decide(catalogue, &facts, &c.suppressed);
        let conflicts = conflicts(ctx, &candidates, i, &usages[i], &dedicated_to, &of_user);
        let templates = template_uses(ctx, c, &usages[i]);
        Scored {
            candidate: c.clone(),
            members: c.members.len(),
            decision,
            templates,
            facts,
            conflicts,
            fact_warnings,
            merged_into: None,
        }
    });
    scored.sort_by(|a, b| a.candidate.name.cmp(&b.candidate.name));
    overlaps::apply(&mut scored);
    Scoring {
        candidates_from: by.to_string(),
        rules: catalogue.rules.iter().map(|r| r.id.clone()).collect(),
        notes,
        candidates: scored,
    }
}

fn template_uses(ctx: &derive::Context, c: &Candidate, usage: &[derive::Usage]) -> Vec<TemplateUse> {
    usage
        .iter()
        .filter_map(|u| ctx.index.template_by_id.get(u.template.as_str()).map(|t| (u, t)))
        .map(|(u, t)| TemplateUse {
            name: t.name.clone(),
            members: u.members,
            users: u.users,
            dedicated: u.dedicated,
            author: ctx.index.username(&t.created_by_id).to_string(),
            by_member: c.members.binary_search(&t.created_by_id).is_ok(),
        })
        .collect()
}

/// Declared facts replace derived ones; a contradiction is a warning naming both sources.
fn apply_declared(c: &Candidate, facts: &mut Facts) -> Vec<String> {
    let mut warnings = Vec::new();
    for d in &c.declared {
        let declared = Evidence::at(format!("declared: {}", d.because), d.at.clone());
        let fact = facts.entry(d.fact.clone()).or_insert_with(|| facts::Fact::unknown(""));
        if let Some(derived) = fact.value.as_ref().filter(|v| **v != d.value) {
            let seen = fact.evidence.iter().map(|e| e.text.clone()).collect::<Vec<_>>().join("; ");
            warnings.push(format!(
                "`{}`: declared `{}` at {} (\"{}\"), but the snapshot shows `{derived}` ({seen}); the declared value is used",
                d.fact, d.value, d.at, d.because
            ));
            fact.evidence.insert(0, Evidence::new(format!("the snapshot shows `{derived}`")));
        }
        fact.evidence.insert(0, declared);
        fact.value = Some(d.value.clone());
        fact.origin = Origin::Declared;
        fact.unknown = None;
    }
    warnings
}

fn conflicts(
    ctx: &derive::Context,
    candidates: &[Candidate],
    me: usize,
    usage: &[derive::Usage],
    dedicated_to: &BTreeMap<String, Vec<usize>>,
    of_user: &HashMap<&str, Vec<usize>>,
) -> Conflicts {
    let mine: BTreeSet<&str> = candidates[me].members.iter().map(String::as_str).collect();
    let mut out = Conflicts::default();
    for u in usage {
        let owners: Vec<usize> = dedicated_to.get(&u.template).cloned().unwrap_or_default();
        let outside = u.users - u.members;
        let relevant = (u.dedicated && outside > 0) || (!u.dedicated && !owners.is_empty());
        if !relevant {
            continue;
        }
        let mut others: BTreeMap<&str, usize> = BTreeMap::new();
        for user in ctx.template_users.get(u.template.as_str()).into_iter().flatten().filter(|x| !mine.contains(*x)) {
            for &c in of_user.get(user).into_iter().flatten() {
                *others.entry(&candidates[c].name).or_default() += 1;
            }
        }
        let name = ctx.index.template_by_id.get(u.template.as_str()).map_or(u.template.clone(), |t| t.name.clone());
        out.shared_templates.push(SharedTemplate {
            template: name,
            dedicated_to: owners.iter().map(|&c| candidates[c].name.clone()).collect(),
            members: u.members,
            outside_users: outside,
            other_candidates: sorted_overlaps(others),
        });
    }
    let mut overlap: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &mine {
        for &c in of_user.get(m).into_iter().flatten().filter(|&&c| c != me) {
            *overlap.entry(&candidates[c].name).or_default() += 1;
        }
    }
    out.overlapping_candidates = sorted_overlaps(overlap);
    out
}

/// Most users first, then by name.
fn sorted_overlaps(map: BTreeMap<&str, usize>) -> Vec<Overlap> {
    let mut v: Vec<Overlap> = map.into_iter().map(|(c, n)| Overlap { candidate: c.to_string(), users: n }).collect();
    v.sort_by(|a, b| b.users.cmp(&a.users).then_with(|| a.candidate.cmp(&b.candidate)));
    v
}
