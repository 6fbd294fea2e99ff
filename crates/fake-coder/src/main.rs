//! The fake Coder of the tests (this crate's library), as a program, for
//! `cargo xtask bench` to measure live import against. Not part of orgsplit:
//! this crate is neither installed nor shipped.
//!
//! ```text
//! fake_coder --snapshot FILE [--latency-ms N] [--page-size N] [--start-provisioners]
//! ```
//!
//! With `--start-provisioners`, a daemon starts with each provisioner key as
//! soon as it is created (what the admin does with the secret apply shows).
//!
//! Serves the snapshot's deployment on 127.0.0.1 and prints `url=...` and
//! `token=...` (a token of this fake only); when its standard input closes
//! it prints `requests=N` (requests received) and `minimum=N` (the fewest
//! requests a live import with that page size can make) and exits.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::Duration;

use fake_coder::{FakeCoder, Faults};
use orgsplit::model::Snapshot;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let Some(path) = value("--snapshot") else {
        eprintln!("usage: fake_coder --snapshot FILE [--latency-ms N] [--page-size N] [--start-provisioners]");
        std::process::exit(64);
    };
    let latency: u64 = value("--latency-ms").and_then(|v| v.parse().ok()).unwrap_or(0);
    let page: usize = value("--page-size").and_then(|v| v.parse().ok()).unwrap_or(500);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let snapshot = Snapshot::from_json(&bytes, path.as_ref()).unwrap_or_else(|e| panic!("{e}"));
    drop(bytes);
    let minimum = minimum_requests(&snapshot, page);
    let fake =
        FakeCoder::with_faults(snapshot, Faults { latency: Duration::from_millis(latency), ..Faults::default() });
    fake.state_mut(|st| st.start_daemons = args.iter().any(|a| a == "--start-provisioners"));
    let mut out = std::io::stdout().lock();
    writeln!(out, "url={}\ntoken={}", fake.url(), fake.token()).unwrap();
    out.flush().unwrap();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    writeln!(out, "requests={}\nminimum={minimum}", fake.requests()).unwrap();
}

/// The fewest requests that read everything a snapshot holds, with pages of
/// `page` rows: one per page of users, workspaces and each org's members
/// (an empty list still takes one), one per org for each of its other lists
/// (groups, roles, provisioner keys, provisioner daemons, group sync, role
/// sync), one per template for its active version and one for its ACL, and
/// eight for the rest (build info, the token's user, entitlements,
/// organizations, templates twice (deprecated and not), workspace proxies,
/// organization sync).
fn minimum_requests(s: &Snapshot, page: usize) -> usize {
    let pages = |n: usize| n.div_ceil(page).max(1);
    let members = |org: &str| s.organization_members.iter().filter(|m| m.organization_id == org).count();
    let orgs: usize = s.organizations.iter().map(|o| pages(members(&o.id)) + 6).sum();
    let versions: BTreeSet<&str> =
        s.templates.iter().map(|t| t.active_version_id.as_str()).filter(|v| !v.is_empty()).collect();
    8 + pages(s.users.len()) + pages(s.workspaces.len()) + orgs + versions.len() + s.templates.len()
}
