//! Parsing a snapshot document on two cores. Most of a large snapshot is its
//! `workspaces` array (70% of the bytes at 50,000 users), and one serde_json
//! parse of the document takes 0.35-0.4 s there, so a second thread parses
//! the array's second half while this one parses the rest.
//!
//! Where the second half starts is a guess made on the raw bytes (an element
//! boundary near the middle, as `to_json` lays the document out), so it is
//! checked before it is used: this thread walks the document's top-level
//! object key by key with serde_json, parses the array element by element,
//! and takes the helper's elements only if it lands exactly on the guessed
//! boundary. From there the helper did what this thread would have done,
//! element by element with the same parser, so the result is the same as
//! one `serde_json::from_slice`. Anything unusual (a key that is missing,
//! repeated or unknown, a layout the guess does not recognise, any error)
//! gives `None`, and the caller parses the plain way, which also gives the
//! error messages.

use serde::de::DeserializeOwned;

use super::{Snapshot, Workspace};

/// The snapshot in `bytes`, parsed on two cores; `None` when the caller
/// should parse it the plain way.
pub(super) fn parse(bytes: &[u8]) -> Option<Snapshot> {
    let split = guess_split(bytes)?;
    std::thread::scope(|scope| {
        let helper = scope.spawn(move || elements_from(bytes, split));
        let mut walk = Walk { bytes, pos: 0, split, helper: Some(helper) };
        walk.snapshot()
    })
}

/// A position near the middle of the bytes up to the end of `workspaces`
/// where an element of that array seems to start: what comes before it and
/// what comes after it take about as long to parse.
fn guess_split(bytes: &[u8]) -> Option<usize> {
    // Raw newlines only occur between tokens (JSON strings cannot hold them),
    // so these patterns cannot be inside a string.
    let start = find(bytes, b"\n  \"workspaces\": [", 0)?;
    let end = find(bytes, b"\n  ]", start)?;
    let boundary = b"},\n    {";
    let at = find(bytes, boundary, (end / 2).max(start))?;
    (at < end).then_some(at + boundary.len() - 1)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|p| from + p)
}

type Tail = Option<(Vec<Workspace>, usize)>;

/// The helper: elements from `at` to the end of their array, and the
/// position after its `]`.
fn elements_from(bytes: &[u8], at: usize) -> Tail {
    let mut walk = Walk { bytes, pos: at, split: usize::MAX, helper: None };
    let mut out = Vec::new();
    walk.elements(&mut out)?;
    Some((out, walk.pos))
}

struct Walk<'b, 's> {
    bytes: &'b [u8],
    pos: usize,
    /// Where the helper started, and the helper (until joined).
    split: usize,
    helper: Option<std::thread::ScopedJoinHandle<'s, Tail>>,
}

impl Walk<'_, '_> {
    /// The next byte after whitespace (as serde_json counts it).
    fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// One JSON value, parsed by serde_json where it stands.
    fn value<T: DeserializeOwned>(&mut self) -> Option<T> {
        let mut stream = serde_json::Deserializer::from_slice(&self.bytes[self.pos..]).into_iter::<T>();
        let value = stream.next()?.ok()?;
        self.pos += stream.byte_offset();
        Some(value)
    }

    /// The document: one object holding every field once, then nothing.
    fn snapshot(&mut self) -> Option<Snapshot> {
        let mut s = Snapshot::default();
        let mut seen = 0u32;
        self.eat(b'{')?;
        loop {
            let key: String = self.value()?;
            self.eat(b':')?;
            let field = self.field(&key, &mut s)?;
            if seen & field != 0 {
                return None;
            }
            seen |= field;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => break,
                _ => return None,
            }
        }
        self.pos += 1;
        let every_field = (1 << 19) - 1;
        (seen == every_field && self.peek().is_none()).then_some(s)
    }

    /// Parse the value of field `key` into `s`; its bit in the set of fields.
    /// Every field of `Snapshot` must be here (with plain serde attributes):
    /// `two_cores_give_what_one_parse_gives` fails until a new one is.
    fn field(&mut self, key: &str, s: &mut Snapshot) -> Option<u32> {
        let bit = match key {
            "format_version" => set(&mut s.format_version, self.value()?, 0),
            "source" => set(&mut s.source, self.value()?, 1),
            "build_info" => set(&mut s.build_info, self.value()?, 2),
            "entitlements" => set(&mut s.entitlements, self.value()?, 3),
            "organizations" => set(&mut s.organizations, self.value()?, 4),
            "users" => set(&mut s.users, self.value()?, 5),
            "organization_members" => set(&mut s.organization_members, self.value()?, 6),
            "groups" => set(&mut s.groups, self.value()?, 7),
            "templates" => set(&mut s.templates, self.value()?, 8),
            "template_versions" => set(&mut s.template_versions, self.value()?, 9),
            "workspaces" => set(&mut s.workspaces, self.workspaces()?, 10),
            "provisioner_daemons" => set(&mut s.provisioner_daemons, self.value()?, 11),
            "provisioner_keys" => set(&mut s.provisioner_keys, self.value()?, 12),
            "workspace_proxies" => set(&mut s.workspace_proxies, self.value()?, 13),
            "custom_roles" => set(&mut s.custom_roles, self.value()?, 14),
            "idp_sync" => set(&mut s.idp_sync, self.value()?, 15),
            "people" => set(&mut s.people, self.value()?, 16),
            "template_sources" => set(&mut s.template_sources, self.value()?, 17),
            "warnings" => set(&mut s.warnings, self.value()?, 18),
            _ => return None,
        };
        Some(bit)
    }

    /// The workspaces array, with the helper's elements when it started on
    /// one of this array's element boundaries.
    fn workspaces(&mut self) -> Option<Vec<Workspace>> {
        let mut out = Vec::new();
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(out);
        }
        self.elements(&mut out)?;
        Some(out)
    }

    /// Elements from here to the end of the array, and past its `]`.
    fn elements(&mut self, out: &mut Vec<Workspace>) -> Option<()> {
        loop {
            if self.pos == self.split
                && let Some(helper) = self.helper.take()
                && let Ok(Some((tail, end))) = helper.join()
            {
                out.extend(tail);
                self.pos = end;
                return Some(());
            }
            out.push(self.value()?);
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
            // serde_json refuses a trailing comma.
            if self.peek()? == b']' {
                return None;
            }
        }
    }
}

fn set<T>(field: &mut T, value: T, bit: u32) -> u32 {
    *field = value;
    1 << bit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical() -> Vec<u8> {
        let mut s = crate::fixture::builtin().unwrap();
        // Enough workspaces that the guess finds a boundary past the middle.
        let more: Vec<Workspace> = (0..400)
            .map(|i| Workspace { id: format!("w{i}"), name: format!("x{i}"), ..s.workspaces[i % 7].clone() })
            .collect();
        s.workspaces.extend(more);
        s.to_json().unwrap()
    }

    #[test]
    fn two_cores_give_what_one_parse_gives() {
        let bytes = canonical();
        let plain: Snapshot = serde_json::from_slice(&bytes).unwrap();
        assert!(guess_split(&bytes).is_some(), "the canonical layout is recognised");
        assert_eq!(parse(&bytes), Some(plain));
    }

    #[test]
    fn the_helper_is_used_only_where_the_walk_lands() {
        let bytes = canonical();
        let plain: Snapshot = serde_json::from_slice(&bytes).unwrap();
        let start = find(&bytes, b"\"workspaces\": [", 0).unwrap();
        let first = find(&bytes, b"{", start).unwrap();
        // The first element (used), inside it, and inside a string (never
        // landed on: the helper's work is ignored).
        for split in [first, first + 1, first + 10, find(&bytes, b"\"id\": \"w1", start).unwrap() + 8] {
            let found = std::thread::scope(|scope| {
                let helper = scope.spawn(|| elements_from(&bytes, split));
                Walk { bytes: &bytes, pos: 0, split, helper: Some(helper) }.snapshot()
            });
            assert_eq!(found.as_ref(), Some(&plain), "split at {split}");
        }
    }

    #[test]
    fn anything_unusual_is_left_to_the_plain_parse() {
        let bytes = String::from_utf8(canonical()).unwrap();
        let mut doc: serde_json::Value = serde_json::from_str(&bytes).unwrap();
        doc.as_object_mut().unwrap().remove("warnings");
        let missing = serde_json::to_string_pretty(&doc).unwrap();
        let start = bytes.find("\"workspaces\": [").unwrap();
        let end = start + bytes[start..].find("\n  ]").unwrap();
        let trailing_comma = format!("{},{}", &bytes[..end], &bytes[end..]);
        let cases = [
            bytes.replacen("\"warnings\": [", "\"surprise\": 1, \"warnings\": [", 1),
            bytes.replacen("\"warnings\": [", "\"users\": [], \"warnings\": [", 1),
            missing,
            format!("{bytes} x"),
            trailing_comma,
        ];
        for (i, case) in cases.iter().enumerate() {
            assert_ne!(case, &bytes, "case {i} changes the document");
            assert!(serde_json::from_str::<Snapshot>(case).is_err(), "case {i}");
            assert_eq!(parse(case.as_bytes()), None, "case {i}");
        }
    }
}
