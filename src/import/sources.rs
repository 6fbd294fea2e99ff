//! Template sources: one subfolder per template (what `coder templates pull`
//! writes), matched to the snapshot's templates by name. Where two orgs have
//! a template of the same name, `DIR/<org>/<template>/` says which.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::terraform;
use crate::error::{Error, Result};
use crate::model::{Snapshot, TemplateSource, Warning};

/// One template's source files, read from disk or from the binary.
#[derive(Debug, Clone, Default)]
pub struct SourceFolder {
    /// Relative to the sources folder: `<template>` or `<org>/<template>`.
    pub path: String,
    /// The org named by the folder layout, if any.
    pub org_name: Option<String>,
    pub template_name: String,
    /// (path relative to the template folder, text).
    pub files: Vec<(String, String)>,
    /// Problems reading it that are worth a warning, not an error.
    pub warnings: Vec<Warning>,
    /// Some file or subfolder could not be read, so the signals may miss some.
    pub incomplete: bool,
}

/// Scan each folder and attach the result to its template.
pub fn attach_template_sources(snapshot: &mut Snapshot, folders: Vec<SourceFolder>) {
    let default_org = snapshot.default_organization().map(|o| o.id.clone());
    let org_ids: BTreeMap<&str, &str> =
        snapshot.organizations.iter().map(|o| (o.name.as_str(), o.id.as_str())).collect();
    let mut by_name: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for t in &snapshot.templates {
        by_name.entry(&t.name).or_default().push((t.id.as_str(), t.organization_id.as_str()));
    }
    let mut sources = Vec::new();
    let mut warnings = Vec::new();
    // Variants: of a family of templates with the same source (but for
    // defaults, tags and names), the original is the one most people use
    // (a team's copy serves fewer), then the oldest, then by folder.
    let name_of: BTreeMap<&str, &str> = snapshot.templates.iter().map(|t| (t.id.as_str(), t.name.as_str())).collect();
    let mut owners: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for w in snapshot.workspaces.iter().filter(|w| !w.is_deleted_or_deleting()) {
        if let Some(name) = name_of.get(w.template_id.as_str()) {
            owners.entry(name).or_default().insert(w.owner_id.as_str());
        }
    }
    let created: BTreeMap<&str, &str> =
        snapshot.templates.iter().map(|t| (t.name.as_str(), t.created_at.as_deref().unwrap_or(""))).collect();
    let mut order: Vec<usize> = (0..folders.len()).collect();
    order.sort_by_key(|&i| {
        let name = folders[i].template_name.as_str();
        let users = owners.get(name).map_or(0, |o| o.len());
        (std::cmp::Reverse(users), created.get(name).copied().unwrap_or("~"), &folders[i].path)
    });
    let ordered: Vec<(String, Vec<(String, String)>)> =
        order.iter().map(|&i| (folders[i].path.clone(), folders[i].files.clone())).collect();
    let mut variant_of = vec![None; folders.len()];
    for (v, &i) in super::variants::find(&ordered).into_iter().zip(&order) {
        variant_of[i] = v;
    }
    for (folder, variant_of) in folders.into_iter().zip(variant_of) {
        warnings.extend(folder.warnings.iter().cloned());
        let candidates = by_name.get(folder.template_name.as_str()).cloned().unwrap_or_default();
        let wanted_org = folder.org_name.as_deref().and_then(|n| org_ids.get(n).copied());
        let matched: Vec<&(&str, &str)> = match wanted_org {
            Some(org) => candidates.iter().filter(|(_, o)| *o == org).collect(),
            None => candidates.iter().collect(),
        };
        let template_id = match matched.as_slice() {
            [] => {
                warnings.push(Warning::new(
                    "unmatched-template-source",
                    format!("template source folder `{}` matches no template in the snapshot", folder.path),
                ));
                None
            }
            [(id, _)] => Some(id.to_string()),
            several => {
                let pick = several.iter().find(|(_, o)| Some(*o) == default_org.as_deref()).unwrap_or(&several[0]);
                warnings.push(Warning::new(
                    "ambiguous-template-source",
                    format!(
                        "template source folder `{}` matches {} templates named `{}`; used the one in the default \
                         organization (put it under `<org>/{}` to choose)",
                        folder.path,
                        several.len(),
                        folder.template_name,
                        folder.template_name
                    ),
                ));
                Some(pick.0.to_string())
            }
        };
        let mut signals = Vec::new();
        let mut incomplete = folder.incomplete;
        for (file, text) in &folder.files {
            let scan = terraform::scan(file, text);
            signals.extend(scan.signals);
            if let Some((line, what)) = scan.problem {
                incomplete = true;
                warnings.push(Warning::new(
                    "unparsed-template-source",
                    format!(
                        "`{}/{file}`:{line}: {what}; the template's signals from this line of the file on are not \
                         recorded",
                        folder.path
                    ),
                ));
            }
        }
        sources.push(TemplateSource {
            path: folder.path.clone(),
            template_id,
            template_name: folder.template_name.clone(),
            files: folder.files.iter().map(|(f, _)| f.clone()).collect(),
            signals,
            signals_incomplete: incomplete,
            variant_of,
        });
    }
    snapshot.template_sources = sources;
    snapshot.warnings.extend(warnings);
    snapshot.canonicalize();
}

/// Read the sources folder from disk.
pub fn read_dir(dir: &Path, snapshot: &Snapshot) -> Result<Vec<SourceFolder>> {
    let org_names: Vec<&str> = snapshot.organizations.iter().map(|o| o.name.as_str()).collect();
    let mut folders = Vec::new();
    for (name, path) in subfolders(dir)? {
        // An org folder that cannot be listed is read as a template folder,
        // which reports what cannot be read.
        if org_names.contains(&name.as_str()) && has_tf_directly(&path) == Some(false) {
            for (template, tpath) in subfolders(&path)? {
                folders.push(read_template(&format!("{name}/{template}"), Some(name.clone()), &template, &tpath));
            }
        } else {
            folders.push(read_template(&name, None, &name, &path));
        }
    }
    Ok(folders)
}

fn subfolders(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    let entries = fs::read_dir(dir).map_err(|e| Error::read(dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::read(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| Error::read(entry.path(), e))?;
        if kind.is_dir() {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `dir` holds `.tf` files itself; `None` when it cannot be listed.
fn has_tf_directly(dir: &Path) -> Option<bool> {
    for entry in fs::read_dir(dir).ok()? {
        if entry.ok()?.file_name().to_string_lossy().ends_with(".tf") {
            return Some(true);
        }
    }
    Some(false)
}

/// One template's folder. What cannot be read is a warning and marks the
/// template's signals incomplete: the sources only add signals, so the
/// import goes on without them.
fn read_template(rel: &str, org_name: Option<String>, template: &str, dir: &Path) -> SourceFolder {
    let mut folder =
        SourceFolder { path: rel.to_string(), org_name, template_name: template.to_string(), ..Default::default() };
    let walker = walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().filter_entry(|e| {
        // Terraform's own cache is not the template's source.
        e.depth() == 0 || !(e.file_name() == ".terraform" || e.file_name() == ".git")
    });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(dir);
                let shown = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/");
                let why = e.io_error().map_or_else(|| e.to_string(), super::folder::os_reason);
                folder.unreadable(&format!("{rel}/{shown}"), &why);
                continue;
            }
        };
        if !entry.file_type().is_file() || !entry.file_name().to_string_lossy().ends_with(".tf") {
            continue;
        }
        let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path()).to_string_lossy().replace('\\', "/");
        let bytes = match fs::read(entry.path()) {
            Ok(bytes) => bytes,
            Err(e) => {
                folder.unreadable(&format!("{rel}/{relative}"), &super::folder::os_reason(&e));
                continue;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                folder.warnings.push(Warning::new(
                    "non-utf8-source",
                    format!(
                        "`{rel}/{relative}` is not UTF-8 (Terraform files must be); read with replacement characters"
                    ),
                ));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        folder.files.push((relative, text));
    }
    folder
}

impl SourceFolder {
    fn unreadable(&mut self, shown: &str, why: &str) {
        self.incomplete = true;
        self.warnings.push(Warning::new(
            "unreadable-template-source",
            format!(
                "`{}` cannot be read ({why}); template `{}`'s signals are incomplete",
                shown.trim_end_matches("/"),
                self.template_name
            ),
        ));
    }
}
