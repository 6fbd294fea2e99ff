//! The journal: a record, next to the plan, of an apply of that plan, so a
//! rerun after a crash, a kill or Ctrl-C knows it is resuming its own work.
//!
//! `PLAN.journal` is JSON Lines. The first line, the header, names the plan
//! (by the digest of its bytes), the deployment, the state the first run
//! started from, and the digest of the expected after-state, whose readable
//! form is written once beside it (`PLAN.expected`). Every later line is one
//! event: a run starting, a step's outcome, a template version created (so a
//! rerun waits for it instead of pushing another), a run ending.
//!
//! The header and the expected state are written atomically (temp file and
//! rename); events are appended one line per write and synced to disk before
//! anything that depends on them starts (steps finishing together share one
//! sync: see `executor.rs`), so a crash can at most cut the last line short, which a
//! rerun notices and ignores: every step looks before it acts, so a lost
//! event costs a look, never a second object. Nothing secret is ever
//! written: no token, no provisioner key secret, no template variable value.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::output;

/// Bump when a change would make an older orgsplit misread a journal.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The journal's format version.
    pub orgsplit_apply_journal: u32,
    /// The plan file, as given on the command line.
    pub plan: String,
    /// `sha256:<hex>` of the plan file's bytes: a journal belongs to one plan.
    pub plan_sha256: String,
    /// The deployment URL apply talks to.
    pub deployment: String,
    /// The fingerprint of the state the first run started from (the plan's).
    pub started_from: String,
    /// `sha256:<hex>` of the expected after-state's readable form (`PLAN.expected`).
    pub expected_sha256: String,
    /// `sha256:<hex>` of `PLAN.before`: the deployment as the first run found
    /// it, written before its first change, which `revert` restores from.
    /// Absent in journals of orgsplit releases before `revert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Event {
    /// A run began (its number counts from 1), as `by` (a username).
    RunStarted { run: u32, by: String },
    /// A step's outcome: `done`, `waiting` or `failed`, and what was done or why not.
    Step { step: String, status: String, detail: String },
    /// A template version was created for a template step: a rerun waits for it.
    TemplateVersion { step: String, version_id: String },
    /// A run ended, with its counts, and whether verification found drift (null when not verified).
    RunEnded { run: u32, summary: String, drift: Option<bool>, interrupted: bool },
}

/// `PLAN.journal` and `PLAN.expected` for a plan file.
pub fn paths(plan: &Path) -> (PathBuf, PathBuf) {
    (beside(plan, ".journal"), beside(plan, ".expected"))
}

/// `PLAN<ext>`: a file next to the plan (`.before`, `.revert.journal`).
pub fn beside(plan: &Path, ext: &str) -> PathBuf {
    let mut name = plan.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(ext);
    plan.with_file_name(name)
}

/// A journal read back: its header and events (a last line cut short by a
/// crash is left out and counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub header: Header,
    pub events: Vec<Event>,
    pub torn_last_line: bool,
}

impl Read {
    pub fn runs(&self) -> u32 {
        self.events.iter().filter(|e| matches!(e, Event::RunStarted { .. })).count() as u32
    }

    /// The template version the last run created for `step`, if any.
    pub fn version_of(&self, step: &str) -> Option<&str> {
        self.events.iter().rev().find_map(|e| match e {
            Event::TemplateVersion { step: s, version_id } if s == step => Some(version_id.as_str()),
            _ => None,
        })
    }
}

/// Read the journal at `path`; `None` when there is none.
pub fn read(path: &Path) -> Result<Option<Read>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::read(path, e)),
    };
    parse(&text, path).map(Some)
}

fn parse(text: &str, path: &Path) -> Result<Read> {
    let help = "it is not a journal this orgsplit wrote: move it aside (never delete a journal: it records what \
                apply did) and run apply again";
    let (header, events, torn_last_line) = parse_with(text, path, help, |h: &Header| h.orgsplit_apply_journal)?;
    Ok(Read { header, events, torn_last_line })
}

/// A journal's header (of type `H`, whose format version `version` reads)
/// and events; a last line cut short is left out and reported.
pub(crate) fn parse_with<H: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
    help: &str,
    version: impl Fn(&H) -> u32,
) -> Result<(H, Vec<Event>, bool)> {
    let mut lines = text.split_inclusive('\n').enumerate();
    let header: H = match lines.next() {
        Some((_, line)) => serde_json::from_str(line.trim_end()).map_err(|e| {
            Error::Input(crate::error::Diagnostic::new(path, format!("bad journal header: {e}")).at(1, 1).help(help))
        })?,
        None => return Err(Error::Input(crate::error::Diagnostic::new(path, "the journal is empty").help(help))),
    };
    if version(&header) != FORMAT_VERSION {
        return Err(Error::Input(
            crate::error::Diagnostic::new(
                path,
                format!("journal format {} is not one this orgsplit reads ({FORMAT_VERSION})", version(&header)),
            )
            .help(help),
        ));
    }
    let mut events = Vec::new();
    let mut torn_last_line = false;
    let lines: Vec<(usize, &str)> = lines.collect();
    for (n, (i, line)) in lines.iter().enumerate() {
        let last = n + 1 == lines.len();
        match serde_json::from_str::<Event>(line.trim_end()) {
            Ok(e) => events.push(e),
            // A crash can cut the last line short; it is only a record.
            Err(_) if last && !line.ends_with('\n') => torn_last_line = true,
            Err(e) => {
                return Err(Error::Input(
                    crate::error::Diagnostic::new(path, format!("bad journal line: {e}")).at(i + 1, 1).help(help),
                ));
            }
        }
    }
    Ok((header, events, torn_last_line))
}

/// A journal open for appending.
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Start a journal: the expected after-state (atomically), then the
    /// header line (atomically), then open it for appending.
    pub fn create(path: &Path, expected_path: &Path, header: &Header, expected: &str) -> Result<Journal> {
        output::write_atomic(expected_path, expected.as_bytes())?;
        Journal::start(path, header)
    }

    /// Write a header line (atomically), then open the journal for appending.
    pub fn start<H: Serialize>(path: &Path, header: &H) -> Result<Journal> {
        let mut line = serde_json::to_vec(header).map_err(|e| Error::Bug(format!("journal header: {e}")))?;
        line.push(b'\n');
        output::write_atomic(path, &line)?;
        Journal::open(path)
    }

    /// Open an existing journal for appending.
    pub fn open(path: &Path) -> Result<Journal> {
        let file = OpenOptions::new().append(true).open(path).map_err(|e| Error::write(path, e))?;
        Ok(Journal { path: path.to_path_buf(), file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one event as one line in one write, and sync it to disk.
    pub fn append(&mut self, event: &Event) -> Result<()> {
        self.write(event)?;
        self.sync()
    }

    /// Append one event as one line in one write, not yet synced: the caller
    /// syncs ([`Journal::sync`]) before anything acts on it.
    pub fn write(&mut self, event: &Event) -> Result<()> {
        let mut line = serde_json::to_vec(event).map_err(|e| Error::Bug(format!("journal event: {e}")))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(|e| Error::write(&self.path, e))
    }

    /// Make every line written so far durable: one sync covers them all.
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync_data().map_err(|e| Error::write(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            orgsplit_apply_journal: FORMAT_VERSION,
            plan: "plan.json".into(),
            plan_sha256: "sha256:aa".into(),
            deployment: "https://coder.example.com".into(),
            started_from: "sha256:bb".into(),
            expected_sha256: "sha256:cc".into(),
            before_sha256: None,
        }
    }

    #[test]
    fn a_journal_reads_back_what_was_appended_and_ignores_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let (path, expected) = paths(&dir.path().join("plan.json"));
        assert_eq!(path.file_name().unwrap(), "plan.json.journal");
        let mut j = Journal::create(&path, &expected, &header(), "organization coder\n").unwrap();
        let events = [
            Event::RunStarted { run: 1, by: "admin".into() },
            Event::Step { step: "ml/organization/ml".into(), status: "done".into(), detail: "created".into() },
            Event::TemplateVersion { step: "ml/template/gpu".into(), version_id: "v1".into() },
        ];
        for e in &events {
            j.append(e).unwrap();
        }
        let read = read(&path).unwrap().unwrap();
        assert_eq!((read.header.clone(), read.events.clone(), read.torn_last_line), (header(), events.to_vec(), false));
        assert_eq!((read.runs(), read.version_of("ml/template/gpu")), (1, Some("v1")));
        assert_eq!(std::fs::read_to_string(&expected).unwrap(), "organization coder\n");
        // A crash in the middle of a write.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"event\":\"st").unwrap();
        let torn = super::read(&path).unwrap().unwrap();
        assert!(torn.torn_last_line && torn.events.len() == 3);
        // Damage in the middle is not a crash: refused.
        let text = std::fs::read_to_string(&path).unwrap().replacen("\"run-started\"", "\"what\"", 1);
        std::fs::write(&path, text).unwrap();
        let e = super::read(&path).unwrap_err().to_string();
        assert!(e.contains("plan.json.journal:2:1: bad journal line") && e.contains("move it aside"), "{e}");
        assert!(super::read(&dir.path().join("none.journal")).unwrap().is_none());
    }
}
