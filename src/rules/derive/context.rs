//! The deployment-wide lookups scoring shares among all candidates
//! (`Context`), built once: each template's users, who uses what, the
//! templates' sources, signals and tags, departments, variants and the
//! people records. The facts per candidate are derived from it in `derive`.

use foldhash::{HashMap, HashMapExt, HashSet};
use std::collections::BTreeSet;

use super::{SPREAD_DEPARTMENTS, SPREAD_SHARE, Usage, is_own};
use crate::model::{Index, Template, TemplateSource};
use crate::rules::people::People;

/// A template whose source repeats another's except for defaults, tags and
/// names (found at import, `TemplateSource::variant_of`).
#[derive(Debug, Clone)]
pub struct Variant {
    /// The template id it is a variant of.
    pub of: String,
    /// `file:line: text` of its lines the other lacks.
    pub lines: Vec<String>,
}

/// Deployment-wide lookups, built once for all candidates.
pub struct Context<'a> {
    /// The snapshot's lookups (shared with planning when both run).
    pub index: &'a Index<'a>,
    /// template id -> its users (live workspace owners and ACL grants, Everyone aside).
    pub template_users: HashMap<&'a str, BTreeSet<&'a str>>,
    /// user id -> templates they use.
    pub(super) user_templates: HashMap<&'a str, Vec<&'a str>>,
    pub(super) sources: HashMap<&'a str, &'a TemplateSource>,
    /// (signal kind, value) -> templates whose sources have it.
    pub(super) signal_templates: HashMap<(&'a str, &'a str), BTreeSet<&'a str>>,
    /// Provisioner tag (owner and scope aside) -> the templates whose active
    /// version carries it, in snapshot order: "on no other template" is a
    /// lookup here, not a pass over every template for every candidate.
    pub(super) tag_templates: HashMap<(&'a str, &'a str), Vec<&'a Template>>,
    /// Template name -> templates of that name, in snapshot order.
    pub(super) templates_by_name: HashMap<&'a str, Vec<&'a Template>>,
    /// Group name -> positions in the snapshot's groups.
    pub(super) groups_by_name: HashMap<&'a str, Vec<usize>>,
    /// Templates used across departments (central, see `SPREAD_DEPARTMENTS`).
    pub(super) spread: HashSet<&'a str>,
    /// Template id -> the template it is a variant of, with the differing lines.
    pub variants: HashMap<&'a str, Variant>,
    pub people: People<'a>,
}

impl<'a> Context<'a> {
    pub fn new(index: &'a Index<'a>) -> Context<'a> {
        let snapshot = index.snapshot;
        // Each template user is looked up once, by position among the
        // snapshot's users, for both their department and their own list of
        // templates: looking them up by id in two maps (and counting
        // departments in a map per template) took 140 of the 200 ms this
        // costs at 50,000 users.
        let position: HashMap<&str, usize> =
            snapshot.users.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
        let departments = Departments::new(snapshot, &position);
        let mut by_position: Vec<Vec<&str>> = vec![Vec::new(); snapshot.users.len()];
        // Users the snapshot does not list (a workspace owner since deleted).
        let mut unlisted: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut template_users = HashMap::with_capacity(snapshot.templates.len());
        let mut spread = HashSet::default();
        let mut counts = vec![0usize; departments.names];
        let mut counted: Vec<usize> = Vec::new();
        for t in &snapshot.templates {
            let users = index.template_users(t);
            for &u in &users {
                let department = match position.get(u) {
                    Some(&i) => {
                        by_position[i].push(&t.id);
                        departments.listed[i]
                    }
                    None => {
                        unlisted.entry(u).or_default().push(&t.id);
                        departments.unlisted.get(u).copied()
                    }
                };
                if let Some(d) = department {
                    if counts[d] == 0 {
                        counted.push(d);
                    }
                    counts[d] += 1;
                }
            }
            // Several departments, each a fair share of its users, none half or more: central.
            let fair = counted.iter().filter(|&&d| counts[d] * 100 >= SPREAD_SHARE * users.len()).count();
            let largest = counted.iter().map(|&d| counts[d]).max().unwrap_or(0);
            if fair >= SPREAD_DEPARTMENTS && largest * 2 < users.len() {
                spread.insert(t.id.as_str());
            }
            for d in counted.drain(..) {
                counts[d] = 0;
            }
            template_users.insert(t.id.as_str(), users);
        }
        let mut user_templates = unlisted;
        for (u, templates) in snapshot.users.iter().zip(by_position) {
            if !templates.is_empty() {
                user_templates.insert(u.id.as_str(), templates);
            }
        }
        let mut sources = HashMap::new();
        let mut signal_templates: HashMap<(&str, &str), BTreeSet<&str>> = HashMap::new();
        for s in &snapshot.template_sources {
            let Some(id) = s.template_id.as_deref() else { continue };
            sources.insert(id, s);
            for sig in &s.signals {
                signal_templates.entry((sig.kind.as_str(), sig.value.as_str())).or_default().insert(id);
            }
        }
        let mut tag_templates: HashMap<(&str, &str), Vec<&Template>> = HashMap::new();
        let mut templates_by_name: HashMap<&str, Vec<&Template>> = HashMap::new();
        for t in &snapshot.templates {
            templates_by_name.entry(&t.name).or_default().push(t);
            for tag in job_tags(index, t) {
                tag_templates.entry(tag).or_default().push(t);
            }
        }
        let mut groups_by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, g) in snapshot.groups.iter().enumerate() {
            groups_by_name.entry(&g.name).or_default().push(i);
        }
        let people = People::new(snapshot);
        let mut variants = HashMap::new();
        let by_path: HashMap<&str, Option<&str>> =
            snapshot.template_sources.iter().map(|s| (s.path.as_str(), s.template_id.as_deref())).collect();
        for s in &snapshot.template_sources {
            let (Some(id), Some(v)) = (s.template_id.as_deref(), &s.variant_of) else { continue };
            if let Some(Some(of)) = by_path.get(v.path.as_str()).filter(|of| **of != Some(id)) {
                variants.insert(id, Variant { of: of.to_string(), lines: v.lines.clone() });
            }
        }
        Context {
            index,
            template_users,
            user_templates,
            sources,
            signal_templates,
            tag_templates,
            templates_by_name,
            groups_by_name,
            spread,
            variants,
            people,
        }
    }

    /// Whether a provisioner tag (owner and scope aside) is on a template
    /// that `outside` says is not the candidate's.
    pub fn tag_elsewhere(&self, tag: (&str, &str), outside: impl Fn(&Template) -> bool) -> bool {
        self.tag_templates.get(&tag).is_some_and(|ts| ts.iter().any(|t| outside(t)))
    }

    /// The templates of a name, in snapshot order.
    pub fn templates_named(&self, name: &str) -> impl Iterator<Item = &'a Template> + '_ {
        self.templates_by_name.get(name).into_iter().flatten().copied()
    }

    pub(super) fn template(&self, id: &str) -> Option<&'a Template> {
        self.index.template_by_id.get(id).copied()
    }

    pub(super) fn template_name(&self, id: &str) -> String {
        self.template(id).map_or_else(|| id.to_string(), |t| t.name.clone())
    }

    /// The templates a candidate uses, by name, with how much.
    pub fn usage(&self, members: &[String]) -> Vec<Usage> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for m in members {
            for t in self.user_templates.get(m.as_str()).into_iter().flatten() {
                *counts.entry(t).or_default() += 1;
            }
        }
        let active = self.user_templates.len();
        let mut out: Vec<Usage> = counts
            .into_iter()
            .map(|(t, n)| {
                let users = self.template_users.get(t).map_or(0, BTreeSet::len);
                let nobodys = self.spread.contains(t) || self.variants.contains_key(t);
                let dedicated = !nobodys && is_own(n, users, members.len(), active);
                Usage { template: t.to_string(), members: n, users, dedicated }
            })
            .collect();
        out.sort_by_cached_key(|u| self.template_name(&u.template));
        out
    }
}

/// Each user's department (the people CSV's `department` column), where
/// known, as a number: by position among the snapshot's users, and by id
/// for records of users it does not list.
struct Departments<'a> {
    listed: Vec<Option<usize>>,
    unlisted: HashMap<&'a str, usize>,
    /// How many departments there are.
    names: usize,
}

impl<'a> Departments<'a> {
    fn new(snapshot: &'a crate::model::Snapshot, position: &HashMap<&str, usize>) -> Departments<'a> {
        let mut out = Departments { listed: vec![None; snapshot.users.len()], unlisted: HashMap::new(), names: 0 };
        let Some(p) = &snapshot.people else { return out };
        let mut numbers: HashMap<&str, usize> = HashMap::new();
        for r in &p.records {
            let Some(d) = r.attributes.get("department").map(|d| d.trim()).filter(|d| !d.is_empty()) else {
                continue;
            };
            let next = numbers.len();
            let d = *numbers.entry(d).or_insert(next);
            match position.get(r.user_id.as_str()) {
                Some(&i) => out.listed[i] = Some(d),
                None => {
                    out.unlisted.insert(r.user_id.as_str(), d);
                }
            }
        }
        out.names = numbers.len();
        out
    }
}

/// The provisioner tags of a template's active version, owner and scope aside.
pub fn job_tags<'a>(index: &Index<'a>, t: &Template) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
    let tags = index.version_by_id.get(t.active_version_id.as_str()).map(|v| &v.job.tags);
    tags.into_iter().flatten().filter(|(k, _)| *k != "owner" && *k != "scope").map(|(k, v)| (k.as_str(), v.as_str()))
}
