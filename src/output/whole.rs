//! An orgsplit output folder (`scripts`, `notices`) written as one unit and
//! replacing an earlier one whole.
//!
//! Every file is written into a temporary sibling of the target (same parent,
//! so a rename moves it into place atomically) together with a manifest
//! naming the tool, the kind of folder and its files. An error anywhere
//! leaves the target as it was and removes the temporary folder. An earlier
//! folder is replaced only when its manifest says orgsplit wrote it, as the
//! same kind, and it holds nothing else: orgsplit never removes a file it did
//! not write. A non-empty folder without that manifest is refused.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::parent_dir;
use crate::error::{Error, Result};

/// The manifest's file name, inside the folder.
pub const MANIFEST: &str = ".orgsplit-manifest.json";

/// What orgsplit writes into every folder it writes as one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `orgsplit`.
    pub tool: String,
    /// The kind of folder (`scripts`, `notices`).
    pub kind: String,
    /// Every file orgsplit wrote there (the manifest aside), `/`-separated, sorted.
    pub files: Vec<String>,
}

/// A folder being written; nothing is visible at the target until [`OutputFolder::commit`].
pub struct OutputFolder {
    target: PathBuf,
    kind: &'static str,
    staging: tempfile::TempDir,
    files: BTreeSet<String>,
}

/// What is at the target today.
#[derive(Debug)]
enum Existing {
    Absent,
    Empty,
    /// An earlier folder of the same kind that orgsplit wrote.
    Ours(Manifest),
}

impl OutputFolder {
    /// Start a folder of `kind` at `target`. Refuses at once (before any
    /// work) a target orgsplit may not replace.
    pub fn new(target: &Path, kind: &'static str) -> Result<OutputFolder> {
        let target = resolve(target)?;
        inspect(&target, kind)?;
        let parent = parent_dir(&target);
        fs::create_dir_all(&parent).map_err(|e| Error::Io {
            action: "create folder",
            path: parent.clone(),
            source: e,
        })?;
        let staging = tempfile::Builder::new().prefix(".orgsplit-new-").tempdir_in(&parent).map_err(|e| Error::Io {
            action: "create folder",
            path: parent.clone(),
            source: e,
        })?;
        Ok(OutputFolder { target, kind, staging, files: BTreeSet::new() })
    }

    /// Stage one file at `relative` (`/`-separated) inside the folder.
    pub fn add(&mut self, relative: &str, bytes: &[u8], mode: Option<u32>) -> Result<()> {
        if !is_plain_relative(relative) || relative == MANIFEST {
            return Err(Error::Bug(format!("an output file name is not a plain relative path: {relative:?}")));
        }
        if !self.files.insert(relative.to_string()) {
            return Err(Error::Bug(format!("two files of the {} folder are both named `{relative}`", self.kind)));
        }
        let staged = self.staging.path().join(relative);
        if let Some(dir) = staged.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::write(self.target.join(relative), e))?;
        }
        fs::write(&staged, bytes).map_err(|e| Error::write(self.target.join(relative), e))?;
        set_mode(&staged, mode.unwrap_or(0o644)).map_err(|e| Error::write(self.target.join(relative), e))?;
        Ok(())
    }

    /// Write the manifest and move the folder into place, replacing an
    /// earlier orgsplit folder of the same kind whole. Returns the number of
    /// files added (the manifest aside).
    pub fn commit(self) -> Result<usize> {
        let OutputFolder { target, kind, staging, files } = self;
        let count = files.len();
        let manifest = Manifest { tool: "orgsplit".into(), kind: kind.into(), files: files.into_iter().collect() };
        let manifest_path = staging.path().join(MANIFEST);
        fs::write(&manifest_path, crate::json::pretty(&manifest)?)
            .map_err(|e| Error::write(target.join(MANIFEST), e))?;
        set_mode(&manifest_path, 0o644).map_err(|e| Error::write(target.join(MANIFEST), e))?;
        // A temp dir is private (0700); the folder it becomes is not.
        set_mode(staging.path(), 0o755).map_err(|e| Error::write(&target, e))?;
        match inspect(&target, kind)? {
            // rename(2) replaces an empty directory in one step.
            Existing::Absent | Existing::Empty => {
                fs::rename(staging.path(), &target).map_err(|e| Error::write(&target, e))?;
                let _ = staging.keep();
            }
            Existing::Ours(old_manifest) => {
                // A fresh empty sibling, which the old folder then replaces in one rename.
                let old = tempfile::Builder::new()
                    .prefix(".orgsplit-old-")
                    .tempdir_in(parent_dir(&target))
                    .map_err(|e| Error::write(&target, e))?
                    .keep();
                if let Err(e) = fs::rename(&target, &old) {
                    let _ = fs::remove_dir(&old);
                    return Err(Error::write(&target, e));
                }
                if let Err(e) = fs::rename(staging.path(), &target) {
                    // Put the earlier folder back; the new one goes with `staging`.
                    let _ = fs::rename(&old, &target);
                    return Err(Error::write(&target, e));
                }
                let _ = staging.keep();
                remove_ours(&old, &old_manifest);
                if old.exists() {
                    eprintln!(
                        "note: the earlier folder at `{}` could not be removed completely; what is left of it is in `{}`",
                        target.display(),
                        old.display()
                    );
                }
            }
        }
        Ok(count)
    }
}

/// An absolute form of the target with a last component to rename
/// (`--out-dir .` or `..` names the folder itself).
fn resolve(target: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(target).map_err(|e| Error::write(target, e))?;
    if absolute.file_name().is_some() && !absolute.ends_with("..") {
        return Ok(absolute);
    }
    let canonical = fs::canonicalize(target).map_err(|e| Error::write(target, e))?;
    match canonical.file_name() {
        Some(_) => Ok(canonical),
        None => Err(Error::Usage(format!(
            "`{}` cannot be an output folder (orgsplit replaces the folder whole): choose a folder inside it",
            target.display()
        ))),
    }
}

/// What is at `target`, refusing what orgsplit may not replace.
fn inspect(target: &Path, kind: &str) -> Result<Existing> {
    let shown = target.display();
    let meta = match fs::symlink_metadata(target) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Absent),
        Err(e) => return Err(Error::read(target, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Refused(format!(
            "`{shown}` is a symbolic link: orgsplit writes its {kind} folder only as a real folder; \
             pass the folder the link points to, or choose another --out-dir"
        )));
    }
    if !meta.is_dir() {
        return Err(Error::Refused(format!("`{shown}` is a file, not a folder: choose another --out-dir")));
    }
    let mut entries = fs::read_dir(target).map_err(|e| Error::read(target, e))?;
    if entries.next().is_none() {
        return Ok(Existing::Empty);
    }
    let not_ours = |why: &str| {
        Error::Refused(format!(
            "`{shown}` is not empty and {why}, so orgsplit did not write it and will not replace it: \
             choose another --out-dir, or move that folder away and run again"
        ))
    };
    let text = match fs::read(target.join(MANIFEST)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_ours(&format!("has no {MANIFEST}"))),
        Err(e) => return Err(Error::read(target.join(MANIFEST), e)),
    };
    let manifest = match serde_json::from_slice::<Manifest>(&text) {
        Ok(m) if m.tool == "orgsplit" => m,
        _ => return Err(not_ours(&format!("its {MANIFEST} is not one orgsplit wrote"))),
    };
    if manifest.kind != kind {
        return Err(Error::Refused(format!(
            "`{shown}` holds orgsplit's {}, not {kind}: choose another --out-dir",
            manifest.kind
        )));
    }
    let foreign = foreign_files(target, &manifest)?;
    if !foreign.is_empty() {
        let more = if foreign.len() > 3 { format!(" and {} more", foreign.len() - 3) } else { String::new() };
        return Err(Error::Refused(format!(
            "`{shown}` is an earlier orgsplit {kind} folder, but it also holds files orgsplit did not write \
             ({}{more}); orgsplit replaces its folder whole and never removes other files: move them out, \
             or choose another --out-dir",
            foreign.iter().take(3).map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(Existing::Ours(manifest))
}

/// Everything in `dir` but its folders that is not a regular file the manifest lists.
fn foreign_files(dir: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let listed: BTreeSet<&str> = manifest.files.iter().map(String::as_str).chain([MANIFEST]).collect();
    let mut foreign = Vec::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::read(dir, std::io::Error::other(e.to_string())))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let relative = slash_path(entry.path().strip_prefix(dir).unwrap_or(entry.path()));
        if !entry.file_type().is_file() || !listed.contains(relative.as_str()) {
            foreign.push(relative);
        }
    }
    Ok(foreign)
}

/// Remove an earlier folder (moved aside to `old`): the files its manifest
/// lists, the manifest, then its folders that are left empty. Anything else
/// stays where it is.
fn remove_ours(old: &Path, manifest: &Manifest) {
    for relative in manifest.files.iter().map(String::as_str).chain([MANIFEST]) {
        if !is_plain_relative(relative) {
            continue;
        }
        let path = old.join(relative);
        if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            let _ = fs::remove_file(&path);
        }
    }
    let dirs: Vec<PathBuf> = walkdir::WalkDir::new(old)
        .contents_first(true)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_dir())
        .map(|e| e.into_path())
        .collect();
    for dir in dirs {
        // Fails, and keeps the folder, when anything is still in it.
        let _ = fs::remove_dir(dir);
    }
}

/// `a/b.txt`: only normal components, no `..`, no root, not empty.
fn is_plain_relative(relative: &str) -> bool {
    !relative.is_empty()
        && !relative.contains('\\')
        && Path::new(relative).components().all(|c| matches!(c, Component::Normal(_)))
}

fn slash_path(path: &Path) -> String {
    path.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        out.sort();
        out
    }

    fn write(target: &Path, files: &[(&str, &str)]) -> Result<usize> {
        let mut w = OutputFolder::new(target, "scripts")?;
        for (path, text) in files {
            w.add(path, text.as_bytes(), None)?;
        }
        w.commit()
    }

    #[test]
    fn a_new_folder_holds_the_files_and_a_manifest_and_nothing_is_left_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        assert_eq!(write(&target, &[("b.sh", "b"), ("sub/a.md", "a")]).unwrap(), 2);
        assert_eq!(names(dir.path()), ["out"]);
        assert_eq!(names(&target), [MANIFEST, "b.sh", "sub"]);
        let manifest: Manifest = serde_json::from_slice(&fs::read(target.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(
            manifest,
            Manifest { tool: "orgsplit".into(), kind: "scripts".into(), files: vec!["b.sh".into(), "sub/a.md".into()] }
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o755);
        }
    }

    #[test]
    fn a_second_write_replaces_the_first_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write(&target, &[("old.sh", "1"), ("sub/old.md", "1"), ("index.csv", "1")]).unwrap();
        write(&target, &[("new.sh", "2"), ("index.csv", "2")]).unwrap();
        assert_eq!(names(&target), [MANIFEST, "index.csv", "new.sh"]);
        assert_eq!(fs::read_to_string(target.join("index.csv")).unwrap(), "2");
        assert_eq!(names(dir.path()), ["out"], "no temp folder left beside it");
    }

    #[test]
    fn an_empty_folder_is_used_and_a_foreign_one_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        write(&empty, &[("a.sh", "a")]).unwrap();
        assert!(empty.join("a.sh").is_file());

        let home = dir.path().join("home");
        fs::create_dir_all(home.join("docs")).unwrap();
        fs::write(home.join("docs/thesis.tex"), "mine").unwrap();
        let err = write(&home, &[("a.sh", "a")]).unwrap_err().to_string();
        assert!(err.contains("has no .orgsplit-manifest.json") && err.contains("choose another --out-dir"), "{err}");
        assert_eq!(names(&home), ["docs"]);
        assert_eq!(fs::read_to_string(home.join("docs/thesis.tex")).unwrap(), "mine");
        assert_eq!(names(dir.path()), ["empty", "home"]);
    }

    #[test]
    fn an_orgsplit_folder_with_other_files_or_of_another_kind_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write(&target, &[("a.sh", "a")]).unwrap();
        fs::write(target.join("notes.txt"), "mine").unwrap();
        let err = write(&target, &[("b.sh", "b")]).unwrap_err().to_string();
        assert!(err.contains("`notes.txt`") && err.contains("never removes other files"), "{err}");
        assert_eq!(names(&target), [MANIFEST, "a.sh", "notes.txt"]);

        let notices = dir.path().join("notices");
        let mut w = OutputFolder::new(&notices, "notices").unwrap();
        w.add("x.md", b"x", None).unwrap();
        w.commit().unwrap();
        let err = write(&notices, &[("b.sh", "b")]).unwrap_err().to_string();
        assert!(err.contains("holds orgsplit's notices, not scripts"), "{err}");
        assert_eq!(names(dir.path()), ["notices", "out"]);
    }

    #[test]
    fn a_failure_part_way_leaves_the_earlier_folder_and_no_temp_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write(&target, &[("a.sh", "first")]).unwrap();
        let err = write(&target, &[("a.sh", "second"), ("a.sh", "again")]).unwrap_err().to_string();
        assert!(err.contains("both named `a.sh`"), "{err}");
        assert_eq!(fs::read_to_string(target.join("a.sh")).unwrap(), "first");
        assert_eq!(names(dir.path()), ["out"]);
        assert!(write(&target, &[("../escape", "x")]).is_err());
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[test]
    fn a_file_or_a_link_at_the_target_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(write(&file, &[("a", "a")]).unwrap_err().to_string().contains("is a file, not a folder"));
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(dir.path(), &link).unwrap();
            assert!(write(&link, &[("a", "a")]).unwrap_err().to_string().contains("is a symbolic link"));
        }
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
    }
}
