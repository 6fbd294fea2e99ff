//! A [`Doc`] as Markdown (CommonMark with pipe tables). Every text is
//! escaped so a name from the deployment cannot become markup; code spans
//! and fences are longer than any backtick run inside; no control
//! character reaches a terminal.

use std::fmt::Write;

use super::{Block, Doc, Span, tick_parts};

/// Text from the deployment, safe in Markdown prose and table cells.
pub fn md(s: &str) -> String {
    crate::render::escape_markdown(s).replace('&', "\\&")
}

/// `text` as a code span, exactly (a fence longer than any backtick run inside).
pub fn code(s: &str) -> String {
    let s = crate::render::plain(s);
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn longest_run(s: &str, c: char) -> usize {
    s.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

pub fn render(doc: &Doc) -> String {
    let mut out = String::new();
    blocks(&mut out, &doc.blocks);
    // Every block ends with a blank line; the document with one line break.
    if out.ends_with("\n\n") {
        out.pop();
    }
    // Every text is escaped where it goes in; this is the backstop that no
    // control character from the deployment reaches a terminal.
    crate::render::plain_text(&out).into_owned()
}

fn blocks(out: &mut String, list: &[Block]) {
    for b in list {
        block(out, b);
    }
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Section { title, body, .. } => {
            let _ = writeln!(out, "## {}\n", md(title));
            blocks(out, body);
        }
        Block::Heading { level, spans: s } => {
            let _ = writeln!(out, "{} {}\n", "#".repeat(usize::from(*level)), spans(s));
        }
        Block::Para { spans: s, .. } => {
            let _ = writeln!(out, "{}\n", spans(s));
        }
        Block::Callout { spans: s } => {
            let _ = writeln!(out, "> {}\n", spans(s));
        }
        Block::List { items, .. } => {
            for i in items {
                let _ = writeln!(out, "- {}", spans(i));
            }
            out.push('\n');
        }
        Block::Table { header, rows } => {
            let header: Vec<String> = header.iter().map(|h| md(h)).collect();
            let _ = writeln!(out, "| {} |", header.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
            for r in rows {
                let cells: Vec<String> = r.iter().map(|c| spans(c)).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            out.push('\n');
        }
        Block::Code { lang, text, .. } => {
            // Plain text shown as it is: a fence longer than any backtick
            // run in it keeps it literal.
            let text = crate::render::plain_text(text);
            let fence = "`".repeat(longest_run(&text, '`').max(2) + 1);
            let end = if text.ends_with('\n') { "" } else { "\n" };
            let _ = writeln!(out, "{fence}{lang}\n{text}{end}{fence}\n");
        }
        Block::Fold { body, .. } => blocks(out, body),
        Block::Figure { alt, .. } => blocks(out, alt),
    }
}

fn spans(list: &[Span]) -> String {
    let mut out = String::new();
    for s in list {
        span(&mut out, s);
    }
    out
}

fn span(out: &mut String, s: &Span) {
    match s {
        Span::Text(t) => out.push_str(&md(t)),
        Span::Code(c) => out.push_str(&code(c)),
        Span::Ticks(t) => match tick_parts(t) {
            Some(parts) => {
                for (is_code, p) in parts {
                    out.push_str(&if is_code { code(p) } else { md(p) });
                }
            }
            None => out.push_str(&md(t)),
        },
        Span::Strong(inner) => {
            let _ = write!(out, "**{}**", spans(inner));
        }
        Span::Em(inner) => {
            let _ = write!(out, "_{}_", spans(inner));
        }
        Span::Class(_, inner) => out.push_str(&spans(inner)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{table, text, ticks};
    use super::*;

    #[test]
    fn code_spans_hold_backticks_and_names_cannot_inject() {
        assert_eq!(code("coder provisioner start"), "`coder provisioner start`");
        assert_eq!(code("a `b` c"), "``a `b` c``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(md("<img src=x> & [a](b) *c*"), "\\<img src=x\\> \\& \\[a\\](b) \\*c\\*");
        assert_eq!(spans(&[ticks("`a<b` goes to `x`")]), "`a<b` goes to `x`");
        assert_eq!(spans(&[ticks("odd ` tick <")]), "odd \\` tick \\<");
    }

    #[test]
    fn tables_are_pipe_tables() {
        let mut out = String::new();
        block(&mut out, &table(&["a", "b"], vec![vec![vec![text("1")], vec![text("x|y")]]]));
        assert_eq!(out, "| a | b |\n|---|---|\n| 1 | x\\|y |\n\n");
    }

    #[test]
    fn fences_outgrow_backticks_in_the_text() {
        let mut out = String::new();
        block(&mut out, &Block::Code { lang: "text", text: "a ```` b".into(), marks: vec![] });
        assert_eq!(out, "`````text\na ```` b\n`````\n\n");
    }
}
