//! Aggregation for the picture: which organizations and items are drawn
//! on their own and which are merged into "more" boxes, and the boxes'
//! titles and details.

use std::collections::{BTreeMap, BTreeSet};

use super::picture::{Cluster, Item, ItemKind, Node, Side, count};
use super::picture::{MAX_ORGS, MAX_SOURCE_ITEMS, MAX_TARGET_ITEMS};
use crate::plan::{Plan, StepSpec};
use crate::rules::derive::Context;

/// The organizations drawn on their own, per side (the heaviest); the rest are merged.
pub(super) fn pick_orgs(
    weight: &BTreeMap<String, usize>,
    side: &dyn Fn(&str) -> Side,
    omitted: &mut Vec<String>,
) -> BTreeSet<String> {
    let mut shown = BTreeSet::new();
    for s in [Side::Source, Side::Target] {
        let mut orgs: Vec<(&String, usize)> =
            weight.iter().filter(|(o, _)| side(o) == s).map(|(o, w)| (o, *w)).collect();
        orgs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        if orgs.len() > MAX_ORGS {
            let what = if s == Side::Target { "organizations of the split" } else { "organizations people come from" };
            omitted.push(format!(
                "{} of the {} {what} are drawn (the largest); the other {} are one box",
                MAX_ORGS,
                orgs.len(),
                orgs.len() - MAX_ORGS
            ));
        }
        shown.extend(orgs.into_iter().take(MAX_ORGS).map(|(o, _)| o.clone()));
    }
    shown
}

pub(super) fn org_id(org: &str) -> String {
    format!("org:{org}")
}

pub(super) fn more_orgs_id(side: Side) -> String {
    format!("more-orgs:{}", if side == Side::Source { "source" } else { "target" })
}

pub(super) fn kind_word(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Group => "group",
        ItemKind::Template => "template",
    }
}

/// Each object's id in the picture: its own, or the merged item that stands for it.
/// `rank` orders the items of one place, highest first; the second value
/// is how many were merged into "more" items of drawn organizations.
pub(super) fn map_items(
    rank: &BTreeMap<Node, (usize, usize)>,
    shown_orgs: &BTreeSet<String>,
    side: &dyn Fn(&str) -> Side,
) -> (BTreeMap<Node, String>, usize) {
    type Ranked<'n> = Vec<(&'n Node, (usize, usize))>;
    let mut by_place: BTreeMap<(String, ItemKind), Ranked> = BTreeMap::new();
    let mut mapping = BTreeMap::new();
    for (node, w) in rank {
        let org = node.org();
        let cluster = if shown_orgs.contains(org) { org_id(org) } else { more_orgs_id(side(org)) };
        if let Node::Item(_, kind, _) = node {
            by_place.entry((cluster, *kind)).or_default().push((node, *w));
        }
    }
    let mut merged_items = 0;
    for ((cluster, kind), mut list) in by_place {
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let max = match (cluster.starts_with("more-orgs:"), cluster_side(&list, side)) {
            (true, _) => 0,
            (false, Side::Target) => MAX_TARGET_ITEMS,
            (false, Side::Source) => MAX_SOURCE_ITEMS,
        };
        // Merging a single item would hide a name to save nothing. On the
        // left, an item connected only to merged boxes is merged too.
        let mut keep = if list.len() <= max + 1 { list.len() } else { max };
        if cluster_side(&list, side) == Side::Source {
            keep = list.iter().take(keep).take_while(|(_, r)| r.0 > 0).count();
        }
        for (i, (node, _)) in list.iter().enumerate() {
            let Node::Item(org, _, name) = node else { continue };
            let id = if i < keep {
                format!("{}:{org}/{name}", kind_word(kind))
            } else {
                format!("more:{cluster}:{}", kind_word(kind))
            };
            mapping.insert((*node).clone(), id);
        }
        if keep < list.len() && !cluster.starts_with("more-orgs:") {
            merged_items += list.len() - keep;
        }
    }
    (mapping, merged_items)
}

pub(super) fn cluster_side<W>(list: &[(&Node, W)], side: &dyn Fn(&str) -> Side) -> Side {
    list.first().map_or(Side::Source, |(n, _)| side(n.org()))
}

pub(super) fn clusters(
    ctx: &Context,
    plan: &Plan,
    org_weight: &BTreeMap<String, usize>,
    shown_orgs: &BTreeSet<String>,
    side: &dyn Fn(&str) -> Side,
    mapping: &BTreeMap<Node, String>,
    weights: &BTreeMap<Node, usize>,
) -> Vec<Cluster> {
    let summary: BTreeMap<&str, &crate::plan::OrgSummary> =
        plan.organizations.iter().map(|o| (o.name.as_str(), o)).collect();
    let mut out: BTreeMap<String, Cluster> = BTreeMap::new();
    let mut merged: BTreeMap<Side, (usize, usize)> = BTreeMap::new();
    for org in org_weight.keys() {
        let s = side(org);
        if !shown_orgs.contains(org) {
            let e = merged.entry(s).or_default();
            e.0 += 1;
            e.1 += summary.get(org.as_str()).map_or(0, |o| o.members);
            continue;
        }
        let (title, detail) = match summary.get(org.as_str()) {
            Some(o) => (
                o.display_name.clone(),
                format!(
                    "{} · {} · {} to migrate",
                    if o.exists { "exists" } else { "new" },
                    count(o.members, "member"),
                    count(o.workspaces_to_migrate, "workspace")
                ),
            ),
            None => {
                let o = ctx.index.org_by_name.get(org.as_str());
                let n = o.and_then(|o| ctx.index.members_of_org.get(o.id.as_str())).map_or(0, Vec::len);
                let default = o.is_some_and(|o| o.is_default);
                (
                    o.map_or(org.clone(), |o| o.display_name.clone()),
                    format!("{} · {}", if default { "default org" } else { "stays" }, count(n, "member")),
                )
            }
        };
        let title = if title.is_empty() || title == *org { org.clone() } else { format!("{title} ({org})") };
        out.insert(
            org_id(org),
            Cluster { id: org_id(org), org: Some(org.clone()), side: s, title, detail, items: Vec::new() },
        );
    }
    for (s, (n, members)) in merged {
        let detail = if s == Side::Target { count(members, "member") } else { String::new() };
        let id = more_orgs_id(s);
        let title = format!("{n} more organizations");
        out.insert(id.clone(), Cluster { id, org: None, side: s, title, detail, items: Vec::new() });
    }
    add_items(ctx, plan, mapping, weights, &mut out);
    let mut list: Vec<Cluster> = out.into_values().collect();
    let rank = |c: &Cluster| {
        let w = c.org.as_ref().map_or(0, |o| org_weight.get(o).copied().unwrap_or(0));
        (c.side, c.org.is_none(), std::cmp::Reverse(w), c.id.clone())
    };
    list.sort_by_cached_key(rank);
    list
}

pub(super) fn add_items(
    ctx: &Context,
    plan: &Plan,
    mapping: &BTreeMap<Node, String>,
    weights: &BTreeMap<Node, usize>,
    out: &mut BTreeMap<String, Cluster>,
) {
    let deprecated: BTreeSet<(&str, &str)> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.spec {
            StepSpec::Deprecation(d) => s.org.as_deref().map(|o| (o, d.template_name.as_str())),
            _ => None,
        })
        .collect();
    let mut merged: BTreeMap<&String, (ItemKind, usize, usize)> = BTreeMap::new();
    let mut placed: Vec<(String, usize, Item)> = Vec::new();
    for (node, id) in mapping {
        let Node::Item(org, kind, name) = node else { continue };
        let w = weights.get(node).copied().unwrap_or(0);
        if id.starts_with("more:") {
            let e = merged.entry(id).or_insert((*kind, 0, 0));
            e.1 += 1;
            e.2 += w;
            continue;
        }
        let cluster = mapping.get(&Node::Org(org.clone())).cloned().unwrap_or_default();
        let target = out.get(&cluster).is_some_and(|c| c.side == Side::Target);
        let detail = item_detail(ctx, org, *kind, name, w, target, deprecated.contains(&(org.as_str(), name.as_str())));
        placed.push((cluster, w, Item { id: id.clone(), kind: *kind, name: name.clone(), detail, merged: 0 }));
    }
    placed.sort_by(|a, b| {
        (a.2.kind, std::cmp::Reverse(a.1), &a.2.name).cmp(&(b.2.kind, std::cmp::Reverse(b.1), &b.2.name))
    });
    for (cluster, _, item) in placed {
        if let Some(c) = out.get_mut(&cluster) {
            c.items.push(item);
        }
    }
    for (id, (kind, n, _)) in merged {
        let cluster = id.trim_start_matches("more:").rsplit_once(':').map_or("", |(c, _)| c).to_string();
        let name = format!("{n} more {}s", kind_word(kind));
        if let Some(c) = out.get_mut(&cluster) {
            c.items.push(Item { id: id.clone(), kind, name, detail: String::new(), merged: n });
        }
    }
}

pub(super) fn item_detail(
    ctx: &Context,
    org: &str,
    kind: ItemKind,
    name: &str,
    w: usize,
    target: bool,
    old: bool,
) -> String {
    match (kind, target) {
        (ItemKind::Group, _) => {
            let o = ctx.index.org_by_name.get(org).map(|o| o.id.as_str());
            let g = ctx.index.snapshot.groups.iter().find(|g| Some(g.organization_id.as_str()) == o && g.name == name);
            match g {
                Some(g) if !target => count(g.members.len(), "member"),
                _ => count(w, "member"),
            }
        }
        (ItemKind::Template, true) => count(w, "workspace"),
        (ItemKind::Template, false) if old => "deprecated".into(),
        (ItemKind::Template, false) => "stays".into(),
    }
}
