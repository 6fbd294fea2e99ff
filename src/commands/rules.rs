//! `orgsplit rules list` and `orgsplit rules explain ID`: the rule catalogue
//! (built-in, plus `--rules DIR`), and what each rule tests and why.

use std::path::Path;

use crate::cli::RulesCommand;
use crate::error::{Error, Result};
use crate::render;
use crate::rules::Catalogue;
use crate::rules::catalogue::builtin_files;

pub fn run(command: RulesCommand) -> Result<u8> {
    match command {
        RulesCommand::List(args) => {
            let catalogue = load_catalogue(args.rules.as_deref())?;
            super::print(&render::rules::list(&catalogue, args.output.into())?)?;
        }
        RulesCommand::Explain(args) => {
            let catalogue = load_catalogue(args.rules.as_deref())?;
            let Some(rule) = catalogue.get(&args.id) else {
                let ids = catalogue.rules.iter().map(|r| format!("`{}`", r.id)).collect::<Vec<_>>().join(", ");
                return Err(Error::Usage(format!("no rule `{}` (rules: {ids})", args.id)));
            };
            super::print(&render::rules::explain(rule, &catalogue, args.output.into())?)?;
        }
    }
    super::OK
}

/// The built-in rules, plus the `*.toml` files of `dir` (sorted by path).
pub fn load_catalogue(dir: Option<&Path>) -> Result<Catalogue> {
    let mut extra = Vec::new();
    if let Some(dir) = dir {
        if !dir.is_dir() {
            return Err(Error::Usage(format!("`--rules {}`: not a folder of rule files", dir.display())));
        }
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::read(dir, e.into()))?;
            let path = entry.path();
            if entry.file_type().is_file() && path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
                extra.push((path.display().to_string(), text));
            }
        }
        if extra.is_empty() {
            return Err(Error::Usage(format!("`--rules {}`: the folder has no `.toml` rule files", dir.display())));
        }
    }
    Catalogue::load(&builtin_files(), &extra)
}
