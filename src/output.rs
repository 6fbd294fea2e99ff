//! Writing outputs: always atomically (a temp file in the same folder, then a
//! rename), so an error never leaves a half-written plan, snapshot or script.
//! Folders that orgsplit owns whole (scripts, notices) are [`OutputFolder`]s.

// The I/O edge that writes files: the methods `clippy.toml` keeps out of the pure stages are its job.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::print_stderr)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

mod whole;
pub use whole::{MANIFEST, Manifest, OutputFolder};

/// Write `bytes` to `path` atomically, readable by all (0644, like a file
/// written the usual way; a temp file alone would be 0600).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(path, bytes, Some(0o644))
}

/// Like [`write_atomic`], the file's bytes given in parts.
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> Result<()> {
    write_atomic_with(path, Some(0o644), |w| parts.iter().try_for_each(|p| w.write_all(p)))
}

/// Write `value` to `path` atomically as pretty JSON with a trailing newline
/// (the bytes of [`crate::json::pretty`]), serialised straight into the file so
/// the document is never held in memory whole.
pub fn write_atomic_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    write_atomic_with(path, Some(0o644), |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(std::io::Error::from)?;
        w.write_all(b"\n")
    })
}

/// Like [`write_atomic`], and set the Unix permission bits (for scripts).
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    write_atomic_with(path, mode, |w| w.write_all(bytes))
}

/// The temp file, written by `write` through a buffer, synced, given `mode`
/// and renamed to `path`; on any error it is removed and `path` is untouched.
fn write_atomic_with(
    path: &Path,
    mode: Option<u32>,
    write: impl FnOnce(&mut std::io::BufWriter<&mut fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir).map_err(|e| Error::Io { action: "create folder", path: dir.clone(), source: e })?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".orgsplit-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| Error::write(path, e))?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
    write(&mut buffered).and_then(|()| buffered.flush()).map_err(|e| Error::write(path, e))?;
    drop(buffered);
    tmp.as_file().sync_all().map_err(|e| Error::write(path, e))?;
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode)).map_err(|e| Error::write(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.persist(path).map_err(|e| Error::write(path, e.error))?;
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes a set of files into a folder as one unit: every file is first
/// written to a staging folder beside the target, and only when all of them
/// are written are they moved into place. An error leaves the target folder
/// as it was (files already there are only replaced, never removed).
pub struct FolderWriter {
    target: PathBuf,
    staging: tempfile::TempDir,
    files: Vec<PathBuf>,
}

impl FolderWriter {
    pub fn new(target: &Path) -> Result<FolderWriter> {
        let parent = parent_dir(target);
        fs::create_dir_all(&parent).map_err(|e| Error::Io {
            action: "create folder",
            path: parent.clone(),
            source: e,
        })?;
        let staging = tempfile::Builder::new()
            .prefix(".orgsplit-staging-")
            .tempdir_in(&parent)
            .map_err(|e| Error::Io { action: "create folder", path: parent.clone(), source: e })?;
        Ok(FolderWriter { target: target.to_path_buf(), staging, files: Vec::new() })
    }

    /// Stage one file, at `relative` inside the target folder.
    pub fn add(&mut self, relative: &str, bytes: &[u8], mode: Option<u32>) -> Result<()> {
        let staged = self.staging.path().join(relative);
        if let Some(dir) = staged.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::write(&staged, e))?;
        }
        fs::write(&staged, bytes).map_err(|e| Error::write(self.target.join(relative), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = mode.unwrap_or(0o644);
            fs::set_permissions(&staged, fs::Permissions::from_mode(mode)).map_err(|e| Error::write(&staged, e))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        self.files.push(PathBuf::from(relative));
        Ok(())
    }

    /// Move every staged file into the target folder. Each move is a rename,
    /// so each file is either the old one or the complete new one.
    pub fn commit(self) -> Result<usize> {
        fs::create_dir_all(&self.target).map_err(|e| Error::Io {
            action: "create folder",
            path: self.target.clone(),
            source: e,
        })?;
        for relative in &self.files {
            let from = self.staging.path().join(relative);
            let to = self.target.join(relative);
            if let Some(dir) = to.parent() {
                fs::create_dir_all(dir).map_err(|e| Error::Io {
                    action: "create folder",
                    path: dir.into(),
                    source: e,
                })?;
            }
            fs::rename(&from, &to).map_err(|e| Error::write(&to, e))?;
        }
        Ok(self.files.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        }
    }

    #[test]
    fn parts_make_one_file_and_a_failure_part_way_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        write_atomic_parts(&path, &[b"{\n", b"  \"a\": 1", b"\n}\n"]).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{\n  \"a\": 1\n}\n");
        let err = write_atomic_with(&path, Some(0o644), |w| {
            w.write_all(&[b'x'; 1 << 20])?;
            Err(std::io::Error::other("stopped part-way"))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("plan.json") && err.contains("stopped part-way"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"{\n  \"a\": 1\n}\n");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn atomic_write_into_missing_folder_creates_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/out.txt");
        write_atomic(&path, b"x").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn folder_writer_moves_everything_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("scripts");
        let mut w = FolderWriter::new(&target).unwrap();
        w.add("alice.sh", b"#!/bin/sh\n", Some(0o755)).unwrap();
        w.add("sub/index.csv", b"a,b\n", None).unwrap();
        assert!(!target.exists());
        assert_eq!(w.commit().unwrap(), 2);
        assert_eq!(fs::read(target.join("sub/index.csv")).unwrap(), b"a,b\n");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 1, "staging folder left behind: {leftovers:?}");
    }

    #[test]
    fn folder_writer_dropped_without_commit_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("notices");
        {
            let mut w = FolderWriter::new(&target).unwrap();
            w.add("a.md", b"x", None).unwrap();
        }
        assert!(!target.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
