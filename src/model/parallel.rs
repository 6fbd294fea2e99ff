//! Parsing a snapshot document on two cores. Most of a large snapshot is its
//! `workspaces` array (70% of the bytes at 50,000 users), and one serde_json
//! parse of the document takes 0.35-0.4 s there, so a second thread parses
//! from the middle of that array to the end of the document while this one
//! parses up to the middle.
//!
//! Where the second thread starts is a guess made on the raw bytes (an
//! element boundary near the middle of the document, as `to_json` lays it
//! out), so it is checked before it is used: this thread walks the
//! document's top-level object key by key with serde_json, parses the array
//! element by element, and takes the helper's work only if it lands exactly
//! on the guessed boundary. From there the helper did what this thread would
//! have done, with the same parser, so the result is the same as one
//! `serde_json::from_slice`. Anything unusual (a key that is missing,
//! repeated or unknown, a layout the guess does not recognise, any error)
//! gives `None`, and the caller parses the plain way, which also gives the
//! error messages.

use serde::de::DeserializeOwned;

use super::{Snapshot, Workspace};

/// The snapshot in `bytes`, parsed on two cores; `None` when the caller
/// should parse it the plain way.
pub(super) fn parse(bytes: &[u8]) -> Option<Snapshot> {
    let Guess { split, end } = guess_split(bytes)?;
    crate::cores::beside(
        move || rest_from(bytes, split, end),
        |helper| {
            let mut walk = Walk { bytes, pos: 0, split, end, helper: Some(helper), rest: None };
            walk.snapshot()
        },
    )
}

/// Where the helper starts (an element of `workspaces` seems to start there,
/// near the middle of the document), and where that array seems to end. The
/// layout guessed is `to_json`'s: fields in `NAMES` order, pretty-printed.
struct Guess {
    split: usize,
    end: usize,
}

fn guess_split(bytes: &[u8]) -> Option<Guess> {
    // Raw newlines only occur between tokens (JSON strings cannot hold them),
    // so these patterns cannot be inside a string. The array's end is found
    // from the end of the document, by the key that follows it: a search
    // through the array itself would take longer (15 ms at 50,000 users).
    let next = NAMES.get(WORKSPACES_AT + 1)?;
    let end = memchr::memmem::rfind(bytes, format!("\n  ],\n  \"{next}\": ").as_bytes())?;
    let boundary = b"},\n    {";
    let at = find(bytes, boundary, bytes.len() / 2)?;
    // A boundary in an earlier array is never landed on (the walk looks for
    // it in this array only): a wasted guess, not a wrong result.
    (at < end).then_some(Guess { split: at + boundary.len() - 1, end })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|p| from + p)
}

/// What the helper parsed: the workspaces from where it started, and the
/// document's later fields (with their bits), up to its end.
struct Rest {
    workspaces: Vec<Workspace>,
    fields: Snapshot,
    seen: u32,
}

/// The helper: elements from `at` to the end of their array, then the rest
/// of the top-level object, which must end the document.
fn rest_from(bytes: &[u8], at: usize, end: usize) -> Option<Rest> {
    let mut walk = Walk { bytes, pos: at, split: usize::MAX, end, helper: None, rest: None };
    let mut workspaces = Vec::new();
    walk.elements(&mut workspaces)?;
    let mut fields = Snapshot::default();
    let seen = walk.members(&mut fields, false)?;
    Some(Rest { workspaces, fields, seen })
}

struct Walk<'b, 's> {
    bytes: &'b [u8],
    pos: usize,
    /// Where the helper started, and the helper (until joined).
    split: usize,
    /// Where the workspaces array seems to end (to size its vector).
    end: usize,
    helper: Option<crate::cores::Later<'s, Option<Rest>>>,
    /// The helper's later fields, once joined.
    rest: Option<(Snapshot, u32)>,
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
        self.eat(b'{')?;
        let seen = self.members(&mut s, true)?;
        (seen == EVERY_FIELD).then_some(s)
    }

    /// The top-level object's members from here (`first`: just after its
    /// `{`) to its `}`, which must end the document; the set of fields seen.
    /// When the helper's work is taken on the way, its fields end the object.
    fn members(&mut self, s: &mut Snapshot, mut first: bool) -> Option<u32> {
        let mut seen = 0u32;
        loop {
            if !first {
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        return self.peek().is_none().then_some(seen);
                    }
                    _ => return None,
                }
            }
            first = false;
            let key: String = self.value()?;
            self.eat(b':')?;
            let field = if key == "workspaces" {
                s.workspaces = self.workspaces()?;
                WORKSPACES
            } else {
                self.field(&key, s)?
            };
            if seen & field != 0 {
                return None;
            }
            seen |= field;
            if let Some((fields, later)) = self.rest.take() {
                if seen & later != 0 {
                    return None;
                }
                merge(s, fields, later);
                return Some(seen | later);
            }
        }
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

    /// Elements from here to the end of the array, and past its `]`; or up
    /// to the helper's start, taking its work, which goes on to the end of
    /// the document.
    fn elements(&mut self, out: &mut Vec<Workspace>) -> Option<()> {
        loop {
            if self.pos == self.split
                && let Some(helper) = self.helper.take()
                && let Some(Some(rest)) = helper.wait_if_done()
            {
                out.extend(rest.workspaces);
                self.rest = Some((rest.fields, rest.seen));
                self.pos = self.bytes.len();
                return Some(());
            }
            let from = self.pos;
            out.push(self.value()?);
            if out.len() == 1 {
                // A vector the size the array seems to be, from the first
                // element's: growing it step by step copies it each time.
                // Room reserved and never used costs no memory.
                let each = (self.pos - from).max(1);
                out.reserve(self.end.saturating_sub(self.pos) / each * 5 / 4);
            }
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

/// Every field of `Snapshot`, each with a bit (its place in this list) in a
/// set of fields: how the walk parses one, and how the helper's fields join
/// this thread's. Listing every field is checked by the compiler (`merge`
/// takes the struct apart).
macro_rules! fields {
    ($($name:ident),* $(,)?) => {
        const NAMES: &[&str] = &[$(stringify!($name)),*];

        impl Walk<'_, '_> {
            /// Parse the value of field `key` into `s`; its bit.
            fn field(&mut self, key: &str, s: &mut Snapshot) -> Option<u32> {
                let mut bit = 0;
                $(
                    if key == stringify!($name) {
                        s.$name = self.value()?;
                        return Some(1 << bit);
                    }
                    bit += 1;
                )*
                let _ = bit;
                None
            }
        }

        /// Move the fields in the set `bits` from `from` to `to`.
        fn merge(to: &mut Snapshot, from: Snapshot, bits: u32) {
            let Snapshot { $($name),* } = from;
            let mut bit = 0;
            $(
                if bits & (1 << bit) != 0 {
                    to.$name = $name;
                }
                bit += 1;
            )*
            let _ = bit;
        }
    };
}

fields!(
    format_version,
    source,
    build_info,
    entitlements,
    organizations,
    users,
    organization_members,
    groups,
    templates,
    template_versions,
    workspaces,
    provisioner_daemons,
    provisioner_keys,
    workspace_proxies,
    custom_roles,
    idp_sync,
    people,
    template_sources,
    warnings,
);

const EVERY_FIELD: u32 = (1 << NAMES.len()) - 1;
/// Where `workspaces` is in `NAMES` (checked by a test), and its bit.
const WORKSPACES_AT: usize = 10;
const WORKSPACES: u32 = 1 << WORKSPACES_AT;

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
        assert!(plain.people.is_some() && !plain.template_sources.is_empty(), "fields after the workspaces");
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
        let end = guess_split(&bytes).unwrap().end;
        for split in [first, first + 1, first + 10, find(&bytes, b"\"id\": \"w1", start).unwrap() + 8] {
            let found = crate::cores::beside(
                || rest_from(&bytes, split, end),
                |helper| Walk { bytes: &bytes, pos: 0, split, end, helper: Some(helper), rest: None }.snapshot(),
            );
            assert_eq!(found.as_ref(), Some(&plain), "split at {split}");
        }
    }

    #[test]
    fn the_guess_lands_and_the_helpers_work_is_taken() {
        let bytes = canonical();
        let plain: Snapshot = serde_json::from_slice(&bytes).unwrap();
        let Guess { split, end } = guess_split(&bytes).unwrap();
        // The helper's result, marked: the walk's result has the marks only
        // if it took the helper's work.
        let found = crate::cores::beside(
            || {
                let mut rest = rest_from(&bytes, split, end)?;
                rest.workspaces[0].name = "from-the-helper".into();
                rest.fields.template_sources.clear();
                Some(rest)
            },
            |helper| Walk { bytes: &bytes, pos: 0, split, end, helper: Some(helper), rest: None }.snapshot(),
        )
        .unwrap();
        assert!(!plain.template_sources.is_empty());
        assert!(found.template_sources.is_empty(), "the fields after the workspaces are the helper's");
        let first = found.workspaces.iter().position(|w| w.name == "from-the-helper").unwrap();
        assert!(first > plain.workspaces.len() / 4, "the helper starts near the middle");
        assert_eq!(found.workspaces.len(), plain.workspaces.len());
    }

    #[test]
    fn the_field_list_is_the_snapshots() {
        let value = serde_json::to_value(Snapshot::default()).unwrap();
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        // As a map the keys come sorted; the order is checked on the text.
        let mut names = NAMES.to_vec();
        keys.sort_unstable();
        names.sort_unstable();
        assert_eq!(names, keys);
        let text = String::from_utf8(Snapshot::default().to_json().unwrap()).unwrap();
        let at: Vec<usize> = NAMES.iter().map(|n| text.find(&format!("\n  \"{n}\": ")).unwrap()).collect();
        assert!(at.is_sorted(), "`to_json` writes the fields in this order");
        assert_eq!(NAMES[WORKSPACES_AT], "workspaces");
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
            bytes.replacen("\"warnings\": [", "\"warnings\": [], \"warnings\": [", 1),
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
