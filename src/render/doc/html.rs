//! A [`Doc`] as one self-contained HTML page: inline CSS, no script and no
//! request to anywhere (a Content-Security-Policy of `default-src 'none'`
//! says so to the browser too). Every text is escaped (no name from the deployment
//! can become an element or an attribute); the page is also well-formed
//! XML, which the tests use to read it back.

use std::fmt::Write;

use super::{Block, Doc, Span, tick_parts};
use crate::render::escape_html as esc;

const CSS: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #111827; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
h3 { margin: 22px 0 6px; }
table { border-collapse: collapse; margin: 8px 0 14px; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f9fafb; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
code { background: #f3f4f6; padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
pre { background: #f3f4f6; padding: 10px; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.draft { background: #fef3c7; border: 1px solid #f59e0b; padding: 10px 14px; border-radius: 6px; }
.meta { color: #4b5563; } .muted { color: #6b7280; }
.picture { overflow: auto; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px; }
.picture svg { max-width: 100%; height: auto; }
.risk { color: #b91c1c; font-weight: 600; } .warning { color: #b45309; font-weight: 600; } .info { color: #1d4ed8; }
.off { color: #b91c1c; font-weight: 600; }
mark { background: #fde68a; }
nav a { margin-right: 12px; }
";

pub fn render(doc: &Doc) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    // The browser itself refuses any fetch (and any script): the page is
    // self-contained, and a name that slipped through could load nothing.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>\n",
    );
    let _ = writeln!(out, "<title>{}</title>", esc(&doc.title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>\n<main>");
    // What comes before the first section is the header; the navigation
    // bar (one link per section) follows it.
    let first = doc.blocks.iter().position(|b| matches!(b, Block::Section { .. })).unwrap_or(doc.blocks.len());
    blocks(&mut out, &doc.blocks[..first]);
    if first < doc.blocks.len() {
        out.push_str("<nav>");
        for b in &doc.blocks[first..] {
            if let Block::Section { id, title, .. } = b {
                let _ = write!(out, "<a href=\"#{id}\">{}</a>", esc(title));
            }
        }
        out.push_str("</nav>\n");
    }
    blocks(&mut out, &doc.blocks[first..]);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn blocks(out: &mut String, list: &[Block]) {
    for b in list {
        block(out, b);
    }
}

fn class_attr(class: &str) -> String {
    if class.is_empty() { String::new() } else { format!(" class=\"{class}\"") }
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Section { id, title, body } => {
            let _ = writeln!(out, "<section id=\"{id}\">\n<h2>{}</h2>", esc(title));
            blocks(out, body);
            out.push_str("</section>\n");
        }
        Block::Heading { level, spans: s } => {
            let level = (*level).clamp(1, 6);
            let _ = writeln!(out, "<h{level}>{}</h{level}>", spans(s));
        }
        Block::Para { class, spans: s } => {
            let _ = writeln!(out, "<p{}>{}</p>", class_attr(class), spans(s));
        }
        Block::Callout { spans: s } => {
            let _ = writeln!(out, "<p class=\"draft\">{}</p>", spans(s));
        }
        Block::List { class, items } => {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(out, "<ul{}>", class_attr(class));
            for i in items {
                let _ = writeln!(out, "<li>{}</li>", spans(i));
            }
            out.push_str("</ul>\n");
        }
        Block::Table { header, rows } => {
            out.push_str("<table>\n");
            if header.iter().any(|h| !h.is_empty()) {
                out.push_str("<tr>");
                for h in header {
                    let _ = write!(out, "<th>{}</th>", esc(h));
                }
                out.push_str("</tr>\n");
            }
            for r in rows {
                out.push_str("<tr>");
                for c in r {
                    let n = if is_number(c) { " class=\"n\"" } else { "" };
                    let _ = write!(out, "<td{n}>{}</td>", spans(c));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table>\n");
        }
        Block::Code { text, marks, .. } => {
            let mut text = esc(text);
            for m in marks {
                let m = esc(m);
                text = text.replace(&m, &format!("<mark>{m}</mark>"));
            }
            let _ = writeln!(out, "<pre>{text}</pre>");
        }
        Block::Fold { summary, open, body } => {
            let open = if *open { " open=\"open\"" } else { "" };
            let _ = writeln!(out, "<details{open}><summary>{}</summary>", esc(summary));
            blocks(out, body);
            out.push_str("</details>\n");
        }
        Block::Figure { svg, .. } => {
            let _ = writeln!(out, "<div class=\"picture\">\n{svg}</div>");
        }
    }
}

/// A cell that is one count ("1,234"), aligned right.
fn is_number(c: &[Span]) -> bool {
    matches!(c, [Span::Text(t)] if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == ','))
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
        Span::Text(t) => out.push_str(&esc(t)),
        Span::Code(c) => {
            let _ = write!(out, "<code>{}</code>", esc(c));
        }
        Span::Ticks(t) => match tick_parts(t) {
            Some(parts) => {
                for (is_code, p) in parts {
                    if is_code {
                        let _ = write!(out, "<code>{}</code>", esc(p));
                    } else {
                        out.push_str(&esc(p));
                    }
                }
            }
            None => out.push_str(&esc(t)),
        },
        Span::Strong(inner) => {
            let _ = write!(out, "<b>{}</b>", spans(inner));
        }
        Span::Em(inner) => {
            let _ = write!(out, "<i>{}</i>", spans(inner));
        }
        Span::Class(class, inner) => {
            let _ = write!(out, "<span class=\"{class}\">{}</span>", spans(inner));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{code, list, text, ticks};
    use super::*;

    #[test]
    fn names_never_become_markup() {
        let doc = Doc {
            title: "<t>".into(),
            blocks: vec![list(vec![vec![text("<b onload=\"x\">&"), code("a<b"), ticks("`<i>` and <")]])],
        };
        let html = render(&doc);
        assert!(html.contains("<title>&lt;t&gt;</title>"), "{html}");
        assert!(
            html.contains(
                "<li>&lt;b onload=&quot;x&quot;&gt;&amp;<code>a&lt;b</code><code>&lt;i&gt;</code> and &lt;</li>"
            ),
            "{html}"
        );
    }

    #[test]
    fn marks_in_code_are_highlighted_and_empty_lists_draw_nothing() {
        let mut out = String::new();
        block(&mut out, &Block::Code { lang: "text", text: "see [x] <y>".into(), marks: vec!["[x]".into()] });
        block(&mut out, &list(vec![]));
        assert_eq!(out, "<pre>see <mark>[x]</mark> &lt;y&gt;</pre>\n");
    }
}
