//! From exports to a snapshot.
//!
//! The work is done on bytes ([`import_files`], [`attach_people`],
//! [`attach_template_sources`]) so the built-in example, which lives inside
//! the binary, goes through exactly the same code as a folder on disk. The
//! `*_dir`/`*_path` functions only read the disk.

// The I/O edge that reads export folders, CSV and Terraform sources from disk.
#![allow(clippy::disallowed_methods)]

mod assemble;
mod collect;
pub(crate) mod folder;
pub mod live;
mod parse;
mod people;
mod probe;
mod sources;
pub mod terraform;
mod variants;

use std::fs;
use std::path::{Path, PathBuf};

pub use sources::{SourceFolder, attach_template_sources};

use crate::error::{Diagnostic, Error, Result};
use crate::model::{Index, Snapshot, Source};

/// What to read besides the export folder.
#[derive(Debug, Default, Clone)]
pub struct ImportOptions {
    pub people: Option<PathBuf>,
    pub template_sources: Option<PathBuf>,
    /// Overrides the snapshot's `source.taken_at`.
    pub taken_at: Option<String>,
    /// The deployment's address (`--deployment-url`), for an export that
    /// does not say it; checked by the caller.
    pub deployment_url: Option<String>,
}

/// Import an export folder from disk, with the optional people CSV and template sources.
pub fn import_dir(dir: &Path, options: &ImportOptions) -> Result<Snapshot> {
    let listing = folder::list_files(dir)?;
    let source = Source {
        kind: "export-dir".into(),
        location: dir.display().to_string(),
        taken_at: options.taken_at.clone(),
        deployment_url: options.deployment_url.clone(),
    };
    let mut importer = Importer::new(source);
    importer.collected.warnings.extend(listing.warnings);
    // Files are read and decoded on both cores, and added in their order.
    let source = &importer.source.clone();
    let collected = &mut importer.collected;
    crate::cores::in_order(
        &listing.files,
        |(name, path)| prepare(name, &ReadLater(path).bytes()?, source),
        |steps| steps.map(|steps| steps.apply(collected)),
    )?;
    let mut snapshot = importer.finish();
    attach_inputs(&mut snapshot, options)?;
    Ok(snapshot)
}

/// Add what a deployment does not hold, from disk: the people CSV and the
/// template sources of `options` (for offline and live imports alike).
pub fn attach_inputs(snapshot: &mut Snapshot, options: &ImportOptions) -> Result<()> {
    if let Some(path) = &options.people {
        let bytes = fs::read(path).map_err(|e| Error::read(path, e))?;
        attach_people(snapshot, &path.display().to_string(), &bytes)?;
    }
    if let Some(dir) = &options.template_sources {
        let folders = sources::read_dir(dir, snapshot)?;
        attach_template_sources(snapshot, folders);
    }
    Ok(())
}

/// A file's bytes, read only when needed, so a large export never sits in
/// memory whole.
pub trait FileBytes {
    fn bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>>;
}

struct ReadLater<'a>(&'a Path);

impl FileBytes for ReadLater<'_> {
    fn bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        fs::read(self.0).map(Into::into).map_err(|e| Error::read(self.0, e))
    }
}

impl FileBytes for &[u8] {
    fn bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        Ok(std::borrow::Cow::Borrowed(self))
    }
}

/// Import export files given as (name relative to the folder, bytes), in the
/// order given (callers sort by name, so later files win conflicts).
pub fn import_files<B: FileBytes>(files: impl IntoIterator<Item = (String, B)>, source: Source) -> Result<Snapshot> {
    let mut importer = Importer::new(source);
    for (name, file) in files {
        importer.add(&name, &file.bytes()?)?;
    }
    Ok(importer.finish())
}

/// An import fed one file at a time: what [`import_files`] does, for callers
/// whose files arrive one by one (a live import adds each answer as it comes,
/// so none is held longer than it takes to read). A later file wins a conflict.
pub struct Importer {
    collected: collect::Collected,
    source: Source,
}

impl Importer {
    pub fn new(source: Source) -> Importer {
        Importer { collected: collect::Collected::default(), source }
    }

    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        prepare(name, bytes, &self.source)?.apply(&mut self.collected);
        Ok(())
    }

    /// Decode a file for [`Importer::add_decoded`] without the importer (so
    /// on any thread, while other files are added): `source` is the one the
    /// importer was made with.
    pub fn decode(name: &str, bytes: &[u8], source: &Source) -> Result<Decoded> {
        prepare(name, bytes, source).map(Decoded)
    }

    /// Add a file [`Importer::decode`] decoded: what `add` does with its bytes.
    pub fn add_decoded(&mut self, decoded: Decoded) {
        decoded.0.apply(&mut self.collected);
    }

    /// Join what was added into a snapshot.
    pub fn finish(self) -> Snapshot {
        assemble::assemble(self.collected, self.source)
    }
}

/// One export file, decoded: what [`Importer::add_decoded`] adds.
pub struct Decoded(parse::Steps);

/// Decode one export file: what [`Importer::add`] adds, on any thread.
fn prepare(name: &str, bytes: &[u8], source: &Source) -> Result<parse::Steps> {
    let mut steps = parse::Steps::default();
    // Windows tools write a UTF-8 byte-order mark; JSON has no use for it.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(text) = utf16(bytes) {
        // A UTF-16 file (what PowerShell's `>` writes): an error when it is
        // clearly an export file (its name or its text says JSON), else a warning.
        let how = "convert it to UTF-8 (`iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8`, or in PowerShell save it with \
                   `Out-File -Encoding utf8`) and import again";
        if looks_like_json(name, text.as_bytes()) {
            let d =
                Diagnostic::new(name, "this file is UTF-16 text (what PowerShell's `>` writes); JSON must be UTF-8")
                    .help(how);
            return Err(prefix(d, source).into());
        }
        steps.warn("unknown-file", format!("`{name}` is UTF-16 text, not a JSON file; skipped ({how})"));
        return Ok(steps);
    }
    if !looks_like_json(name, bytes) {
        steps.warn("unknown-file", format!("`{name}` is not a JSON file; skipped"));
        return Ok(steps);
    }
    parse::parse_file(name, bytes).map_err(|d| prefix(d, source).into())
}

/// Read a people CSV into the snapshot, adding its warnings.
pub fn attach_people(snapshot: &mut Snapshot, name: &str, bytes: &[u8]) -> Result<()> {
    let (people, warnings) = {
        let index = Index::new(snapshot);
        people::read_people(name, bytes, &index)?
    };
    snapshot.people = Some(people);
    snapshot.warnings.extend(warnings);
    snapshot.canonicalize();
    Ok(())
}

/// Messages name files relative to the export folder; put the folder in front.
fn prefix(mut d: Diagnostic, source: &Source) -> Diagnostic {
    if source.kind == "export-dir" {
        d.path = Path::new(&source.location).join(&d.path).display().to_string();
    }
    d
}

/// The text of a file that starts with a UTF-16 byte-order mark.
fn utf16(bytes: &[u8]) -> Option<String> {
    let from: fn([u8; 2]) -> u16 = match bytes {
        [0xFF, 0xFE, ..] => u16::from_le_bytes,
        [0xFE, 0xFF, ..] => u16::from_be_bytes,
        _ => return None,
    };
    let units: Vec<u16> = bytes[2..].chunks_exact(2).map(|c| from([c[0], c[1]])).collect();
    Some(String::from_utf16_lossy(&units))
}

/// `.json` files are JSON by name; others are tried only if they start like JSON.
fn looks_like_json(name: &str, bytes: &[u8]) -> bool {
    if name.to_ascii_lowercase().ends_with(".json") {
        return true;
    }
    matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}
