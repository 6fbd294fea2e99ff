//! The built-in MegaCo v1 example, embedded in the binary: the committed
//! `fixtures/megaco-v1` folder (written by `cargo xtask fixture megaco-v1
//! --out-dir fixtures/megaco-v1`), read by the same importer as a folder on disk.

use include_dir::{Dir, include_dir};

use super::import::import_files;
use super::model::{V1Snapshot, V1Source};
use crate::error::Result;

static MEGACO_V1: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/megaco-v1");

/// The name the commands accept for it (`--example megaco-v1`).
pub const NAME: &str = "megaco-v1";

/// The built-in MegaCo v1 example as a v1 snapshot.
pub fn builtin() -> Result<V1Snapshot> {
    let mut files: Vec<(String, &[u8])> = Vec::new();
    if let Some(export) = MEGACO_V1.get_dir("export") {
        for f in export.files() {
            let name = f.path().strip_prefix("export").unwrap_or(f.path()).to_string_lossy().replace('\\', "/");
            files.push((name, f.contents()));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let source = V1Source { kind: "builtin".into(), location: NAME.into(), server_version: None };
    import_files(files, source)
}
