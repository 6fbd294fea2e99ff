//! Overlapping candidates: subsets (an on-call group inside a team), umbrella
//! groups (a guild or a department spanning teams) and candidates sharing
//! their templates. Scoring judges each candidate alone; this pass makes sure
//! the recommendation never gives two organizations to the same people: one
//! organization per cluster of overlapping candidates when they agree, and
//! `review` for all of them when they do not. Pure: it reads member lists and
//! template uses, so it holds on any deployment.

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::score::Recommendation;
use super::{Scored, TemplateUse};

/// Two candidates overlap in members when their common members are at least
/// this share (%) of the smaller one (a subset is 100%).
pub const MEMBER_OVERLAP: usize = 50;
/// A template is one of a candidate's own templates (for sharing) when its
/// members are at least this share (%) of the template's users and at least
/// this share of its members use it: a template most of the deployment uses
/// is nobody's.
pub const TEMPLATE_SHARE: usize = 25;
/// Two candidates share their templates when the Jaccard index of their own
/// templates is at least this (%).
pub const TEMPLATE_OVERLAP: usize = 50;
/// An umbrella candidate has at least this share (%) of its members in each
/// of two or more candidates that do not overlap each other...
pub const UMBRELLA_PART: usize = 20;
/// ...and less than this share (%) in any one of them (more is a subset).
pub const SUBSET: usize = 80;

/// How `orgsplit rules explain` states the definitions.
pub const DEFINITION: &str = "Overlapping candidates (applied after every rule, to candidates whose verdict is an \
organization): two candidates overlap when their common members are at least 50% of the smaller one (a subset), \
or when the Jaccard index of their own templates is at least 50% (a template is a candidate's own when its members \
are at least 25% of the template's users and at least 25% of them use it). A candidate with at least 20% of its \
members in each of two or more candidates that do not overlap each other and are not 80% inside it, and less than 80% in any one, is an \
umbrella (a guild or department spanning teams): it gets `review`, and its people go with those teams. Overlapping \
candidates form clusters; a cluster whose verdicts agree becomes one organization, named after its largest \
candidate and holding everyone's groups, users and templates; a cluster whose verdicts disagree gets `review` for \
every candidate in it. No two recommended organizations are thus made for the same people. A candidate not \
recommended an organization whose main templates (each used by at least 25% of its members) are all the own \
templates of organizations (an on-call group or an SRE group on a team's template) goes where its templates go: into \
that organization when they are one organization's, `review` when they are several organizations'.";

/// Why a candidate has no organization of its own, in terms of the
/// candidates that do (see `RELATION`): shown next to its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Relation {
    /// At least `SUBSET`% of its members are in that candidate (an on-call group in its team).
    SubsetOf { of: String },
    /// At least `UMBRELLA_PART`% of its members in each of these candidates
    /// (a guild or a department spanning teams), less than `SUBSET`% in any one.
    UmbrellaOver { over: Vec<String> },
    /// Neither, but it joins that candidate's organization: they share templates.
    SharesTemplatesWith { with: String },
}

impl Relation {
    /// "subset of `pricing`", "umbrella over `pricing` and `risk`", ...
    pub fn label(&self) -> String {
        match self {
            Relation::SubsetOf { of } => format!("subset of `{of}`"),
            Relation::UmbrellaOver { over } => {
                let names: Vec<String> = over.iter().map(|n| format!("`{n}`")).collect();
                let list = match names.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                    _ => names.join(""),
                };
                format!("umbrella over {list}")
            }
            Relation::SharesTemplatesWith { with } => format!("shares its templates with `{with}`"),
        }
    }
}

/// How `orgsplit rules explain` states the labels.
pub const RELATION: &str = "Every candidate with no organization of its own (not recommended one, or joining another's) is labelled by the candidates that get one: a subset of X when at least 80% of its members are in X; an umbrella over X and Y when at least 20% of its members are in each of two or more of them and less than 80% of its members and of theirs are in any one; otherwise, when it joins X's organization, it shares its templates with X. `orgsplit score` and the report show the label next to the verdict, so a reader sees why a group got no organization of its own.";

/// What the pass decided for one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its organization also holds these candidates (names).
    Leads(Vec<String>),
    /// Folded into that candidate's organization.
    MergedInto(String),
    /// An umbrella over these candidates: `review`.
    Umbrella(Vec<String>),
    /// In a cluster whose verdicts disagree (the other candidates): `review`.
    Disagrees(Vec<String>),
}

/// A candidate as the pass sees it.
pub struct Shape<'a> {
    pub name: &'a str,
    /// Sorted member ids.
    pub members: &'a [String],
    pub templates: BTreeSet<&'a str>,
    pub recommendation: Recommendation,
}

/// The templates that are a candidate's own for sharing (see `TEMPLATE_SHARE`).
pub fn own_templates(members: usize, uses: &[TemplateUse]) -> BTreeSet<&str> {
    uses.iter()
        .filter(|t| {
            t.members > 0
                && t.members * 100 >= TEMPLATE_SHARE * t.users.max(1)
                && t.members * 100 >= TEMPLATE_SHARE * members.max(1)
        })
        .map(|t| t.name.as_str())
        .collect()
}

fn linked(a: &Shape, b: &Shape, shared: usize) -> bool {
    let smaller = a.members.len().min(b.members.len());
    if smaller > 0 && shared * 100 >= MEMBER_OVERLAP * smaller {
        return true;
    }
    let both = a.templates.intersection(&b.templates).count();
    let either = a.templates.union(&b.templates).count();
    both > 0 && both * 100 >= TEMPLATE_OVERLAP * either
}

/// The outcome for each candidate that overlaps another recommended one.
pub fn resolve(shapes: &[Shape]) -> BTreeMap<usize, Outcome> {
    let orgs: Vec<usize> = (0..shapes.len()).filter(|&i| shapes[i].recommendation.is_organization()).collect();
    // Members in common, counted through each member's candidates: comparing
    // every pair's member lists was most of scoring's string compares at 400
    // organizations. Pairs with none in common are absent (0).
    let mut of_member: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in &orgs {
        for m in shapes[i].members {
            of_member.entry(m.as_str()).or_default().push(i);
        }
    }
    let mut counted: HashMap<(usize, usize), usize> = HashMap::new();
    for holders in of_member.values().filter(|h| h.len() > 1) {
        for &a in holders {
            for &b in holders.iter().filter(|&&b| b != a) {
                *counted.entry((a, b)).or_default() += 1;
            }
        }
    }
    let shared = |a: usize, b: usize| counted.get(&(a, b)).copied().unwrap_or(0);
    let mut links: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (k, &i) in orgs.iter().enumerate() {
        for &j in &orgs[k + 1..] {
            let n = shared(i, j);
            if linked(&shapes[i], &shapes[j], n) {
                links.insert((i, j));
                links.insert((j, i));
            }
        }
    }
    let mut out = BTreeMap::new();
    // Umbrellas first: they would chain separate teams into one cluster.
    let mut umbrellas = BTreeSet::new();
    for &u in &orgs {
        let size = shapes[u].members.len().max(1);
        let parts: Vec<usize> = orgs
            .iter()
            .copied()
            .filter(|&v| v != u && shared(u, v) * 100 >= UMBRELLA_PART * size)
            // A candidate mostly inside it is its subset, not a team it spans.
            .filter(|&v| shared(u, v) * 100 < SUBSET * shapes[v].members.len().max(1))
            .collect();
        let most = parts.iter().map(|&v| shared(u, v)).max().unwrap_or(0);
        let separate = parts.iter().any(|&a| parts.iter().any(|&b| a < b && !links.contains(&(a, b))));
        if separate && most * 100 < SUBSET * size {
            umbrellas.insert(u);
            out.insert(u, Outcome::Umbrella(parts.iter().map(|&v| shapes[v].name.to_string()).collect()));
        }
    }
    // Clusters: connected components of the links among the rest.
    let mut seen = BTreeSet::new();
    for &start in orgs.iter().filter(|i| !umbrellas.contains(*i)) {
        if !seen.insert(start) {
            continue;
        }
        let mut cluster = vec![start];
        let mut k = 0;
        while k < cluster.len() {
            let i = cluster[k];
            for &j in &orgs {
                if !umbrellas.contains(&j) && links.contains(&(i, j)) && seen.insert(j) {
                    cluster.push(j);
                }
            }
            k += 1;
        }
        if cluster.len() < 2 {
            continue;
        }
        cluster.sort_by(|&a, &b| {
            shapes[b].members.len().cmp(&shapes[a].members.len()).then_with(|| shapes[a].name.cmp(shapes[b].name))
        });
        let names = |skip: usize| -> Vec<String> {
            let mut v: Vec<String> =
                cluster.iter().filter(|&&c| c != skip).map(|&c| shapes[c].name.to_string()).collect();
            v.sort();
            v
        };
        let agree = cluster.iter().all(|&c| shapes[c].recommendation == shapes[cluster[0]].recommendation);
        if agree {
            let lead = cluster[0];
            out.insert(lead, Outcome::Leads(names(lead)));
            for &c in &cluster[1..] {
                out.insert(c, Outcome::MergedInto(shapes[lead].name.to_string()));
            }
        } else {
            for &c in &cluster {
                out.insert(c, Outcome::Disagrees(names(c)));
            }
        }
    }
    out
}

/// Where a candidate with no organization of its own goes: its main
/// templates (used by at least `TEMPLATE_SHARE`% of its members), when every
/// one of them is dedicated to a candidate recommended an organization, say
/// which organizations (names, sorted). Empty when it has no main template
/// or one is nobody's organization's.
fn follows<'a>(
    name: &str,
    members: usize,
    uses: &[TemplateUse],
    org_of_template: &BTreeMap<&str, &'a str>,
) -> BTreeSet<&'a str> {
    let mut to = BTreeSet::new();
    for t in uses.iter().filter(|t| t.members * 100 >= TEMPLATE_SHARE * members.max(1)) {
        match org_of_template.get(t.name.as_str()) {
            Some(o) if *o != name => {
                to.insert(*o);
            }
            _ => return BTreeSet::new(),
        }
    }
    to
}

/// Candidates working on organizations' own templates follow them (see
/// `DEFINITION`): into the one organization, or `review` between several.
fn apply_followers(scored: &mut [Scored]) {
    // Template -> the organization it is dedicated to (its lead, if merged).
    let mut org_of_template: BTreeMap<String, String> = BTreeMap::new();
    for s in scored.iter().filter(|s| s.decision.recommendation.is_organization()) {
        let home = s.merged_into.clone().unwrap_or_else(|| s.candidate.name.clone());
        for t in s.templates.iter().filter(|t| t.dedicated) {
            org_of_template.insert(t.name.clone(), home.clone());
        }
    }
    let lookup: BTreeMap<&str, &str> = org_of_template.iter().map(|(t, o)| (t.as_str(), o.as_str())).collect();
    let recommendation: BTreeMap<String, Recommendation> =
        scored.iter().map(|s| (s.candidate.name.clone(), s.decision.recommendation)).collect();
    let moves: Vec<(usize, Vec<String>)> = scored
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.decision.recommendation.is_organization() && s.merged_into.is_none())
        .map(|(i, s)| {
            let to = follows(&s.candidate.name, s.members, &s.templates, &lookup);
            (i, to.into_iter().map(str::to_string).collect::<Vec<_>>())
        })
        .filter(|(_, to)| !to.is_empty())
        .collect();
    let list = |v: &[String]| v.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    for (i, to) in moves {
        let s = &mut scored[i];
        if let [lead] = to.as_slice() {
            s.decision.notes.push(format!(
                "its members work on `{lead}`'s own templates: it joins `{lead}`'s organization (its verdict alone \
                 would be {})",
                s.decision.recommendation.id()
            ));
            s.decision.recommendation = recommendation[lead];
            s.merged_into = Some(lead.clone());
        } else {
            s.decision.notes.push(format!(
                "its members work on the own templates of {}, which get organizations of their own: its people go \
                 with those teams; a person decides",
                list(&to)
            ));
            s.decision.recommendation = Recommendation::Review;
        }
    }
}

/// Apply the pass to scored candidates: notes, `review` where it says so,
/// and who is folded into whose organization.
pub fn apply(scored: &mut [Scored]) {
    let outcomes = {
        let shapes: Vec<Shape> = scored
            .iter()
            .map(|s| Shape {
                name: &s.candidate.name,
                members: &s.candidate.members,
                templates: own_templates(s.members, &s.templates),
                recommendation: s.decision.recommendation,
            })
            .collect();
        resolve(&shapes)
    };
    let list = |v: &[String]| v.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    for (i, outcome) in outcomes {
        let s = &mut scored[i];
        let note = match &outcome {
            Outcome::Leads(others) => format!(
                "overlaps {} (shared members or templates): one organization holds them all, named after this one",
                list(others)
            ),
            Outcome::MergedInto(lead) => format!(
                "overlaps `{lead}` (shared members or templates): it joins `{lead}`'s organization instead of getting its own"
            ),
            Outcome::Umbrella(parts) => format!(
                "spans {}, which do not overlap each other: a group across teams is not an organization of its own; \
                 its people go with those teams",
                list(parts)
            ),
            Outcome::Disagrees(others) => format!(
                "overlaps {} (shared members or templates) but their verdicts differ ({}): one organization for \
                 these people, a person decides which",
                list(others),
                s.decision.recommendation.id()
            ),
        };
        s.decision.notes.push(note);
        match outcome {
            Outcome::Umbrella(_) | Outcome::Disagrees(_) => s.decision.recommendation = Recommendation::Review,
            Outcome::MergedInto(lead) => s.merged_into = Some(lead),
            Outcome::Leads(_) => {}
        }
    }
    apply_followers(scored);
    let relations = relations(scored);
    for (s, r) in scored.iter_mut().zip(relations) {
        s.relation = r;
    }
}

/// Label each candidate without an organization of its own by those with one
/// (see `RELATION`). One pass over the members: no pairwise comparison, so it
/// stays cheap with a thousand candidates.
pub fn relations(scored: &[Scored]) -> Vec<Option<Relation>> {
    let homes: Vec<usize> = (0..scored.len())
        .filter(|&i| scored[i].decision.recommendation.is_organization() && scored[i].merged_into.is_none())
        .collect();
    let mut home_of: HashMap<&str, Vec<usize>> = HashMap::new();
    for &h in &homes {
        for m in &scored[h].candidate.members {
            home_of.entry(m.as_str()).or_default().push(h);
        }
    }
    scored
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if homes.binary_search(&i).is_ok() {
                return None;
            }
            let mut common: BTreeMap<usize, usize> = BTreeMap::new();
            for m in &s.candidate.members {
                for &h in home_of.get(m.as_str()).into_iter().flatten() {
                    *common.entry(h).or_default() += 1;
                }
            }
            relation(s, scored, &common)
        })
        .collect()
}

fn relation(s: &Scored, scored: &[Scored], common: &BTreeMap<usize, usize>) -> Option<Relation> {
    let size = s.members.max(1);
    let name = |h: usize| scored[h].candidate.name.clone();
    // The home holding most of its members (then the smaller, then by name).
    let subset = common
        .iter()
        .filter(|&(_, &n)| n * 100 >= SUBSET * size)
        .max_by(|a, b| {
            a.1.cmp(b.1)
                .then_with(|| scored[*b.0].members.cmp(&scored[*a.0].members))
                .then_with(|| scored[*b.0].candidate.name.cmp(&scored[*a.0].candidate.name))
        })
        .map(|(&h, _)| h);
    if let Some(h) = subset {
        return Some(Relation::SubsetOf { of: name(h) });
    }
    let mut over: Vec<String> = common
        .iter()
        .filter(|&(&h, &n)| n * 100 >= UMBRELLA_PART * size && n * 100 < SUBSET * scored[h].members.max(1))
        .map(|(&h, _)| name(h))
        .collect();
    if over.len() >= 2 {
        over.sort();
        return Some(Relation::UmbrellaOver { over });
    }
    s.merged_into.as_ref().map(|with| Relation::SharesTemplatesWith { with: with.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::rule::Verdict;

    const ORG: Recommendation = Recommendation::Case(Verdict::Organization);

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        let mut v: Vec<String> = range.map(|i| format!("u{i:04}")).collect();
        v.sort();
        v
    }

    fn shape<'a>(name: &'a str, members: &'a [String], templates: &[&'a str], r: Recommendation) -> Shape<'a> {
        Shape { name, members, templates: templates.iter().copied().collect(), recommendation: r }
    }

    /// Who gets an organization, and for which people: no two for the same person.
    fn organizations(shapes: &[Shape], out: &BTreeMap<usize, Outcome>) -> Vec<BTreeSet<String>> {
        let mut orgs: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (i, s) in shapes.iter().enumerate() {
            let home = match out.get(&i) {
                None | Some(Outcome::Leads(_)) if s.recommendation.is_organization() => s.name,
                Some(Outcome::MergedInto(lead)) => lead.as_str(),
                _ => continue,
            };
            orgs.entry(home).or_default().extend(s.members.iter().cloned());
        }
        orgs.into_values().collect()
    }

    /// No two organizations overlap as candidates do (`MEMBER_OVERLAP`).
    fn no_person_twice(orgs: &[BTreeSet<String>]) {
        for (a, x) in orgs.iter().enumerate() {
            for y in &orgs[a + 1..] {
                let both = x.intersection(y).count();
                assert!(
                    both * 100 < MEMBER_OVERLAP * x.len().min(y.len()),
                    "two organizations for the same people: {x:?} {y:?}"
                );
            }
        }
    }

    #[test]
    fn a_subset_joins_its_team() {
        let (team, oncall, other) = (ids(0..40), ids(5..12), ids(100..130));
        let shapes = [
            shape("team", &team, &["team-k8s"], ORG),
            shape("oncall", &oncall, &["team-k8s"], ORG),
            shape("other", &other, &["other-k8s"], ORG),
        ];
        let out = resolve(&shapes);
        assert_eq!(out.get(&0), Some(&Outcome::Leads(vec!["oncall".into()])));
        assert_eq!(out.get(&1), Some(&Outcome::MergedInto("team".into())));
        assert_eq!(out.get(&2), None, "a separate team is left alone");
        let orgs = organizations(&shapes, &out);
        assert_eq!(orgs.len(), 2);
        no_person_twice(&orgs);
    }

    #[test]
    fn an_umbrella_is_reviewed_and_the_teams_stay_apart() {
        let (a, b) = (ids(0..30), ids(30..60));
        let mut guild = ids(20..30);
        guild.extend(ids(30..38));
        guild.sort();
        let shapes =
            [shape("a", &a, &["a-k8s"], ORG), shape("b", &b, &["b-k8s"], ORG), shape("guild", &guild, &[], ORG)];
        let out = resolve(&shapes);
        assert_eq!(out.get(&2), Some(&Outcome::Umbrella(vec!["a".into(), "b".into()])));
        assert_eq!((out.get(&0), out.get(&1)), (None, None));
        let orgs = organizations(&shapes, &out);
        assert_eq!(orgs.len(), 2);
        no_person_twice(&orgs);
    }

    #[test]
    fn candidates_sharing_their_templates_are_one_organization_or_review() {
        let (a, b) = (ids(0..20), ids(20..50));
        let shapes = [shape("a", &a, &["svc", "svc-gpu"], ORG), shape("b", &b, &["svc", "svc-gpu", "b-vm"], ORG)];
        let out = resolve(&shapes);
        assert_eq!(out.get(&1), Some(&Outcome::Leads(vec!["a".into()])), "the larger leads");
        assert_eq!(out.get(&0), Some(&Outcome::MergedInto("b".into())));
        no_person_twice(&organizations(&shapes, &out));

        let proxies = Recommendation::Case(Verdict::OrganizationWithWorkspaceProxies);
        let shapes = [shape("a", &a, &["svc", "svc-gpu"], ORG), shape("b", &b, &["svc", "svc-gpu"], proxies)];
        let out = resolve(&shapes);
        assert_eq!(out.get(&0), Some(&Outcome::Disagrees(vec!["b".into()])));
        assert_eq!(out.get(&1), Some(&Outcome::Disagrees(vec!["a".into()])));
        assert!(organizations(&shapes, &out).is_empty());
    }

    #[test]
    fn small_overlaps_and_non_organizations_are_left_alone() {
        let (a, b, c) = (ids(0..40), ids(38..80), ids(0..40));
        let shapes = [
            shape("a", &a, &["a-k8s"], ORG),
            shape("b", &b, &["b-k8s"], ORG),
            shape("c", &c, &["a-k8s"], Recommendation::NoClearCase),
        ];
        assert!(resolve(&shapes).is_empty());
    }

    #[test]
    fn own_templates_leave_central_ones_out() {
        let t = |name: &str, members, users| TemplateUse {
            name: name.into(),
            members,
            users,
            dedicated: false,
            author: String::new(),
            by_member: false,
        };
        let uses = [t("central", 30, 900), t("team", 25, 40), t("rare", 1, 2)];
        assert_eq!(own_templates(40, &uses), ["team"].into_iter().collect());
    }

    /// Planted structures at random sizes: whatever the sizes, no person is
    /// in two recommended organizations, and a subset never keeps its own.
    #[test]
    fn no_two_organizations_for_the_same_people_at_random_sizes() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..300 {
            let a_len = 10 + next(60);
            let b_len = 10 + next(60);
            let a = ids(0..a_len);
            let b = ids(a_len..a_len + b_len);
            let sub_start = next(a_len - 5);
            let sub = ids(sub_start..sub_start + 1 + next(a_len - sub_start));
            let half = a_len.saturating_sub(1 + next(a_len / 2 + 1));
            let mut guild = ids(half..a_len);
            guild.extend(ids(a_len..a_len + 1 + next(b_len)));
            guild.sort();
            let shapes = [
                shape("a", &a, &["a-k8s"], ORG),
                shape("b", &b, &["b-k8s"], ORG),
                shape("sub", &sub, &["a-k8s"], ORG),
                shape("guild", &guild, &[], ORG),
            ];
            let out = resolve(&shapes);
            let orgs = organizations(&shapes, &out);
            no_person_twice(&orgs);
            assert!(matches!(out.get(&2), Some(Outcome::MergedInto(_))), "the subset is folded: {out:?}");
            assert!(!orgs.is_empty(), "{out:?}");
        }
    }

    #[test]
    fn a_group_on_one_organizations_templates_follows_it_and_on_several_gets_review() {
        let tu = |name: &str, members: usize| TemplateUse {
            name: name.into(),
            members,
            users: 100,
            dedicated: false,
            author: String::new(),
            by_member: false,
        };
        let orgs: BTreeMap<&str, &str> = [("auth-k8s", "auth"), ("maps-k8s", "maps")].into_iter().collect();
        // An SRE group on the auth team's template goes where it goes.
        assert_eq!(follows("auth-sre", 10, &[tu("auth-k8s", 10)], &orgs), BTreeSet::from(["auth"]));
        // A guild half on each team's template: two organizations, so review.
        let guild = [tu("auth-k8s", 5), tu("maps-k8s", 5)];
        assert_eq!(follows("guild", 10, &guild, &orgs), BTreeSet::from(["auth", "maps"]));
        // A main template that is no organization's own: it stays.
        assert!(follows("web", 10, &[tu("auth-k8s", 5), tu("k8s-dev", 8)], &orgs).is_empty());
        // A template few of its members use does not count.
        assert_eq!(follows("qa", 10, &[tu("auth-k8s", 9), tu("k8s-dev", 2)], &orgs), BTreeSet::from(["auth"]));
        // Its own templates are not another's, and no main template means nowhere.
        assert!(follows("auth", 10, &[tu("auth-k8s", 10)], &orgs).is_empty());
        assert!(follows("idle", 10, &[], &orgs).is_empty());
    }

    fn scored(name: &str, members: Vec<String>, r: Recommendation, merged_into: Option<&str>) -> Scored {
        use crate::rules::candidates::Candidate;
        use crate::rules::score::Decision;
        Scored {
            candidate: Candidate {
                name: name.into(),
                display_name: name.into(),
                source: String::new(),
                selector: Default::default(),
                members: members.clone(),
                declared: vec![],
                suppressed: vec![],
            },
            members: members.len(),
            decision: Decision {
                recommendation: r,
                best: None,
                nearest: None,
                also: vec![],
                warnings: vec![],
                notes: vec![],
            },
            templates: vec![],
            facts: Default::default(),
            conflicts: Default::default(),
            contradictions: vec![],
            merged_into: merged_into.map(str::to_string),
            relation: None,
        }
    }

    #[test]
    fn candidates_without_an_organization_of_their_own_say_why() {
        let mut guild = ids(30..40);
        guild.extend(ids(40..48));
        guild.sort();
        let review = Recommendation::Review;
        let dev = Recommendation::Case(Verdict::ParametersDevContainersGroups);
        let all = [
            scored("a", ids(0..40), ORG, None),
            scored("b", ids(40..80), ORG, None),
            scored("a-oncall", ids(5..12), ORG, Some("a")),
            scored("guild", guild, review, None),
            scored("b-sre", ids(100..110), ORG, Some("b")),
            scored("web", ids(200..250), dev, None),
            // Mostly inside `a` but not 80%: neither a subset nor an umbrella.
            scored("mixed", ids(0..7).into_iter().chain(ids(300..303)).collect(), dev, None),
        ];
        let got = relations(&all);
        assert_eq!(got[0], None, "an organization of its own needs no label");
        assert_eq!(got[1], None);
        assert_eq!(got[2], Some(Relation::SubsetOf { of: "a".into() }));
        assert_eq!(got[3], Some(Relation::UmbrellaOver { over: vec!["a".into(), "b".into()] }));
        assert_eq!(got[4], Some(Relation::SharesTemplatesWith { with: "b".into() }));
        assert_eq!((&got[5], &got[6]), (&None, &None));
        let labels: Vec<String> = got.iter().flatten().map(Relation::label).collect();
        assert_eq!(labels, ["subset of `a`", "umbrella over `a` and `b`", "shares its templates with `b`"]);
        let three = Relation::UmbrellaOver { over: vec!["a".into(), "b".into(), "c".into()] };
        assert_eq!(three.label(), "umbrella over `a`, `b` and `c`");
    }
}
