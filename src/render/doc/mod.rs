//! A small document model for outputs written in two markups (the dry-run
//! report as Markdown and as HTML): headings, paragraphs of inline spans,
//! lists, tables, code blocks, folds and a figure. A document is built once
//! from the values and rendered by [`markdown`] or [`html`]; each backend
//! owns its escaping, so builders never escape anything themselves.

pub mod html;
pub mod markdown;

/// Inline text. Every string is raw (from the deployment or our own words);
/// the backend escapes it for its markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Text, escaped.
    Text(String),
    /// A code span, shown exactly.
    Code(String),
    /// Text whose `backticked` parts are names (the planner's and scorer's
    /// messages, our own sentences): those become code spans, the rest is
    /// escaped text. Unpaired backticks leave the whole as text.
    Ticks(String),
    Strong(Vec<Span>),
    Em(Vec<Span>),
    /// A styling class for HTML (`off`, `muted`, `warning`, `risk`, ...);
    /// Markdown shows only what is inside.
    Class(&'static str, Vec<Span>),
}

/// Blocks, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A titled section with an anchor (`<section id>` and `<h2>` in HTML,
    /// `##` in Markdown); HTML also lists sections in a navigation bar.
    Section {
        id: &'static str,
        title: String,
        body: Vec<Block>,
    },
    Heading {
        level: u8,
        spans: Vec<Span>,
    },
    /// A paragraph; `class` styles it in HTML.
    Para {
        class: &'static str,
        spans: Vec<Span>,
    },
    /// A call-out (a block quote in Markdown, a boxed paragraph in HTML).
    Callout {
        spans: Vec<Span>,
    },
    /// A bulleted list. In Markdown a list is followed by a blank line, so
    /// an empty list is one blank line; HTML draws nothing for it.
    List {
        class: &'static str,
        items: Vec<Vec<Span>>,
    },
    /// A table; a header of empty cells is a table without a header row
    /// in HTML (Markdown needs one).
    Table {
        header: Vec<String>,
        rows: Vec<Vec<Vec<Span>>>,
    },
    /// Text shown exactly, in a fenced block (`lang` names it in
    /// Markdown); HTML highlights the `marks` found in it.
    Code {
        lang: &'static str,
        text: String,
        marks: Vec<String>,
    },
    /// Content that folds in HTML (`<details>`, open when `open`);
    /// Markdown shows the body as it is.
    Fold {
        summary: String,
        open: bool,
        body: Vec<Block>,
    },
    /// A picture: inline SVG (already safe markup, made by `render::graph`)
    /// in HTML; Markdown shows `alt` instead.
    Figure {
        svg: String,
        alt: Vec<Block>,
    },
}

/// A whole document: its title (HTML's `<title>`) and blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub title: String,
    pub blocks: Vec<Block>,
}

pub fn text(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

pub fn code(s: impl Into<String>) -> Span {
    Span::Code(s.into())
}

pub fn ticks(s: impl Into<String>) -> Span {
    Span::Ticks(s.into())
}

pub fn strong(s: impl Into<String>) -> Span {
    Span::Strong(vec![text(s)])
}

pub fn em(s: impl Into<String>) -> Span {
    Span::Em(vec![text(s)])
}

pub fn class(c: &'static str, spans: Vec<Span>) -> Span {
    Span::Class(c, spans)
}

pub fn para(spans: Vec<Span>) -> Block {
    Block::Para { class: "", spans }
}

pub fn heading(level: u8, spans: Vec<Span>) -> Block {
    Block::Heading { level, spans }
}

pub fn list(items: Vec<Vec<Span>>) -> Block {
    Block::List { class: "", items }
}

pub fn table(header: &[&str], rows: Vec<Vec<Vec<Span>>>) -> Block {
    Block::Table { header: header.iter().map(|h| h.to_string()).collect(), rows }
}

/// Splits `s` at its backticks: `(is_code, part)`, or `None` when the
/// backticks are unpaired.
pub(crate) fn tick_parts(s: &str) -> Option<Vec<(bool, &str)>> {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return None;
    }
    Some(parts.into_iter().enumerate().map(|(i, p)| (i % 2 == 1, p)).collect())
}
