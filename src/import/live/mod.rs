//! Live import: read a deployment's state through the API.
//!
//! Every answer is decoded into its wire type and handed to the offline
//! importer as a saved response (`{"endpoint": ..., "body": ...}`) as soon
//! as it arrives, so a live import and an offline import of the same state
//! go through one parser and one joiner and give the same snapshot, and no
//! answer is held longer than it takes to read it. Lists the API pages (users,
//! workspaces, organization members) are read page by page against their
//! `count`, and the requests run on a bounded number of threads.

mod pool;
mod tasks;

use std::collections::BTreeMap;
use std::sync::Mutex;

use tasks::{Done, Task};

use crate::coder::{ApiError, Client, ErrorKind};
use crate::error::Result;
use crate::import::Importer;
use crate::model::{Snapshot, Source, Warning};

#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Rows per page of the paged lists.
    pub page_size: usize,
    /// Do not read template ACLs (each lists every member of every group it
    /// grants: at 50,000 users, megabytes per template).
    pub skip_acls: bool,
    /// Overrides the snapshot's `source.taken_at`.
    pub taken_at: Option<String>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for LiveOptions {
    fn default() -> LiveOptions {
        LiveOptions { concurrency: 8, page_size: 500, skip_acls: false, taken_at: None, progress: false }
    }
}

/// Read the deployment `client` talks to into a snapshot.
pub fn import_live(client: &Client, options: &LiveOptions) -> Result<Snapshot> {
    let initial = vec![
        Task::BuildInfo,
        Task::Me,
        Task::Entitlements,
        Task::Experiments,
        Task::Organizations,
        Task::Users { offset: 0 },
        Task::Workspaces { offset: 0 },
        Task::Templates { deprecated: false },
        Task::Templates { deprecated: true },
        Task::Proxies,
        Task::OrgSync,
    ];
    // The address the admin read it from is the deployment's, whatever it says of itself.
    let source = Source {
        kind: "api".into(),
        location: client.base_url(),
        taken_at: options.taken_at.clone(),
        deployment_url: Some(client.base_url()),
    };
    let importer = Mutex::new(Importer::new(source.clone()));
    let run = |task: &Task| match task.run(client, options.page_size, options.skip_acls) {
        // Releases before paginated-members only have the whole list.
        Err(e) if e.is_not_found() && matches!(task, Task::Members { offset: 0, .. }) => {
            let Task::Members { org, .. } = task else { unreachable!() };
            Ok(Done { spawn: vec![Task::AllMembers { org: org.clone() }], ..Done::default() })
        }
        // Each answer goes to the importer as it arrives and is dropped.
        Ok(mut done) => match done.envelope.take() {
            None => Ok(done),
            Some(envelope) => {
                let e = task.endpoint(options.page_size);
                // Decoded on this thread; only adding it waits for the others.
                match Importer::decode(&e.path(), &envelope, &source) {
                    Ok(decoded) => {
                        importer.lock().unwrap_or_else(|p| p.into_inner()).add_decoded(decoded);
                        Ok(done)
                    }
                    Err(bad) => Err(client.api_error(&reqwest::Method::GET, &e, ErrorKind::Decode(bad.to_string()))),
                }
            }
        },
        Err(e) => Err(e),
    };
    // Optional endpoints may answer 404 or 403; whether that is an error
    // depends on the license, judged once the entitlements are in.
    let fatal = |task: &Task, e: &ApiError| !(task.optional().is_some() && matches!(e.status(), Some(403 | 404)));
    let bar = pool::progress_bar(options.progress);
    let outcomes = pool::run(initial, options.concurrency, &bar, &run, &fatal);
    bar.finish_and_clear();

    let entitlements = outcomes.done.get(&Task::Entitlements).and_then(|d| d.entitlements.as_ref());
    let entitled = |feature: &str| entitlements.map(|e| e.features.get(feature).is_some_and(|f| f.enabled));
    let mut warnings = Vec::new();
    for (task, e) in &outcomes.failed {
        let (what, feature) = match (task.optional(), e.status()) {
            (Some(optional), Some(404 | 403)) => optional,
            _ => return Err(e.clone().into()),
        };
        let unlicensed = feature.filter(|f| entitled(f) == Some(false));
        match (e.status(), unlicensed) {
            (Some(403), None) => return Err(e.clone().into()),
            (_, Some(feature)) => warnings.push(Warning::new(
                "endpoint-unavailable",
                format!("{what} not read: the license does not include `{feature}` (`{} {}`)", e.method, e.path),
            )),
            _ => warnings.push(Warning::new(
                "endpoint-unavailable",
                format!(
                    "{what} not read: `{} {}` answered 404 Not Found (an older Coder release, or something \
                     deleted while importing)",
                    e.method, e.path
                ),
            )),
        }
    }
    warnings.extend(check_pages(&outcomes.done));
    warnings.extend(outcomes.done.values().flat_map(|d| d.warnings.iter().cloned()));
    if let Some((username, _)) = outcomes
        .done
        .get(&Task::Me)
        .and_then(|d| d.me.as_ref())
        .filter(|(_, roles)| !roles.iter().any(|r| r == "owner"))
    {
        warnings.push(Warning::new(
            "not-owner",
            format!(
                "imported as `{username}`, who does not have the `owner` site role: the API lists only what that \
                 account may see, so the snapshot may be missing users, workspaces or templates"
            ),
        ));
    }

    drop(outcomes);
    let mut snapshot = importer.into_inner().unwrap_or_else(|p| p.into_inner()).finish();
    snapshot.warnings.extend(warnings);
    snapshot.canonicalize();
    Ok(snapshot)
}

/// Paged lists whose pages add up to less than their `count` changed while
/// they were read. (Users and workspaces are also checked by the importer.)
fn check_pages(done: &BTreeMap<Task, Done>) -> Vec<Warning> {
    let mut members: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    for (task, d) in done {
        if let (Task::Members { org, .. }, Some((rows, count))) = (task, d.page) {
            let e = members.entry(org).or_default();
            e.0 += rows;
            e.1 = e.1.max(count);
        }
    }
    members
        .into_iter()
        .filter(|(_, (rows, count))| (*rows as i64) < *count)
        .map(|(org, (rows, count))| {
            Warning::new(
                "incomplete-pages",
                format!(
                    "organization `{org}` reported {count} members but its pages held {rows}: members changed \
                     while importing; import again"
                ),
            )
        })
        .collect()
}
