//! The v1 side of `orgsplit import`: an export folder of a Coder v1
//! deployment (recognised by its bodies) becomes a v1 snapshot.

use std::path::Path;

use crate::cli::ImportArgs;
use crate::error::{Error, Result};
use crate::v1::{self, V1Snapshot};

/// The v1 snapshot, when the import is of a v1 export folder, or of a live
/// deployment the admin says is v1 (`--coder-v1`); `None` otherwise.
pub fn import_v1(args: &ImportArgs, url: Option<&str>) -> Result<Option<V1Snapshot>> {
    if let Some(dir) = &args.from_dir {
        if !v1::is_v1_dir(dir)? {
            if args.coder_v1 {
                return Err(Error::Usage(format!(
                    "--coder-v1 is for a live v1 deployment (--url); {} is an export folder, recognised by its bodies",
                    dir.display()
                )));
            }
            return Ok(None);
        }
        refuse_v2_only_flags(args, "this export is of")?;
        return v1::import_dir(dir).map(Some);
    }
    match url {
        Some(url) if args.coder_v1 => import_live(url, args).map(Some),
        None if args.coder_v1 => Err(Error::Usage(
            "--coder-v1 reads a live v1 deployment: give its address with --url URL (or CODER_URL)".into(),
        )),
        _ => Ok(None),
    }
}

/// Read a live v1 deployment.
pub fn import_live(url: &str, args: &ImportArgs) -> Result<V1Snapshot> {
    refuse_v2_only_flags(args, if args.coder_v1 { "--coder-v1 reads" } else { "this URL is" })?;
    let client = v1_client(url, &args.api)?;
    let snap = v1::live::import_live(&client, args.page_size as usize)?;
    let requests = client.stats().requests.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("read {} (Coder v1) in {requests} requests", client.base_url());
    Ok(snap)
}

/// After a v2 live import failed: whether the deployment answers as Coder
/// v1 instead (one probe per v1 route prefix, to the same address, with
/// v1's token header). Any error of the probe counts as no.
pub fn answers_as_v1(url: &str, args: &ImportArgs) -> bool {
    let Ok(client) = v1_client(url, &args.api) else { return false };
    matches!(v1::live::probe(&client), Ok(Some(_)))
}

fn v1_client(url: &str, api: &crate::cli::ApiArgs) -> Result<crate::coder::Client> {
    super::api::connect_with_header(url, api, crate::coder::V1_TOKEN_HEADER)
}

fn refuse_v2_only_flags(args: &ImportArgs, what: &str) -> Result<()> {
    let v2_only = [
        ("--people", args.people.is_some()),
        ("--template-sources", args.template_sources.is_some()),
        ("--deployment-url", args.deployment_url.is_some()),
        ("--taken-at", args.taken_at.is_some()),
        ("--skip-acls", args.skip_acls),
    ];
    if let Some((flag, _)) = v2_only.iter().find(|(_, given)| *given) {
        return Err(Error::Usage(format!(
            "{flag} is for a v2 deployment; {what} a Coder v1 deployment (import it without {flag})"
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
