//! Coder v1 ("Coder Enterprise") deployments: import them into a v1
//! snapshot, show who can do what under v1's organization roles, and plan
//! their move into v2 organizations. See `../shared/coder-v1/API.md` for the
//! v1 API this follows.
//!
//! v1 objects stay v1 objects: they live in their own snapshot document
//! ([`model::V1Snapshot`]) and never pass for v2 ones. Only [`import_dir`]
//! touches the disk, and only [`live`] the network (a v1 deployment's API,
//! through the same client as v2).

pub mod fixture;
pub mod import;
pub mod live;
pub mod model;
pub mod permissions;
pub mod plan;
pub mod render;
pub mod v2plan;

use std::path::Path;

pub use model::V1Snapshot;

use crate::error::{Error, Result};

/// Whether an export folder holds a v1 deployment: one of its files is a
/// body only v1 serves (organizations with `organization_roles`, images,
/// workspaces with an `image_id`, providers, ...).
#[allow(clippy::disallowed_methods)] // v1's folder reader: part of the import edge
pub fn is_v1_dir(dir: &Path) -> Result<bool> {
    let listing = crate::import::folder::list_files(dir)?;
    for (_, path) in &listing.files {
        let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
        if import::is_v1_body(&bytes) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Import a v1 export folder from disk.
#[allow(clippy::disallowed_methods)] // v1's folder reader: part of the import edge
pub fn import_dir(dir: &Path) -> Result<V1Snapshot> {
    let listing = crate::import::folder::list_files(dir)?;
    let mut files = Vec::new();
    for (name, path) in &listing.files {
        files.push((name.clone(), std::fs::read(path).map_err(|e| Error::read(path, e))?));
    }
    let source =
        model::V1Source { kind: "export-dir".into(), location: dir.display().to_string(), server_version: None };
    let mut snap = import::import_files(files.iter().map(|(n, b)| (n.clone(), b.as_slice())), source)
        .map_err(|e| with_folder(e, dir))?;
    snap.warnings.splice(0..0, listing.warnings);
    Ok(snap)
}

/// Messages name files relative to the export folder; put the folder in front.
fn with_folder(e: Error, dir: &Path) -> Error {
    match e {
        Error::Input(mut d) => {
            d.path = dir.join(&d.path).display().to_string();
            Error::Input(d)
        }
        other => other,
    }
}
