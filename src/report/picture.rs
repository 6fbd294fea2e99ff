//! The picture of a split, as data: organizations (the split's on one side,
//! the ones people come from on the other) holding their groups and
//! templates, and the edges that cross organizations: members moving into a
//! copied group, templates re-created in a new org, and new orgs whose
//! members still use a template that stays behind.
//!
//! It is aggregated so it stays readable and bounded at any size: at most
//! `MAX_ORGS` organizations a side (the rest become one "more
//! organizations" box), a few groups and templates of each kind per
//! organization (the rest become one "more" item), edges summed between
//! what is shown. `omitted` says in words what was merged.

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::boxes::{clusters, kind_word, map_items, more_orgs_id, org_id, pick_orgs};
use crate::plan::{Plan, StepSpec};
use crate::rules::derive::Context;

/// Organizations shown per side; the rest are merged into one box.
pub const MAX_ORGS: usize = 12;
/// Groups, and templates, shown per organization of the split.
pub(super) const MAX_TARGET_ITEMS: usize = 5;
/// Groups, and templates, shown per organization people come from.
pub(super) const MAX_SOURCE_ITEMS: usize = 40;
/// "Still uses" edges kept per organization of the split (the heaviest).
const MAX_STILL_USES: usize = 3;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Picture {
    /// Source side first (by weight), then the split's organizations (by members).
    pub clusters: Vec<Cluster>,
    /// Sorted by kind, then endpoints.
    pub edges: Vec<Edge>,
    /// What was merged or left out to keep the picture readable, in words.
    pub omitted: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// Where people and templates come from.
    Source,
    /// An organization of the split.
    Target,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub id: String,
    /// None for the box of merged organizations.
    pub org: Option<String>,
    pub side: Side,
    pub title: String,
    pub detail: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    Group,
    Template,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    pub kind: ItemKind,
    /// The group's or template's name; for merged items, "N more groups".
    pub name: String,
    pub detail: String,
    /// How many groups or templates this item stands for when merged (else 0).
    pub merged: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// Members of a group go into its copy in a split org (count: members).
    Members,
    /// A template is re-created in a split org (count: workspaces to migrate to the copy).
    Recreated,
    /// Members of a split org still use a template that stays behind (count: users).
    StillUses,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    pub count: usize,
    pub label: String,
}

impl Picture {
    /// A node in words: "org `raptix`", "group `coder/raptix`", "2 more templates in `coder`".
    pub fn describe(&self, id: &str) -> String {
        for c in &self.clusters {
            let org = c.org.as_deref().unwrap_or(&c.title);
            if c.id == id {
                return match &c.org {
                    Some(o) => format!("org {o}"),
                    None => c.title.clone(),
                };
            }
            if let Some(i) = c.items.iter().find(|i| i.id == id) {
                return if i.merged > 0 {
                    format!("{} in {org}", i.name)
                } else {
                    format!("{} {org}/{}", kind_word(i.kind), i.name)
                };
            }
        }
        id.to_string()
    }
}

/// An object before aggregation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Node {
    Org(String),
    Item(String, ItemKind, String),
}

impl Node {
    pub(super) fn org(&self) -> &str {
        match self {
            Node::Org(o) | Node::Item(o, _, _) => o,
        }
    }
}

/// The picture of `plan`; `user_orgs` maps user ids to the split orgs they are members of.
pub fn build(ctx: &Context, plan: &Plan, user_orgs: &HashMap<&str, Vec<&str>>) -> Picture {
    let targets: BTreeSet<&str> = plan.organizations.iter().map(|o| o.name.as_str()).collect();
    let (mut edges, mut items) = fine_edges(ctx, plan, user_orgs);
    let mut omitted = Vec::new();
    // Every group and template of a split org is drawn, even without an edge.
    for s in &plan.steps {
        let Some(org) = s.org.as_ref().filter(|o| targets.contains(o.as_str())) else { continue };
        let item = match &s.spec {
            StepSpec::Group(g) => Node::Item(org.clone(), ItemKind::Group, g.name.clone()),
            StepSpec::Template(t) => Node::Item(org.clone(), ItemKind::Template, t.name.clone()),
            _ => continue,
        };
        items.entry(item).or_insert(0);
    }
    let members: BTreeMap<&str, usize> = plan.organizations.iter().map(|o| (o.name.as_str(), o.members)).collect();
    let mut org_weight: BTreeMap<String, usize> = BTreeMap::new();
    for (node, w) in &items {
        *org_weight.entry(node.org().to_string()).or_default() += w;
    }
    for t in &targets {
        org_weight.insert(t.to_string(), members.get(t).copied().unwrap_or(0));
    }
    let side = |org: &str| if targets.contains(org) { Side::Target } else { Side::Source };
    let shown_orgs = pick_orgs(&org_weight, &side, &mut omitted);
    let mapping = map_all(&items, &edges, &org_weight, &shown_orgs, &side, &mut omitted);
    let clusters = clusters(ctx, plan, &org_weight, &shown_orgs, &side, &mapping, &items);
    let mut summed: BTreeMap<(EdgeKind, String, String), usize> = BTreeMap::new();
    for (kind, from, to, n) in edges.drain(..) {
        let (Some(f), Some(t)) = (mapping.get(&from), mapping.get(&to)) else { continue };
        if f != t {
            *summed.entry((kind, f.clone(), t.clone())).or_default() += n;
        }
    }
    let edges = summed
        .into_iter()
        .map(|((kind, from, to), count)| Edge { label: edge_label(kind, count), from, to, kind, count })
        .collect();
    Picture { clusters, edges, omitted }
}

/// Each object's id in the picture. The split's side first, by weight;
/// then the items people come from, those connected to what is drawn
/// there first.
fn map_all(
    items: &BTreeMap<Node, usize>,
    edges: &[(EdgeKind, Node, Node, usize)],
    org_weight: &BTreeMap<String, usize>,
    shown_orgs: &BTreeSet<String>,
    side: &dyn Fn(&str) -> Side,
    omitted: &mut Vec<String>,
) -> BTreeMap<Node, String> {
    let of_side = |s: Side| items.iter().filter(move |(n, _)| side(n.org()) == s);
    let (mut mapping, mut merged) =
        map_items(&of_side(Side::Target).map(|(n, w)| (n.clone(), (*w, 0))).collect(), shown_orgs, side);
    for org in org_weight.keys() {
        let cluster = if shown_orgs.contains(org) { org_id(org) } else { more_orgs_id(side(org)) };
        mapping.insert(Node::Org(org.clone()), cluster);
    }
    let mut visible: BTreeMap<&Node, usize> = BTreeMap::new();
    for (_, from, to, n) in edges {
        for (mine, other) in [(from, to), (to, from)] {
            if mapping.get(other).is_some_and(|id| !id.starts_with("more")) {
                *visible.entry(mine).or_default() += n;
            }
        }
    }
    let sources = of_side(Side::Source).map(|(n, w)| (n.clone(), (visible.get(n).copied().unwrap_or(0), *w)));
    let (more, n) = map_items(&sources.collect(), shown_orgs, side);
    mapping.extend(more);
    merged += n;
    if merged > 0 {
        omitted.push(format!(
            "{merged} groups and templates are merged into \"more\" items of their organization (those drawn \
             are the largest, and on the left those connected to what is drawn on the right)"
        ));
    }
    mapping
}

type FineEdges = (Vec<(EdgeKind, Node, Node, usize)>, BTreeMap<Node, usize>);

/// Edges between objects (not yet aggregated), and each object's weight.
fn fine_edges(ctx: &Context, plan: &Plan, user_orgs: &HashMap<&str, Vec<&str>>) -> FineEdges {
    let mut moving: HashMap<&str, usize> = HashMap::new();
    for m in &plan.workspace_migrations {
        *moving.entry(m.new.template_step.as_str()).or_default() += 1;
    }
    let mut edges = Vec::new();
    let mut copies: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut deprecated: BTreeSet<&str> = BTreeSet::new();
    for s in &plan.steps {
        let Some(org) = &s.org else { continue };
        match &s.spec {
            StepSpec::Group(g) => {
                if let Some(src) = g.source.as_ref().filter(|src| &src.org != org) {
                    let from = Node::Item(src.org.clone(), ItemKind::Group, src.name.clone());
                    let to = Node::Item(org.clone(), ItemKind::Group, g.name.clone());
                    edges.push((EdgeKind::Members, from, to, g.members.len()));
                }
            }
            StepSpec::Template(t) => {
                copies.insert((t.source.template_id.as_str(), org.as_str()));
                let from = Node::Item(t.source.org.clone(), ItemKind::Template, t.source.name.clone());
                let to = Node::Item(org.clone(), ItemKind::Template, t.name.clone());
                edges.push((EdgeKind::Recreated, from, to, moving.get(s.key.as_str()).copied().unwrap_or(0)));
            }
            StepSpec::Deprecation(d) => {
                deprecated.insert(d.template_id.as_str());
            }
            _ => {}
        }
    }
    // Members of split orgs using templates that stay behind, with no copy in their org.
    let mut uses: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for t in &ctx.index.snapshot.templates {
        if deprecated.contains(t.id.as_str()) {
            continue;
        }
        let home = ctx.index.org_name(&t.organization_id);
        for u in ctx.template_users.get(t.id.as_str()).into_iter().flatten() {
            for &o in user_orgs.get(u).into_iter().flatten() {
                if o != home && !copies.contains(&(t.id.as_str(), o)) {
                    *uses.entry((o, t.id.as_str())).or_default() += 1;
                }
            }
        }
    }
    let mut per_org: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
    for ((o, t), n) in uses {
        per_org.entry(o).or_default().push((n, t));
    }
    for (o, mut list) in per_org {
        list.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        for (n, t) in list.into_iter().take(MAX_STILL_USES) {
            let Some(tpl) = ctx.index.template_by_id.get(t) else { continue };
            let to = Node::Item(ctx.index.org_name(&tpl.organization_id).into(), ItemKind::Template, tpl.name.clone());
            edges.push((EdgeKind::StillUses, Node::Org(o.to_string()), to, n));
        }
    }
    let mut weight: BTreeMap<Node, usize> = BTreeMap::new();
    for (_, from, to, n) in &edges {
        for node in [from, to] {
            if let Node::Item(..) = node {
                *weight.entry(node.clone()).or_default() += n;
            }
        }
    }
    (edges, weight)
}

fn edge_label(kind: EdgeKind, n: usize) -> String {
    match kind {
        EdgeKind::Members => count(n, "member"),
        EdgeKind::Recreated => count(n, "workspace"),
        EdgeKind::StillUses => format!("{} still {}", count(n, "user"), if n == 1 { "uses it" } else { "use it" }),
    }
}

/// "1 member", "2 members", "1,234 members".
pub fn count(n: usize, what: &str) -> String {
    format!("{} {what}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_well() {
        assert_eq!(count(1, "member"), "1 member");
        assert_eq!(count(0, "workspace"), "0 workspaces");
        assert_eq!(count(1234567, "user"), "1,234,567 users");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(edge_label(EdgeKind::StillUses, 1), "1 user still uses it");
        assert_eq!(edge_label(EdgeKind::StillUses, 2), "2 users still use it");
    }
}
