//! The v1 side of `orgsplit import`: an export folder of a Coder v1
//! deployment (recognised by its bodies) becomes a v1 snapshot.

use std::path::Path;

use crate::cli::ImportArgs;
use crate::error::{Error, Result};
use crate::v1::{self, V1Snapshot};

/// The v1 snapshot, when the import is of a v1 deployment; `None` for v2.
pub fn import_v1(args: &ImportArgs) -> Result<Option<V1Snapshot>> {
    let Some(dir) = &args.from_dir else { return Ok(None) };
    if !v1::is_v1_dir(dir)? {
        return Ok(None);
    }
    refuse_v2_only_flags(args)?;
    v1::import_dir(dir).map(Some)
}

fn refuse_v2_only_flags(args: &ImportArgs) -> Result<()> {
    let v2_only = [
        ("--people", args.people.is_some()),
        ("--template-sources", args.template_sources.is_some()),
        ("--deployment-url", args.deployment_url.is_some()),
        ("--taken-at", args.taken_at.is_some()),
    ];
    if let Some((flag, _)) = v2_only.iter().find(|(_, given)| *given) {
        return Err(Error::Usage(format!(
            "{flag} is for a v2 deployment; this export is of a Coder v1 deployment (import it without {flag})"
        )));
    }
    Ok(())
}

pub fn summary(path: &Path, s: &V1Snapshot) {
    eprintln!(
        "wrote {} (a Coder v1 snapshot): {} organizations, {} users, {} images, {} workspaces, {} providers, {} \
         warnings",
        path.display(),
        s.organizations.len(),
        s.users.len(),
        s.images.len(),
        s.workspaces.len(),
        s.providers.len(),
        s.warnings.len()
    );
    for w in &s.warnings {
        super::note(&format!("{}: {}", w.code, w.message));
    }
}
