//! `orgsplit import`: an export folder (and people, template sources) -> snapshot file.

use crate::cli::ImportArgs;
use crate::error::Result;
use crate::import::{self, ImportOptions};
use crate::output;

pub fn run(args: ImportArgs) -> Result<u8> {
    let options = ImportOptions {
        people: args.people.clone(),
        template_sources: args.template_sources.clone(),
        taken_at: args.taken_at.clone(),
    };
    let snapshot = import::import_dir(&args.from_dir, &options)?;
    output::write_atomic(&args.output, &snapshot.to_json()?)?;
    eprintln!(
        "wrote {}: {} organizations, {} users, {} groups, {} templates, {} workspaces, {} warnings",
        args.output.display(),
        snapshot.organizations.len(),
        snapshot.users.len(),
        snapshot.groups.iter().filter(|g| !g.is_everyone()).count(),
        snapshot.templates.len(),
        snapshot.workspaces.len(),
        snapshot.warnings.len()
    );
    if !snapshot.warnings.is_empty() {
        eprintln!("see the warnings with `orgsplit inventory {}`", args.output.display());
    }
    super::OK
}
