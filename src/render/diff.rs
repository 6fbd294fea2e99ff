//! Before vs after as a unified diff of the readable form (similar), with
//! optional colour, and the summary line.

use std::fmt::Write;
use std::ops::Range;
use std::time::{Duration, Instant};

use similar::udiff::UnifiedHunkHeader;
use similar::{Algorithm, DiffOp, DiffTag, DiffableStr, TextDiff};

use crate::plan::Plan;

use anstyle::{AnsiColor, Style};

const RED: Style = AnsiColor::Red.on_default();
const GREEN: Style = AnsiColor::Green.on_default();
const CYAN: Style = AnsiColor::Cyan.on_default();
const BOLD: Style = Style::new().bold();

/// A unified diff of two readable forms (empty when they are the same).
pub fn unified(before: &str, after: &str, color: bool) -> String {
    unified_labeled(before, after, color, ("before (snapshot)", "after (plan applied)"))
}

/// [`unified`], with the two sides named by `labels` in the header.
pub fn unified_labeled(before: &str, after: &str, color: bool, labels: (&str, &str)) -> String {
    if before == after {
        return String::new();
    }
    // Each side is split into lines and blocks on a core of its own.
    let ((old, old_blocks), (new, new_blocks)) = crate::cores::join(|| split(before), || split(after));
    let ops = block_ops((&old, &old_blocks), (&new, &new_blocks), Instant::now() + TIMEOUT);
    let mut out = String::with_capacity(1 << 16);
    let _ = writeln!(out, "--- {}\n+++ {}", labels.0, labels.1);
    for hunk in similar::group_diff_ops(ops, CONTEXT) {
        let _ = writeln!(out, "{}", UnifiedHunkHeader::new(&hunk));
        for op in &hunk {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            match tag {
                DiffTag::Equal => write_lines(&mut out, ' ', &old[old_range]),
                DiffTag::Delete => write_lines(&mut out, '-', &old[old_range]),
                DiffTag::Insert => write_lines(&mut out, '+', &new[new_range]),
                DiffTag::Replace => {
                    write_lines(&mut out, '-', &old[old_range]);
                    write_lines(&mut out, '+', &new[new_range]);
                }
            }
        }
    }
    if color { paint(&out) } else { out }
}

/// Diff lines as similar's unified diff writes them.
fn write_lines(out: &mut String, mark: char, lines: &[&str]) {
    for line in lines {
        out.push(mark);
        out.push_str(line);
        if !line.ends_with_newline() {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// Bounds a pathological diff: it stays correct, but may be less minimal.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A run of lines the diff treats as a unit: a line at the left margin (an
/// organization); a two-space-indented line with the lines indented under it
/// (a template, a group); or a run of two-space-indented lines of one kind
/// (the members of an organization, its workspaces).
#[derive(Clone, Copy)]
struct Block<'a> {
    /// The line at the left margin it falls under, and its first line (or,
    /// for a run, the first word of its lines).
    key: (&'a str, &'a str),
    lines: (usize, usize),
}

/// A text's lines (each with its line ending) and its blocks.
fn split(text: &str) -> (Vec<&str>, Vec<Block<'_>>) {
    let lines = text.tokenize_lines();
    let blocks = blocks(&lines);
    (lines, blocks)
}

fn blocks<'a>(lines: &[&'a str]) -> Vec<Block<'a>> {
    let mut out: Vec<Block<'a>> = Vec::new();
    let mut margin = "";
    for (i, &line) in lines.iter().enumerate() {
        // A block of its own, a line that may join a run, or one that goes on the block before.
        let (key, alone) = match line.strip_prefix("  ") {
            None if !line.starts_with(' ') => {
                margin = line;
                (Some((margin, "")), true)
            }
            Some(rest) if !rest.starts_with(' ') => {
                if lines.get(i + 1).is_some_and(|next| next.starts_with("   ")) {
                    (Some((margin, line)), true)
                } else {
                    (Some((margin, rest.split(' ').next().unwrap_or_default())), false)
                }
            }
            _ => (None, false),
        };
        match (key, out.last_mut()) {
            (Some(key), Some(last)) if !alone && last.key == key => last.lines.1 = i + 1,
            (None, Some(last)) => last.lines.1 = i + 1,
            (key, _) => out.push(Block { key: key.unwrap_or(("", "")), lines: (i, i + 1) }),
        }
    }
    out
}

/// The line diff of `old` and `new`, found block by block: blocks are paired
/// by key first, and only paired blocks whose text differs are diffed line by
/// line. What a plan changes is a few blocks of a long text (the templates of
/// one org, new orgs); the others (every workspace, every member) are equal
/// and cost a comparison instead of a diff. Any partition gives a correct
/// diff; this one keeps it small.
fn block_ops((old, ob): (&[&str], &[Block<'_>]), (new, nb): (&[&str], &[Block<'_>]), deadline: Instant) -> Vec<DiffOp> {
    let (ok, nk): (Vec<_>, Vec<_>) = (ob.iter().map(|b| b.key).collect(), nb.iter().map(|b| b.key).collect());
    let span = |b: &[Block], from: usize, len: usize| {
        if len == 0 {
            // Where an empty run of blocks sits, in lines.
            let at = b.get(from).map_or_else(|| b.last().map_or(0, |l| l.lines.1), |x| x.lines.0);
            at..at
        } else {
            b[from].lines.0..b[from + len - 1].lines.1
        }
    };
    let mut ops = Ops::default();
    for op in similar::capture_diff_slices_deadline(Algorithm::Myers, &ok, &nk, Some(deadline)) {
        let (tag, o, n) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            for (x, y) in ob[o].iter().zip(&nb[n]) {
                let (o, n) = (x.lines.0..x.lines.1, y.lines.0..y.lines.1);
                if old[o.clone()] == new[n.clone()] {
                    ops.push(DiffOp::Equal { old_index: o.start, new_index: n.start, len: o.len() });
                } else {
                    ops.lines(old, o, new, n, deadline);
                }
            }
        } else {
            let (o, n) = (span(ob, o.start, o.len()), span(nb, n.start, n.len()));
            ops.lines(old, o, new, n, deadline);
        }
    }
    ops.0
}

/// Diff ops in order, adjacent equal runs joined (so hunks are grouped as
/// one diff of the whole text would group them).
#[derive(Default)]
struct Ops(Vec<DiffOp>);

impl Ops {
    fn push(&mut self, op: DiffOp) {
        if let (Some(DiffOp::Equal { len, .. }), DiffOp::Equal { len: more, .. }) = (self.0.last_mut(), op) {
            *len += more;
        } else {
            self.0.push(op);
        }
    }

    /// The line diff of `old[o]` and `new[n]`, at their place in the texts.
    fn lines(&mut self, old: &[&str], o: Range<usize>, new: &[&str], n: Range<usize>, deadline: Instant) {
        let (oi, ni) = (o.start, n.start);
        match (o.len(), n.len()) {
            (0, 0) => return,
            (0, new_len) => return self.push(DiffOp::Insert { old_index: oi, new_index: ni, new_len }),
            (old_len, 0) => return self.push(DiffOp::Delete { old_index: oi, old_len, new_index: ni }),
            _ => {}
        }
        let diff = TextDiff::configure().algorithm(Algorithm::Myers).deadline(deadline).diff_slices(&old[o], &new[n]);
        for op in diff.ops() {
            self.push(match *op {
                DiffOp::Equal { old_index, new_index, len } => {
                    DiffOp::Equal { old_index: oi + old_index, new_index: ni + new_index, len }
                }
                DiffOp::Delete { old_index, old_len, new_index } => {
                    DiffOp::Delete { old_index: oi + old_index, old_len, new_index: ni + new_index }
                }
                DiffOp::Insert { old_index, new_index, new_len } => {
                    DiffOp::Insert { old_index: oi + old_index, new_index: ni + new_index, new_len }
                }
                DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                    DiffOp::Replace { old_index: oi + old_index, old_len, new_index: ni + new_index, new_len }
                }
            });
        }
    }
}

/// Colour a unified diff's lines by what they are.
fn paint(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.lines() {
        let paint = if line.starts_with("+++") || line.starts_with("---") {
            BOLD
        } else if line.starts_with('+') {
            GREEN
        } else if line.starts_with('-') {
            RED
        } else if line.starts_with("@@") {
            CYAN
        } else {
            Style::new()
        };
        // A plain style renders as nothing, its reset too.
        let _ = writeln!(out, "{paint}{line}{paint:#}");
    }
    out
}

/// "Plan: 3 to create, 1 to update, 40 workspaces to migrate, 0 to delete."
/// There is no delete step in orgsplit, so the last figure is always 0.
pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    format!(
        "Plan: {} to create, {} to update, {} workspaces to migrate, 0 to delete.",
        s.create, s.update, s.workspaces_to_migrate
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn diff_marks_lines_and_colours_only_when_asked() {
        let before = "organization coder\n  member amy\n";
        let after = "organization coder\n  member amy\n  member bob\norganization ml\n";
        let plain = unified(before, after, false);
        assert!(plain.starts_with("--- before (snapshot)\n+++ after (plan applied)\n@@"), "{plain}");
        assert!(plain.contains("\n+  member bob\n+organization ml\n"), "{plain}");
        assert!(!plain.contains('\x1b'));
        let coloured = unified(before, after, true);
        assert!(coloured.contains("\x1b[32m+  member bob\x1b[0m"), "{coloured}");
        assert_eq!(unified(before, before, true), "");
    }

    /// One diff of the whole texts, as `unified` made it before it went block by block.
    fn whole(old: &str, new: &str) -> String {
        let diff = TextDiff::configure().algorithm(Algorithm::Myers).diff_lines(old, new);
        diff.unified_diff().context_radius(CONTEXT).header("before (snapshot)", "after (plan applied)").to_string()
    }

    /// Apply a unified diff to `old`: what the diff says is the new text.
    fn patch(old: &str, diff: &str) -> String {
        let old: Vec<&str> = old.split_inclusive('\n').collect();
        let (mut out, mut at) = (String::new(), 0);
        let mut lines = diff.split_inclusive('\n').skip(2).peekable();
        while let Some(header) = lines.next() {
            let start: usize = header[4..].split([',', ' ']).next().unwrap().parse().unwrap();
            // "-0,0" inserts after line 0; "-5,2" starts at line 5.
            let start = if header.starts_with("@@ -0,0 ") { 0 } else { start - 1 };
            out.extend(old[at..start].iter().copied());
            at = start;
            while let Some(line) = lines.next_if(|l| !l.starts_with("@@")) {
                match line.split_at(1) {
                    (" ", text) => {
                        assert_eq!(old[at], text, "context line");
                        out.push_str(text);
                        at += 1;
                    }
                    ("-", text) => {
                        assert_eq!(old[at], text, "removed line");
                        at += 1;
                    }
                    ("+", text) => out.push_str(text),
                    other => panic!("not a diff line: {other:?}"),
                }
            }
        }
        out.extend(old[at..].iter().copied());
        out
    }

    /// An organization's name, members and templates (name, deprecated).
    type Org = (u8, Vec<u8>, Vec<(u8, bool)>);

    /// A readable-like text: organizations with runs of members, templates
    /// with lines under them, from the generated choices.
    fn text(orgs: &[Org]) -> String {
        let mut out = String::from("organization-sync field=groups\n  map \"a\" -> a\n");
        for (name, members, templates) in orgs {
            out.push_str(&format!("organization o{name}\n  display-name \"O\"\n"));
            for (t, deprecated) in templates {
                out.push_str(&format!("  template t{t} \"T\"\n    icon \"\"\n"));
                if *deprecated {
                    out.push_str("    deprecated \"moved\"\n");
                }
            }
            for m in members {
                out.push_str(&format!("  member m{m}\n"));
            }
        }
        out
    }

    fn orgs() -> impl Strategy<Value = Vec<Org>> {
        proptest::collection::vec(
            (0u8..6, proptest::collection::vec(0u8..8, 0..6), proptest::collection::vec((0u8..5, any::<bool>()), 0..4)),
            0..5,
        )
    }

    /// What a plan does to the readable form: deprecate templates, add
    /// members to orgs, add orgs (at the end, or between others).
    fn planned(a: &[Org], edits: &[(bool, u8)], added: &[Org]) -> Vec<Org> {
        let mut b = a.to_vec();
        for (org, (deprecate, member)) in b.iter_mut().zip(edits) {
            for t in org.2.iter_mut().filter(|t| t.0 % 2 == 0) {
                t.1 |= *deprecate;
            }
            org.1.push(8 + member);
        }
        b.extend(added.iter().map(|(name, m, t)| (name + 10, m.clone(), t.clone())));
        b.sort_by_key(|o| o.0);
        b
    }

    fn unique(orgs: Vec<Org>) -> Vec<Org> {
        let mut seen = std::collections::BTreeMap::new();
        for (name, mut members, mut templates) in orgs {
            members.sort();
            members.dedup();
            templates.sort();
            templates.dedup_by_key(|t| t.0);
            seen.entry(name).or_insert((name, members, templates));
        }
        seen.into_values().collect()
    }

    proptest! {
        /// Block by block, the diff turns the old text into the new one,
        /// whatever the texts.
        #[test]
        fn the_diff_of_blocks_is_a_correct_diff(a in orgs(), b in orgs()) {
            let (old, new) = (text(&a), text(&b));
            prop_assert_eq!(patch(&old, &unified(&old, &new, false)), new);
        }

        /// For the changes a plan makes, it only adds lines, and no more than
        /// a diff of the whole text does (which may pair one org's line
        /// with another's).
        #[test]
        fn for_a_plan_s_changes_it_is_the_diff_of_the_whole_text(
            a in orgs(),
            edits in proptest::collection::vec((any::<bool>(), 0u8..4), 6),
            added in orgs(),
        ) {
            let a = unique(a);
            let b = planned(&a, &edits, &unique(added));
            let (old, new) = (text(&a), text(&b));
            let diff = unified(&old, &new, false);
            let changed = |d: &str| d.lines().skip(2).filter(|l| l.starts_with(['+', '-'])).count();
            prop_assert!(!diff.lines().skip(2).any(|l| l.starts_with('-')), "{}", diff);
            prop_assert!(changed(&diff) <= changed(&whole(&old, &new)), "{}", diff);
            prop_assert_eq!(patch(&old, &diff), new);
        }
    }

    #[test]
    fn a_change_in_a_long_equal_text_is_shown_with_its_context_and_line_numbers() {
        let members: String = (0..5000).map(|i| format!("  member m{i:05}\n")).collect();
        let old = format!("organization a\n  template t\n    icon \"\"\n{members}organization b\n");
        let new = format!(
            "organization a\n  template t\n    icon \"\"\n    deprecated \"x\"\n{members}organization b\n  member z\n"
        );
        let diff = unified(&old, &new, false);
        assert_eq!(diff, whole(&old, &new));
        assert!(diff.contains("@@ -1,6 +1,7 @@\n organization a\n"), "{diff}");
        assert!(diff.contains("\n+  member z\n"), "{diff}");
        assert_eq!(patch(&old, &diff), new);
    }

    #[test]
    fn a_last_line_without_a_newline_is_marked_as_a_whole_diff_marks_it() {
        let (old, new) = ("organization a\n  member x", "organization a\n  member y");
        assert_eq!(unified(old, new, false), whole(old, new));
        assert!(unified(old, new, false).contains("-  member x\n\\ No newline at end of file\n"));
    }
}
