//! `orgsplit import`: an export folder, or a live deployment through the API
//! (and people, template sources) -> snapshot file.

use std::io::IsTerminal;
use std::path::Path;

use super::api::{connect, deployment_url, given_deployment_url};
use crate::cli::ImportArgs;
use crate::coder::URL_ENV;
use crate::error::{Error, Result};
use crate::import::live::{self, LiveOptions};
use crate::import::{self, ImportOptions};
use crate::model::Snapshot;
use crate::output;

pub fn run(mut args: ImportArgs) -> Result<u8> {
    let Some(out) = super::out_file(args.out.take(), args.output.take())? else {
        return Err(Error::Usage("say where to write the snapshot: --out FILE (e.g. --out snapshot.json)".into()));
    };
    let url = deployment_url(args.url.as_deref());
    // A `CODER_URL` set in the shell does not stand in the way of an export folder; `--url` does.
    if args.from_dir.is_some() && url.is_some() && !args.url_from_env {
        return Err(Error::Usage(
            "--from-dir reads an export folder and --url a live deployment: give one of them".into(),
        ));
    }
    if let Some(v1) = super::v1::import_v1(&args, url.as_deref())? {
        output::write_atomic(&out, &v1.to_json()?)?;
        super::v1::summary(&out, &v1);
        return super::OK;
    }
    let options = ImportOptions {
        people: args.people.clone(),
        template_sources: args.template_sources.clone(),
        taken_at: args.taken_at.clone(),
        deployment_url: given_deployment_url(args.deployment_url.as_deref())?,
    };
    let mut snapshot = match (&args.from_dir, url) {
        (Some(dir), _) => {
            if args.api.ca_cert.is_some() {
                return Err(Error::Usage("--ca-cert is for reading a live deployment (--url), not --from-dir".into()));
            }
            import::import_dir(dir, &options)?
        }
        (None, Some(_)) if args.deployment_url.is_some() => {
            return Err(Error::Usage(
                "--deployment-url is for an export folder (--from-dir): a live import records the URL it reads".into(),
            ));
        }
        (None, Some(url)) => match import_live(&url, &args, &options) {
            Ok(snapshot) => snapshot,
            // No v2 API there: a v1 deployment is read as one.
            Err(_) if super::v1::answers_as_v1(&url, &args) => {
                super::note(&format!(
                    "{url} has no Coder v2 API but answers as a Coder v1 deployment: reading it as v1 (say \
                     --coder-v1 to go straight to it)"
                ));
                let v1 = super::v1::import_live(&url, &args)?;
                output::write_atomic(&out, &v1.to_json()?)?;
                super::v1::summary(&out, &v1);
                return super::OK;
            }
            Err(e) => return Err(e),
        },
        (None, None) => {
            return Err(Error::Usage(format!(
                "say what to import: --from-dir DIR (an export folder) or --url URL (a live deployment; or set \
                 {URL_ENV})"
            )));
        }
    };
    // Canonical order, then the document streamed into the file: neither a
    // copy of the snapshot nor the whole document is held in memory.
    snapshot.canonicalize();
    crate::output::write_atomic_json(&out, &snapshot)?;
    summary(&out, &snapshot);
    super::OK
}

fn import_live(url: &str, args: &ImportArgs, options: &ImportOptions) -> Result<Snapshot> {
    let client = connect(url, &args.api)?;
    let live = LiveOptions {
        concurrency: usize::from(args.concurrency),
        page_size: args.page_size as usize,
        skip_acls: args.skip_acls,
        taken_at: args.taken_at.clone(),
        progress: std::io::stderr().is_terminal(),
    };
    let mut snapshot = live::import_live(&client, &live)?;
    import::attach_inputs(&mut snapshot, options)?;
    let stats = client.stats();
    let (requests, retries) = (
        stats.requests.load(std::sync::atomic::Ordering::Relaxed),
        stats.retries.load(std::sync::atomic::Ordering::Relaxed),
    );
    eprintln!("read {} in {requests} requests ({retries} retried)", client.base_url());
    if args.skip_acls {
        super::note("template ACLs were not read (--skip-acls): templates have `acl: null`");
    }
    Ok(snapshot)
}

fn summary(path: &Path, snapshot: &Snapshot) {
    eprintln!(
        "wrote {}: {} organizations, {} users, {} groups, {} templates, {} workspaces, {} warnings",
        path.display(),
        snapshot.organizations.len(),
        snapshot.users.len(),
        snapshot.groups.iter().filter(|g| !g.is_everyone()).count(),
        snapshot.templates.len(),
        snapshot.workspaces.len(),
        snapshot.warnings.len()
    );
    match snapshot.multiple_organizations_entitled() {
        Some(true) => {}
        Some(false) => eprintln!(
            "warning: this deployment cannot have more than one organization: its license does not include \
             `multiple_organizations` (a Premium feature); `orgsplit apply` will refuse to create organizations"
        ),
        None => eprintln!(
            "warning: the import holds no license entitlements, so whether this deployment may have several \
             organizations is unknown (multi-org needs the `multiple_organizations` entitlement)"
        ),
    }
    if snapshot.deployment_url().is_none() {
        eprintln!(
            "warning: the export does not say the deployment's address (build info's `dashboard_url`): pass \
             --deployment-url URL to import or to plan, so scripts and notices can name it"
        );
    }
    if !snapshot.warnings.is_empty() {
        eprintln!("see the warnings with `orgsplit inventory {}`", path.display());
    }
}
