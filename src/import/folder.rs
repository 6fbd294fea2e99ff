//! Walking an export folder: which entries are read, and a warning naming
//! every entry that is not (nothing in the folder is passed over silently).
//!
//! What is a warning and what an error: an entry that cannot hold export data
//! the user meant (a FIFO, a socket, a device, a link leading out of the folder
//! or nowhere) is skipped with a warning. A `.json` file or a subfolder that
//! cannot be read is an error: it is clearly part of the export, and a
//! snapshot without it would silently lack part of the deployment. Any other
//! unreadable file is a warning.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::{Diagnostic, Error, Result};
use crate::model::Warning;

/// The files to read (name relative to the folder, path to read), sorted by
/// name, and the warnings about the entries that are not read.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<(String, PathBuf)>,
    pub warnings: Vec<Warning>,
}

/// Every regular file under `dir`, hidden files skipped.
pub fn list_files(dir: &Path) -> Result<Listing> {
    if !dir.is_dir() {
        return Err(Error::input(
            dir,
            "not a folder: `--from-dir` takes the folder that holds the exported JSON files",
        ));
    }
    let root = fs::canonicalize(dir).map_err(|e| Error::read(dir, e))?;
    let mut listing = Listing::default();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
                let source = e.into_io_error().unwrap_or_else(|| io::Error::other("file system loop"));
                return Err(unreadable_folder(&path, &source));
            }
        };
        let name = relative(dir, entry.path());
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        if kind.is_file() {
            add_file(&mut listing, name, entry.into_path())?;
        } else if kind.is_symlink() {
            follow_link(&mut listing, &root, name, entry.path())?;
        } else {
            listing
                .warnings
                .push(Warning::new("not-a-file", format!("`{name}` is {}, not a file; skipped", special_kind(&kind))));
        }
    }
    Ok(listing)
}

/// A regular file: read later if it can be opened now.
fn add_file(listing: &mut Listing, name: String, path: PathBuf) -> Result<()> {
    match fs::File::open(&path) {
        Ok(_) => listing.files.push((name, path)),
        Err(e) if name.to_ascii_lowercase().ends_with(".json") => {
            return Err(Diagnostic::new(&path, format!("cannot read this export file: {}", os_reason(&e)))
                .help("make it readable (`chmod u+r`) or run orgsplit as a user who can read it")
                .into());
        }
        Err(e) => listing.warnings.push(Warning::new(
            "unreadable-file",
            format!(
                "`{name}` cannot be read ({}); skipped (if it is an export file, make it readable and import again)",
                os_reason(&e)
            ),
        )),
    }
    Ok(())
}

/// A symbolic link is followed once when it leads to a file inside the
/// folder that the walk does not read itself; anything else is reported.
fn follow_link(listing: &mut Listing, root: &Path, name: String, path: &Path) -> Result<()> {
    let shown = fs::read_link(path).map_or_else(|_| "?".to_string(), |t| t.display().to_string());
    let target = match fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) => {
            let why = if e.kind() == io::ErrorKind::NotFound {
                format!("points to `{shown}`, which does not exist")
            } else {
                format!("cannot be followed ({})", os_reason(&e))
            };
            listing.warnings.push(Warning::new("symlink", format!("`{name}` is a symbolic link that {why}; skipped")));
            return Ok(());
        }
    };
    let Ok(inside) = target.strip_prefix(root) else {
        listing.warnings.push(Warning::new(
            "symlink",
            format!(
                "`{name}` is a symbolic link to `{}`, outside the export folder; not followed (copy the file into \
                 the folder to import it)",
                target.display()
            ),
        ));
        return Ok(());
    };
    let inside_name = inside.to_string_lossy().replace('\\', "/");
    let meta = fs::metadata(&target).map_err(|e| Error::read(&target, e))?;
    let kind = meta.file_type();
    let why = if kind.is_dir() {
        "a folder inside the export folder (its files are read where they are); not followed".to_string()
    } else if !kind.is_file() {
        format!("{}; skipped", special_kind(&kind))
    } else if !is_hidden(inside) {
        "a file that is read under its own name; not read twice".to_string()
    } else {
        return add_file(listing, name, target);
    };
    listing.warnings.push(Warning::new("symlink", format!("`{name}` is a symbolic link to `{inside_name}`, {why}")));
    Ok(())
}

fn is_hidden(relative: &Path) -> bool {
    relative.components().any(|c| matches!(c, Component::Normal(n) if n.to_string_lossy().starts_with('.')))
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

fn unreadable_folder(path: &Path, e: &io::Error) -> Error {
    Diagnostic::new(path, format!("cannot read this folder of the export: {}", os_reason(e)))
        .help("make it readable (`chmod u+rx`) or run orgsplit as a user who can read it")
        .into()
}

/// The OS's reason, without the `(os error N)` tail.
pub(super) fn os_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s.to_lowercase(),
    }
}

#[cfg(unix)]
fn special_kind(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::FileType) -> &'static str {
    "not a regular file"
}
