//! Values to text. Renderers return strings; only commands print.

pub mod access;
pub mod diff;
pub mod graph;
pub mod handout;
pub mod inventory;
pub mod notices;
pub mod readable;
pub mod report_html;
pub mod report_md;
pub mod report_words;
pub mod rules;
pub mod score;
pub mod scripts;
pub mod terraform;

use tabled::builder::Builder;
use tabled::settings::Style;

/// The closed set of output formats for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

/// A table in the style of the format (box drawing for terminals, pipes for Markdown).
pub fn table(format: Format, header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut b = Builder::default();
    b.push_record(header.iter().map(|h| h.to_string()));
    for r in rows {
        b.push_record(r.into_iter().map(|c| if format == Format::Markdown { escape_markdown_cell(&c) } else { c }));
    }
    let mut t = b.build();
    match format {
        Format::Markdown => t.with(Style::markdown()),
        _ => t.with(Style::rounded()),
    };
    t.to_string()
}

/// A heading: `## Title` in Markdown, an underlined title otherwise.
pub fn heading(format: Format, title: &str) -> String {
    match format {
        Format::Markdown => format!("## {title}\n"),
        _ => format!("{title}\n{}\n", "=".repeat(title.chars().count())),
    }
}

/// Names come from the deployment; in a Markdown table a `|` or a newline
/// would break the row.
pub fn escape_markdown_cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text from the deployment, safe inside Markdown prose (the planner's
/// escaping, which also fills deprecation messages).
pub use crate::plan::names::escape_markdown;

/// Text from the deployment inside HTML or SVG (element text and quoted
/// attribute values): markup characters become entities, control
/// characters spaces, so no name can open a tag, end an attribute or
/// start a script.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text from the deployment in plain text: control characters removed,
/// line breaks kept only where the caller puts them.
pub fn plain(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// "1 user" / "2 users".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Show at most `max` items of a list, saying how many were left out.
pub fn truncated<T>(items: &[T], max: usize) -> (&[T], Option<String>) {
    if items.len() > max {
        (&items[..max], Some(format!("... and {} more (use `-o json` for all)", items.len() - max)))
    } else {
        (items, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escaping_neutralises_links_html_and_emphasis() {
        assert_eq!(
            escape_markdown("[x](javascript:alert(1)) <b>*hi*</b>\nz"),
            "\\[x\\](javascript:alert(1)) \\<b\\>\\*hi\\*\\</b\\> z"
        );
    }

    #[test]
    fn html_escaping_leaves_no_markup() {
        assert_eq!(
            escape_html("<script>alert('x')</script> & \"q\"\u{7}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; "
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let t = table(Format::Markdown, &["a"], vec![vec!["x|y\nz".into()]]);
        assert!(t.contains("x\\|y z"), "{t}");
    }
}
