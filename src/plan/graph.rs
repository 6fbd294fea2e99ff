//! The steps' dependencies as a graph (petgraph), and the order to carry
//! them out: a topological sort that, among the steps ready at any moment,
//! takes the earliest phase, then the lowest key, so the order is stable
//! and reads well (all orgs first, deprecations last). A cycle or a
//! dependency on a step that does not exist is a bug in orgsplit.

use foldhash::HashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::{Step, StepSpec};
use crate::error::{Error, Result};

/// Where a kind of step goes when several are ready.
fn phase(spec: &StepSpec) -> u8 {
    match spec {
        StepSpec::Organization(_) => 0,
        StepSpec::ProvisionerKey(_) => 1,
        StepSpec::CustomRole(_) => 2,
        StepSpec::OrganizationSync(_) => 3,
        StepSpec::RoleSync(_) => 4,
        StepSpec::Member(_) => 5,
        StepSpec::Group(_) => 6,
        StepSpec::GroupSync(_) => 7,
        StepSpec::Template(_) => 8,
        StepSpec::Deprecation(_) => 9,
    }
}

/// The dependency graph: an edge runs from a step to each step that needs it.
pub fn graph(steps: &[Step]) -> Result<DiGraph<usize, ()>> {
    let mut g = DiGraph::with_capacity(steps.len(), steps.len() * 2);
    let nodes: Vec<NodeIndex> = (0..steps.len()).map(|i| g.add_node(i)).collect();
    let by_key: HashMap<&str, usize> = steps.iter().enumerate().map(|(i, s)| (s.key.as_str(), i)).collect();
    if by_key.len() != steps.len() {
        let mut keys: Vec<&str> = steps.iter().map(|s| s.key.as_str()).collect();
        keys.sort_unstable();
        let twice: Vec<&str> = keys.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
        return Err(Error::Bug(format!("two plan steps have the same key: {}", twice.join(", "))));
    }
    for (i, s) in steps.iter().enumerate() {
        for d in &s.depends_on {
            let Some(&j) = by_key.get(d.as_str()) else {
                return Err(Error::Bug(format!("plan step `{}` depends on `{d}`, which is not in the plan", s.key)));
            };
            g.add_edge(nodes[j], nodes[i], ());
        }
    }
    Ok(g)
}

/// The steps in the order to carry them out.
pub fn order(steps: Vec<Step>) -> Result<Vec<Step>> {
    let g = graph(&steps)?;
    let mut waiting: Vec<usize> =
        g.node_indices().map(|n| g.neighbors_directed(n, Direction::Incoming).count()).collect();
    let rank = |i: usize| Reverse((phase(&steps[i].spec), steps[i].key.as_str(), i));
    let mut ready: BinaryHeap<_> = (0..steps.len()).filter(|&i| waiting[i] == 0).map(rank).collect();
    let mut out = Vec::with_capacity(steps.len());
    while let Some(Reverse((_, _, i))) = ready.pop() {
        out.push(i);
        for next in g.neighbors_directed(NodeIndex::new(i), Direction::Outgoing) {
            let n = next.index();
            waiting[n] -= 1;
            if waiting[n] == 0 {
                ready.push(rank(n));
            }
        }
    }
    if out.len() != steps.len() {
        return Err(Error::Bug(format!(
            "the plan's steps depend on each other in a cycle: {}",
            describe_cycle(&g, &steps)
        )));
    }
    let mut slots: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
    Ok(out.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// One cycle, as `a -> b -> a`.
fn describe_cycle(g: &DiGraph<usize, ()>, steps: &[Step]) -> String {
    let Some(component) = tarjan_scc(g).into_iter().find(|c| c.len() > 1) else {
        return "(no cycle found, yet not every step could be ordered)".into();
    };
    let mut keys: Vec<&str> = component.iter().map(|n| steps[g[*n]].key.as_str()).collect();
    keys.sort_unstable();
    // Walk the cycle from its lowest key, following edges inside the component.
    let start = component.iter().copied().min_by_key(|n| steps[g[*n]].key.as_str()).unwrap_or(component[0]);
    let mut path = vec![start];
    let mut at = start;
    while path.len() <= component.len() {
        let next = g
            .neighbors_directed(at, Direction::Outgoing)
            .filter(|n| component.contains(n))
            .min_by_key(|n| steps[g[*n]].key.as_str());
        match next {
            Some(n) if n == start => {
                path.push(n);
                break;
            }
            Some(n) if !path.contains(&n) => {
                path.push(n);
                at = n;
            }
            _ => break,
        }
    }
    let names: Vec<&str> = path.iter().map(|n| steps[g[*n]].key.as_str()).collect();
    if names.last() == names.first() && names.len() > 1 { names.join(" -> ") } else { keys.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, OrganizationSpec, step_key};

    fn step(kind: &str, name: &str, deps: &[&str]) -> Step {
        let spec = match kind {
            "organization" => StepSpec::Organization(OrganizationSpec::default()),
            "template" => StepSpec::Template(Default::default()),
            _ => StepSpec::Group(Default::default()),
        };
        Step {
            key: step_key(Some("o"), spec.kind(), name),
            org: Some("o".into()),
            name: name.into(),
            action: Action::Create,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            changes: vec![],
            spec,
        }
    }

    #[test]
    fn order_is_topological_then_by_phase_and_key() {
        let steps = vec![
            step("template", "t", &["o/group/b", "o/organization/o"]),
            step("group", "b", &["o/organization/o"]),
            step("group", "a", &["o/organization/o"]),
            step("organization", "o", &[]),
        ];
        let keys: Vec<String> = order(steps).unwrap().into_iter().map(|s| s.key).collect();
        assert_eq!(keys, ["o/organization/o", "o/group/a", "o/group/b", "o/template/t"]);
    }

    #[test]
    fn a_cycle_is_a_bug_that_names_its_steps() {
        let steps = vec![
            step("group", "a", &["o/group/b"]),
            step("group", "b", &["o/group/a"]),
            step("organization", "o", &[]),
        ];
        let err = order(steps).unwrap_err();
        assert_eq!(
            err.to_string(),
            "internal error (a bug in orgsplit, please report it): the plan's steps depend on each other in a cycle: \
             o/group/a -> o/group/b -> o/group/a"
        );
        let dangling = order(vec![step("group", "a", &["o/group/zz"])]).unwrap_err();
        assert!(dangling.to_string().contains("depends on `o/group/zz`, which is not in the plan"), "{dangling}");
    }
}
