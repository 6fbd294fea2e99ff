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
pub mod find;
pub mod load;
pub mod overlaps;
pub mod people;
pub mod recommend;
pub mod rule;
pub mod score;

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use candidates::{By, Candidate};
pub use catalogue::Catalogue;
pub use find::{CandidatesFile, find_and_score};
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
    /// Declared facts that contradict the snapshot, one per fact, with both sources.
    pub contradictions: Vec<Contradiction>,
    /// The overlapping candidate whose organization it joins (`overlaps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// Why it has no organization of its own: a subset of, an umbrella over,
    /// or sharing templates with candidates that have one (`overlaps::Relation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<overlaps::Relation>,
}

/// A declared fact whose value differs from the one derived from the snapshot.
/// The verdict uses the declared value; the derived one keeps all its evidence here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contradiction {
    pub fact: String,
    pub declared: facts::Value,
    /// Where it is declared (`file:line:column`), and why.
    pub declared_at: String,
    pub because: String,
    pub derived: facts::Value,
    pub derived_evidence: Vec<Evidence>,
    /// The value the verdict used.
    pub used: Origin,
}

impl Contradiction {
    /// One short line: the fact, both values with their sources, and which one counts.
    pub fn line(&self) -> String {
        let key = match self.derived_evidence.split_first() {
            None => String::new(),
            Some((e, rest)) => {
                let at = e.at.as_ref().map(|a| format!(" ({a})")).unwrap_or_default();
                let more = if rest.is_empty() { String::new() } else { format!(", and {} more", rest.len()) };
                format!(": {}{at}{more}", e.text)
            }
        };
        let used = match self.used {
            Origin::Declared => format!("declared `{}`", self.declared),
            Origin::Derived => format!("derived `{}`", self.derived),
        };
        format!(
            "`{}` declared `{}` at {}, derived `{}` from the snapshot{key}; the verdict uses the {used}",
            self.fact, self.declared, self.declared_at, self.derived
        )
    }
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
    // Candidates are scored independently, in parts on the available cores.
    let mut usages: Vec<Vec<derive::Usage>> = crate::cores::map_parts(&candidates, |_, c| ctx.usage(&c.members));
    let mut dedicated_to: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, usage) in usages.iter().enumerate() {
        for u in usage.iter().filter(|u| u.dedicated) {
            dedicated_to.entry(u.template.clone()).or_default().push(i);
        }
    }
    // A template several candidates would own is credited to the smallest that
    // covers it: of those holding at least `derive::COVER_SHARE`% as many of its
    // users as the one holding most (a team and a group around it), the smallest,
    // then first by name; never an on-call group holding half the team's users.
    for (template, owners) in dedicated_to.iter_mut().filter(|(_, o)| o.len() > 1) {
        let covered = |c: usize| usages[c].iter().find(|u| &u.template == template).map_or(0, |u| u.members);
        let most = owners.iter().map(|&o| covered(o)).max().unwrap_or(0);
        let short = |c: usize| covered(c) * 100 < derive::COVER_SHARE * most;
        owners.sort_by(|&a, &b| {
            (short(a), candidates[a].members.len(), &candidates[a].name).cmp(&(
                short(b),
                candidates[b].members.len(),
                &candidates[b].name,
            ))
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
    let mut scored = crate::cores::map_parts(&candidates, |i, c| {
        let mut facts = derive::facts(ctx, c, &usages[i], &dedicated_anywhere, &central_written[i]);
        let contradictions = apply_declared(c, &mut facts);
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
            contradictions,
            merged_into: None,
            relation: None,
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

/// Declared facts replace derived ones. A contradiction is recorded once, with
/// both sources; the fact keeps only the declared evidence (the derived
/// evidence moves to the contradiction, so it is not shown as the value's support).
fn apply_declared(c: &Candidate, facts: &mut Facts) -> Vec<Contradiction> {
    let mut contradictions = Vec::new();
    for d in &c.declared {
        let declared = Evidence::at(format!("declared: {}", d.because), d.at.clone());
        let fact = facts.entry(d.fact.clone()).or_insert_with(|| facts::Fact::unknown(""));
        if let Some(derived) = fact.value.clone().filter(|v| *v != d.value) {
            contradictions.push(Contradiction {
                fact: d.fact.clone(),
                declared: d.value.clone(),
                declared_at: d.at.clone(),
                because: d.because.clone(),
                derived,
                derived_evidence: std::mem::take(&mut fact.evidence),
                used: Origin::Declared,
            });
        }
        fact.evidence.insert(0, declared);
        fact.value = Some(d.value.clone());
        fact.origin = Origin::Declared;
        fact.unknown = None;
    }
    contradictions
}

fn conflicts(
    ctx: &derive::Context,
    candidates: &[Candidate],
    me: usize,
    usage: &[derive::Usage],
    dedicated_to: &BTreeMap<String, Vec<usize>>,
    of_user: &HashMap<&str, Vec<usize>>,
) -> Conflicts {
    let mine = derive::Members(&candidates[me].members);
    let mut out = Conflicts::default();
    for u in usage {
        let owners: Vec<usize> = dedicated_to.get(&u.template).cloned().unwrap_or_default();
        let outside = u.users - u.members;
        let relevant = (u.dedicated && outside > 0) || (!u.dedicated && !owners.is_empty());
        if !relevant {
            continue;
        }
        let mut others: BTreeMap<&str, usize> = BTreeMap::new();
        for user in ctx.template_users.get(u.template.as_str()).into_iter().flatten().filter(|x| !mine.contains(x)) {
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
    for m in mine.iter() {
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
