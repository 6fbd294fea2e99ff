//! Where each value of a split file is: a path (`organizations`, 2,
//! `groups`, 0) to its byte span, so a problem found later (an unknown
//! group, a bad glob) is reported at its line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(key: &str) -> Seg {
        Seg::Key(key.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Seg {
        Seg::Index(i)
    }
}

/// A path as written in messages: `organizations[2].groups[0]`.
pub struct PathDisplay<'a>(pub &'a [Seg]);

impl fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Byte spans of every key and value in a TOML document.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    /// path -> (span of the key, or of the element for array items; span of the value)
    map: BTreeMap<Vec<Seg>, (Range<usize>, Range<usize>)>,
}

impl Spans {
    pub fn of(root: &Spanned<DeValue<'_>>) -> Spans {
        let mut spans = Spans::default();
        spans.walk(root, &mut Vec::new());
        spans
    }

    fn walk(&mut self, value: &Spanned<DeValue<'_>>, path: &mut Vec<Seg>) {
        match value.get_ref() {
            DeValue::Table(table) => {
                for (k, v) in table.iter() {
                    path.push(Seg::Key(k.get_ref().to_string()));
                    self.map.insert(path.clone(), (k.span(), v.span()));
                    self.walk(v, path);
                    path.pop();
                }
            }
            DeValue::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    self.map.insert(path.clone(), (v.span(), v.span()));
                    self.walk(v, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// The start of the value at `path`, or of its nearest ancestor that is
    /// written in the file (a defaulted field points at its table).
    pub fn value_start(&self, path: &[Seg]) -> Option<usize> {
        (0..=path.len()).rev().find_map(|n| self.map.get(&path[..n]).map(|(_, v)| v.start))
    }

    /// The start of the key at `path` (for unknown fields), else of its value.
    pub fn key_start(&self, path: &[Seg]) -> Option<usize> {
        match self.map.get(path) {
            Some((k, _)) => Some(k.start),
            None => self.value_start(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::de::DeTable;

    #[test]
    fn finds_values_keys_and_nearest_ancestors() {
        let text = "format_version = 1\n\n[[organizations]]\nname = \"a\"\ngroups = [\"g1\", \"g2\"]\n";
        let root = DeTable::parse(text).unwrap();
        let root = Spanned::new(root.span(), DeValue::Table(root.into_inner()));
        let spans = Spans::of(&root);
        let at = |p: &[Seg]| spans.value_start(p).map(|o| &text[o..o + 4]);
        let orgs = Seg::from("organizations");
        assert_eq!(at(&[orgs.clone(), 0.into(), "groups".into(), 1.into()]), Some("\"g2\""));
        assert_eq!(at(&[orgs.clone(), 0.into(), "icon".into()]), Some("[[or"), "defaulted field: its table");
        assert_eq!(spans.key_start(&[orgs.clone(), 0.into(), "name".into()]).map(|o| &text[o..o + 4]), Some("name"));
        assert_eq!(PathDisplay(&[orgs, 0.into(), "groups".into(), 1.into()]).to_string(), "organizations[0].groups[1]");
    }
}
