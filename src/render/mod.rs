//! Values to text. Renderers return strings; only commands print.

pub mod access;
pub mod diff;
pub mod doc;
pub mod file_names;
pub mod graph;
pub mod handout;
pub mod inventory;
pub mod notices;
pub mod plan_summary;
pub mod readable;
pub mod report_doc;
pub mod report_words;
pub mod rules;
pub mod score;
pub mod scripts;
pub mod sheet;
pub mod ssh_hosts;
pub mod terraform;

use std::borrow::Cow;

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
        b.push_record(r.into_iter().map(|c| match format {
            Format::Markdown => escape_markdown_cell(&c),
            _ => plain(&c),
        }));
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
    let title = plain(title);
    match format {
        Format::Markdown => format!("## {title}\n"),
        _ => format!("{title}\n{}\n", "=".repeat(title.chars().count())),
    }
}

/// Names come from the deployment; in a Markdown table a `|` or a newline
/// would break the row, and a control character would reach the terminal.
pub fn escape_markdown_cell(s: &str) -> String {
    plain(s).replace('\\', "\\\\").replace('|', "\\|")
}

/// Text from the deployment, safe inside Markdown prose: one line, no
/// control characters, and a backslash before the characters that let text
/// become a link or image (`[`, `]`), HTML or an autolink (`<`, `>`), code,
/// emphasis or a table cell, so a display name cannot inject Markdown.
/// Parentheses stay: without a `]` before them they are plain text.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in terminal_safe(s).chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

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

/// Characters that must never reach a terminal from the deployment: C0
/// and C1 controls (ESC starts colour, cursor and OSC title sequences; BEL,
/// backspace and carriage return rewrite what is shown) and the bidi
/// formatting characters that make text read in another order than it is
/// stored ("Trojan Source").
fn unsafe_in_text(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text from the deployment in plain text: control characters (newlines
/// too) and bidi overrides become spaces, so a name is one line and cannot
/// drive the terminal. The one place this is decided; borrowed when clean.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if s.chars().any(unsafe_in_text) {
        Cow::Owned(s.chars().map(|c| if unsafe_in_text(c) { ' ' } else { c }).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// [`terminal_safe`], owned.
pub fn plain(s: &str) -> String {
    terminal_safe(s).into_owned()
}

/// A whole text for the terminal (a rendered report, a message): as
/// [`terminal_safe`], but its line breaks kept.
pub fn plain_text(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c != '\n' && unsafe_in_text(c);
    if s.chars().any(bad) {
        Cow::Owned(s.chars().map(|c| if bad(c) { ' ' } else { c }).collect())
    } else {
        Cow::Borrowed(s)
    }
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
    fn no_control_character_or_bidi_override_reaches_the_terminal() {
        let name = "a\u{1b}]0;pwned\u{7}b\u{1b}[2J\u{9b}31m\u{202e}gnp.exe\u{2066}\r\tc\nd";
        assert_eq!(plain(name), "a ]0;pwned b [2J 31m gnp.exe   c d");
        assert_eq!(plain_text("x\u{7}\ny\u{1b}\n"), "x \ny \n", "a text keeps its line breaks");
        assert!(matches!(terminal_safe("plain-name"), Cow::Borrowed(_)), "clean names are not copied");
        assert_eq!(escape_markdown("a\u{1b}[1m*b*"), "a \\[1m\\*b\\*");
        let t = table(Format::Table, &["a"], vec![vec![name.into()]]);
        assert!(!t.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}']), "{t}");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let t = table(Format::Markdown, &["a"], vec![vec!["x|y\nz".into()]]);
        assert!(t.contains("x\\|y z"), "{t}");
    }
}
