//! The picture of a split as DOT (from a petgraph graph, for Graphviz
//! users) and as SVG (laid out here, for the HTML report: no external
//! program).
//!
//! Why not lay the DOT out with `layout-rs`: it has no clusters (an
//! organization holding its groups and templates is the heart of this
//! picture), its time grows steeply (0.5 s at 80 nodes, 1.6 s at 120 and
//! 29 s at 300 on the bench machine), and on MegaCo it drew a 1,100 x 2,350
//! px tangle. The picture has a fixed shape, so a fixed layout is better:
//! the organizations people come from on the left, the split's on the right,
//! each a box listing its groups and templates, and the edges that cross
//! organizations as curves in the gutter between, ordered to cross little.
//! It is linear in the (bounded) size of the picture.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};

use super::escape_html as esc;
use super::plain;
use crate::report::picture::{Cluster, EdgeKind, ItemKind, Picture, Side};

/// The picture as DOT: clusters and items as nodes (items linked to their
/// organization by a dotted line), the edges that cross organizations
/// labelled with their counts. Names are made one line without control
/// characters here (the line breaks in a label are ours); petgraph escapes
/// quotes, backslashes and those line breaks for DOT.
pub fn dot(p: &Picture) -> String {
    let mut g: DiGraph<String, String> = DiGraph::new();
    let mut index: HashMap<&str, NodeIndex> = HashMap::new();
    let mut attrs: HashMap<NodeIndex, &'static str> = HashMap::new();
    for c in &p.clusters {
        let n = g.add_node(format!("{}\n{}", plain(&c.title), plain(&c.detail)));
        index.insert(&c.id, n);
        attrs.insert(
            n,
            if c.side == Side::Target {
                "shape=box style=filled fillcolor=\"#dcfce7\""
            } else {
                "shape=box style=filled fillcolor=\"#e2e8f0\""
            },
        );
        for i in &c.items {
            let name = plain(&i.name);
            let m = g.add_node(if i.detail.is_empty() { name } else { format!("{name}\n{}", plain(&i.detail)) });
            index.insert(&i.id, m);
            attrs.insert(m, if i.kind == ItemKind::Group { "shape=ellipse" } else { "shape=note" });
            g.add_edge(n, m, String::new());
        }
    }
    let mut kinds: HashMap<petgraph::graph::EdgeIndex, EdgeKind> = HashMap::new();
    for e in &p.edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            let id = g.add_edge(a, b, plain(&e.label));
            kinds.insert(id, e.kind);
        }
    }
    let edge_attr = |_: &DiGraph<String, String>, e: petgraph::graph::EdgeReference<String>| {
        use petgraph::visit::EdgeRef;
        match kinds.get(&e.id()) {
            None => "style=dotted arrowhead=none".to_string(),
            Some(k) => {
                format!("color=\"{}\"{}", colour(*k), if *k == EdgeKind::StillUses { " style=dashed" } else { "" })
            }
        }
    };
    let node_attr =
        |_: &DiGraph<String, String>, (n, _): (NodeIndex, &String)| attrs.get(&n).copied().unwrap_or("").to_string();
    let dot = Dot::with_attr_getters(&g, &[Config::RankDir(petgraph::dot::RankDir::LR)], &edge_attr, &node_attr);
    format!("{dot}")
}

fn colour(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Members => "#2563eb",
        EdgeKind::Recreated => "#16a34a",
        EdgeKind::StillUses => "#9ca3af",
    }
}

const MARGIN: f64 = 16.0;
const COL_W: f64 = 300.0;
const GUTTER: f64 = 260.0;
const HEADER_H: f64 = 42.0;
const ROW_H: f64 = 24.0;
const GAP: f64 = 18.0;
const LEGEND_H: f64 = 92.0;
/// Characters that fit in a row beside its detail, at 12 px.
const NAME_CHARS: usize = 26;
const TITLE_CHARS: usize = 38;
/// "Still uses" edges labelled on the picture at most.
const MAX_STILL_LABELS: usize = 12;

/// Where a node is drawn: the left x of its column, the middle y of its row.
#[derive(Clone, Copy)]
struct At {
    side: Side,
    y: f64,
}

/// The picture as an SVG document (inline in HTML, or on its own).
pub fn svg(p: &Picture) -> String {
    let (clusters, at, height) = layout(p);
    let width = 2.0 * MARGIN + 2.0 * COL_W + GUTTER;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"split-picture\" width=\"{width:.0}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" \
         aria-label=\"The split: organizations, groups, templates and the edges that cross organizations\" \
         font-family=\"system-ui, -apple-system, Segoe UI, Roboto, sans-serif\" font-size=\"12\">"
    );
    defs(&mut out);
    legend(&mut out);
    for (c, top) in &clusters {
        cluster(&mut out, c, *top);
    }
    // Many "still uses" labels would pile up mid-gutter: then only their tooltips say the count.
    let still = p.edges.iter().filter(|e| e.kind == EdgeKind::StillUses).count();
    for e in &p.edges {
        let (Some(a), Some(b)) = (at.get(e.from.as_str()), at.get(e.to.as_str())) else { continue };
        edge(&mut out, e, *a, *b, e.kind != EdgeKind::StillUses || still <= MAX_STILL_LABELS);
    }
    out.push_str("</svg>\n");
    out
}

/// Each cluster with its top y, and each node's place. Clusters of the
/// split keep the picture's order; the others, and their items, follow the
/// mean place of what they connect to, so edges cross little.
fn layout(p: &Picture) -> (Vec<(Cluster, f64)>, HashMap<String, At>, f64) {
    let mut at: HashMap<String, At> = HashMap::new();
    let mut placed = Vec::new();
    let targets: Vec<Cluster> = p.clusters.iter().filter(|c| c.side == Side::Target).cloned().collect();
    let right_h = stack(targets, Side::Target, &mut at, &mut placed);
    let mut pull: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for e in &p.edges {
        for (mine, other) in [(&e.from, &e.to), (&e.to, &e.from)] {
            if let Some(o) = at.get(other.as_str()) {
                let s = pull.entry(mine.as_str()).or_default();
                s.0 += o.y * e.count.max(1) as f64;
                s.1 += e.count.max(1) as f64;
            }
        }
    }
    let mean = |id: &str| pull.get(id).map_or(f64::MAX, |(s, n)| s / n);
    let mut sources: Vec<Cluster> = p.clusters.iter().filter(|c| c.side == Side::Source).cloned().collect();
    for c in &mut sources {
        c.items.sort_by(|a, b| {
            (a.merged > 0)
                .cmp(&(b.merged > 0))
                .then(mean(&a.id).total_cmp(&mean(&b.id)))
                .then_with(|| a.name.cmp(&b.name))
        });
    }
    let cluster_mean = |c: &Cluster| {
        let ys: Vec<f64> = c.items.iter().map(|i| mean(&i.id)).filter(|y| *y < f64::MAX).collect();
        if ys.is_empty() { f64::MAX } else { ys.iter().sum::<f64>() / ys.len() as f64 }
    };
    sources.sort_by(|a, b| cluster_mean(a).total_cmp(&cluster_mean(b)).then_with(|| a.id.cmp(&b.id)));
    let left_h = stack(sources, Side::Source, &mut at, &mut placed);
    (placed, at, LEGEND_H + right_h.max(left_h) + MARGIN)
}

fn stack(clusters: Vec<Cluster>, side: Side, at: &mut HashMap<String, At>, placed: &mut Vec<(Cluster, f64)>) -> f64 {
    let mut y = LEGEND_H;
    for c in clusters {
        at.insert(c.id.clone(), At { side, y: y + HEADER_H / 2.0 });
        for (i, item) in c.items.iter().enumerate() {
            at.insert(item.id.clone(), At { side, y: y + HEADER_H + ROW_H * i as f64 + ROW_H / 2.0 });
        }
        let h = HEADER_H + ROW_H * c.items.len() as f64 + 6.0;
        placed.push((c, y));
        y += h + GAP;
    }
    y - LEGEND_H
}

fn column_x(side: Side) -> f64 {
    match side {
        Side::Source => MARGIN,
        Side::Target => MARGIN + COL_W + GUTTER,
    }
}

fn defs(out: &mut String) {
    out.push_str("<defs>");
    for k in [EdgeKind::Members, EdgeKind::Recreated, EdgeKind::StillUses] {
        let _ = write!(
            out,
            "<marker id=\"os-arrow-{}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" \
             markerHeight=\"8\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker>",
            kind_id(k),
            colour(k)
        );
    }
    out.push_str("</defs>\n");
}

fn kind_id(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::Members => "members",
        EdgeKind::Recreated => "recreated",
        EdgeKind::StillUses => "still-uses",
    }
}

fn legend(out: &mut String) {
    let rows = [
        (EdgeKind::Members, "members move into a copy of their group"),
        (EdgeKind::Recreated, "template re-created in the new org (workspaces to migrate)"),
        (EdgeKind::StillUses, "members of a new org still use a template that stays"),
    ];
    for (i, (k, text)) in rows.iter().enumerate() {
        let y = 12.0 + 16.0 * i as f64;
        let _ = writeln!(
            out,
            "<path d=\"M{MARGIN:.0},{y:.0} h36\" stroke=\"{}\" stroke-width=\"2\"{} marker-end=\"url(#os-arrow-{})\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" fill=\"#374151\">{}</text>",
            colour(*k),
            dash(*k),
            kind_id(*k),
            MARGIN + 44.0,
            y + 4.0,
            esc(text)
        );
    }
    let _ =
        writeln!(out, "<text x=\"{MARGIN}\" y=\"80\" font-weight=\"600\">Where people and templates are now</text>");
    let _ = writeln!(
        out,
        "<text x=\"{:.0}\" y=\"80\" font-weight=\"600\">Organizations of the split</text>",
        column_x(Side::Target)
    );
}

fn dash(k: EdgeKind) -> &'static str {
    if k == EdgeKind::StillUses { " stroke-dasharray=\"5 4\"" } else { "" }
}

fn fit(s: &str, max: usize) -> String {
    let s = super::plain(s);
    if s.chars().count() <= max { s } else { format!("{}…", s.chars().take(max - 1).collect::<String>()) }
}

fn cluster(out: &mut String, c: &Cluster, top: f64) {
    let x = column_x(c.side);
    let h = HEADER_H + ROW_H * c.items.len() as f64 + 6.0;
    let (fill, stroke) = match (c.side, c.org.is_some()) {
        (Side::Target, true) => ("#ecfdf5", "#16a34a"),
        (Side::Source, true) => ("#f1f5f9", "#64748b"),
        (_, false) => ("#f8fafc", "#94a3b8"),
    };
    let dashed = if c.org.is_none() { " stroke-dasharray=\"6 4\"" } else { "" };
    let _ = writeln!(
        out,
        "<g class=\"org\"><title>{}</title><rect x=\"{x:.0}\" y=\"{top:.1}\" width=\"{COL_W:.0}\" height=\"{h:.1}\" \
         rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\"{dashed}/>\
         <text x=\"{:.0}\" y=\"{:.1}\" font-weight=\"600\" font-size=\"13\">{}</text>\
         <text x=\"{:.0}\" y=\"{:.1}\" font-size=\"11\" fill=\"#475569\">{}</text></g>",
        esc(&format!("{} · {}", c.title, c.detail)),
        x + 10.0,
        top + 18.0,
        esc(&fit(&c.title, TITLE_CHARS)),
        x + 10.0,
        top + 34.0,
        esc(&fit(&c.detail, TITLE_CHARS + 10)),
    );
    for (i, item) in c.items.iter().enumerate() {
        let y = top + HEADER_H + ROW_H * i as f64;
        let (shape, rx) = if item.kind == ItemKind::Group { ("#dbeafe", 10) } else { ("#fef9c3", 2) };
        let word = if item.kind == ItemKind::Group { "group" } else { "template" };
        let title =
            if item.merged > 0 { item.name.clone() } else { format!("{word} {} · {}", item.name, item.detail) };
        let _ = writeln!(
            out,
            "<g class=\"{word}\"><title>{}</title><rect x=\"{:.0}\" y=\"{:.1}\" width=\"{:.0}\" height=\"{:.0}\" \
             rx=\"{rx}\" fill=\"{shape}\" stroke=\"#cbd5e1\"/>\
             <text x=\"{:.0}\" y=\"{:.1}\">{}</text><text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" \
             fill=\"#475569\">{}</text></g>",
            esc(&title),
            x + 8.0,
            y + 2.0,
            COL_W - 16.0,
            ROW_H - 4.0,
            x + 16.0,
            y + 16.0,
            esc(&fit(&item.name, NAME_CHARS)),
            x + COL_W - 14.0,
            y + 16.0,
            esc(&fit(&item.detail, 24)),
        );
    }
}

fn edge(out: &mut String, e: &crate::report::picture::Edge, a: At, b: At, labelled: bool) {
    // Each end leaves its box on the gutter's side.
    let end_x = |at: At| {
        if at.side == Side::Source { column_x(Side::Source) + COL_W - 8.0 } else { column_x(Side::Target) + 8.0 }
    };
    let (x1, y1, x2, y2) = (end_x(a), a.y, end_x(b), b.y);
    let bend = if a.side == b.side { if a.side == Side::Source { 80.0 } else { -80.0 } } else { (x2 - x1) / 2.0 };
    let width = 1.0 + (e.count.max(1) as f64).log10().min(3.0);
    let _ = writeln!(
        out,
        "<g class=\"edge {}\"><title>{}</title><path d=\"M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}\" \
         fill=\"none\" stroke=\"{}\" stroke-width=\"{width:.1}\" stroke-opacity=\"0.8\"{} \
         marker-end=\"url(#os-arrow-{})\"/>",
        kind_id(e.kind),
        esc(&e.label),
        x1 + bend,
        x2 - bend,
        colour(e.kind),
        dash(e.kind),
        kind_id(e.kind)
    );
    // Labels sit near the end that belongs to this edge alone.
    let (lx, ly, anchor) = match e.kind {
        EdgeKind::StillUses => ((x1 + x2) / 2.0, (y1 + y2) / 2.0 - 3.0, "middle"),
        _ if b.side == Side::Target => (x2 - 12.0, y2 - 5.0, "end"),
        _ => (x2 + 12.0, y2 - 5.0, "start"),
    };
    if !labelled {
        out.push_str("</g>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"{anchor}\" font-size=\"10\" fill=\"{}\" stroke=\"#ffffff\" \
         stroke-width=\"3\" paint-order=\"stroke\">{}</text></g>",
        colour(e.kind),
        esc(&e.label)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::picture::{Edge, Item};

    fn awkward() -> Picture {
        let name = "a<b & \"c\" 'd' \\ e\nf \u{1b}]0;pwned\u{7}\u{1b}[2J";
        let item =
            |id: &str, kind| Item { id: id.into(), kind, name: name.into(), detail: "3 members".into(), merged: 0 };
        let cluster = |id: &str, side, items| Cluster {
            id: id.into(),
            org: Some(name.into()),
            side,
            title: name.into(),
            detail: name.into(),
            items,
        };
        Picture {
            clusters: vec![
                cluster(
                    "org:a",
                    Side::Source,
                    vec![item("group:a/x", ItemKind::Group), item("template:a/t", ItemKind::Template)],
                ),
                cluster("org:b", Side::Target, vec![item("group:b/x", ItemKind::Group)]),
            ],
            edges: vec![
                Edge {
                    from: "group:a/x".into(),
                    to: "group:b/x".into(),
                    kind: EdgeKind::Members,
                    count: 3,
                    label: name.into(),
                },
                Edge {
                    from: "org:b".into(),
                    to: "template:a/t".into(),
                    kind: EdgeKind::StillUses,
                    count: 1,
                    label: "1".into(),
                },
                Edge {
                    from: "gone".into(),
                    to: "group:b/x".into(),
                    kind: EdgeKind::Recreated,
                    count: 1,
                    label: "x".into(),
                },
            ],
            omitted: vec![],
        }
    }

    #[test]
    fn svg_is_well_formed_and_names_stay_text() {
        let svg = svg(&awkward());
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        let text: Vec<&str> = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
        assert!(text.iter().any(|t| t.starts_with("a<b & \"c\" 'd' \\ e f")), "{text:?}");
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name("b")).count(), 0);
        // Two edges join drawn nodes; the one from an unknown node is left out.
        let edges = doc.descendants().filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("edge "))).count();
        assert_eq!(edges, 2);
        assert_eq!(svg, super::svg(&awkward()), "same picture, same bytes");
    }

    #[test]
    fn dot_escapes_labels_and_marks_edge_kinds() {
        let dot = dot(&awkward());
        assert!(dot.starts_with("digraph {"), "{dot}");
        assert!(dot.contains(r#"label = "a<b & \"c\" 'd' \\ e f  ]0;pwned  [2J\l3 members""#), "{dot}");
        assert!(!dot.contains(['\u{1b}', '\u{7}']), "no control character from a name: {dot}");
        assert!(dot.contains("color=\"#2563eb\""), "members edge: {dot}");
        assert!(dot.contains("style=dashed"), "still-uses edge: {dot}");
        assert!(dot.contains("style=dotted arrowhead=none"), "containment: {dot}");
    }

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("abcdefghijkl", 5), "abcd…");
        assert_eq!(fit("tab\there", 20), "tab here");
    }
}
