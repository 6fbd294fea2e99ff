//! Apply: carry out a reviewed plan through the Coder API.
//!
//! [`prepare`] reads the deployment (a live import), makes sure the plan
//! fits it, and checks what can be checked before the first change
//! (`preflight.rs`); the command then shows the diff and asks. [`execute`]
//! runs the steps in plan order (`executor.rs`), each idempotent: it looks
//! before it acts (`steps.rs`, `template.rs`, on the client's `ensure_*`
//! helpers), so a step run twice, or after a crash halfway, ends in the same
//! state. Every outcome goes to the journal next to the plan (`journal.rs`),
//! which lets a rerun resume: the fingerprint of a half-applied deployment no
//! longer matches the plan's, so a rerun instead checks that the deployment
//! is the plan's state with some of the plan done (`verify.rs`). At the end
//! the deployment is read again and compared with the plan's expected
//! after-state, by names. The ledger (`ledger.rs`) says what became of each
//! step. Nothing is ever deleted.
//!
//! Provisioners: a template re-created in a new org builds only once a
//! provisioner daemon serving that org (with the version's tags) runs, and
//! a new org has none until its key exists and someone starts a daemon
//! with the key's secret. So apply creates the org and its key, shows the
//! secret once on the terminal (never a file or a log; without a terminal it
//! does not create keys and says how to), and defers the org's templates
//! until a matching daemon is seen: with `wait_for_provisioners` it waits,
//! else the run ends with those steps waiting and a rerun picks them up.

// The I/O edge that changes a deployment: it keeps its journal and the state it read on disk.
#![allow(clippy::disallowed_methods)]

pub mod budget;
mod context;
mod executor;
pub mod interrupt;
pub mod journal;
pub mod ledger;
mod pace;
mod preflight;
pub mod revert;
mod steps;
mod summary;
mod template;
mod variables;
mod verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub use executor::execute;
pub use ledger::{Item, Ledger, Status};
pub use variables::read_variables;
pub use verify::{Verification, prepare};

use crate::coder::Secret;
use crate::coder::types as wire;
use crate::error::exit;
use crate::model::Snapshot;
use crate::plan::Plan;

/// Where the person running apply sees what only they may see, and progress.
pub trait Console {
    /// Whether a secret can be shown to the person running apply and only
    /// there (a terminal, never a file or a log).
    fn can_show_secret(&self) -> bool;
    /// Show a new provisioner key's secret, once.
    fn show_secret(&mut self, key: &NewKey<'_>) -> std::io::Result<()>;
    /// A message for the person running apply (stderr).
    fn note(&mut self, message: &str);
    /// `done` of `total` steps are behind us; `key` is the current one.
    fn progress(&mut self, _done: usize, _total: usize, _key: &str) {}
}

/// A provisioner key just created, with the secret Coder shows only now.
pub struct NewKey<'a> {
    pub org: &'a str,
    pub name: &'a str,
    pub tags: &'a BTreeMap<String, String>,
    pub secret: &'a Secret,
    /// How to start a provisioner with it (`$KEY` stands for the secret).
    pub start_command: &'a str,
}

/// A point in a run where a test may stop it as if the process died there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The step's position in the plan (0-based) and key.
    pub index: usize,
    pub key: String,
    pub point: Point,
    /// Steps in flight (started, outcome not yet recorded) at that moment.
    pub in_flight: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// The step's outcome is in the journal.
    StepRecorded,
    /// A template version was created and recorded, its build not yet waited for.
    VersionCreated,
}

/// A hook that stops the run at a checkpoint (tests only: it simulates a kill).
pub type StopAt = Arc<dyn Fn(&Checkpoint) -> bool + Send + Sync>;

/// How apply runs.
#[derive(Clone)]
pub struct Options {
    /// How long to wait for a template version's build.
    pub build_timeout: Duration,
    /// Time between two looks at a build or at an org's provisioners.
    pub poll_every: Duration,
    /// Wait this long for provisioners of new orgs to appear, instead of
    /// ending the run with their templates waiting.
    pub wait_for_provisioners: Option<Duration>,
    /// Values for sensitive template variables (which the API redacts), by
    /// new template (`org/template`), then variable name.
    pub variables: BTreeMap<String, BTreeMap<String, Secret>>,
    /// Steps carried out at once, at most (each step runs once what it
    /// depends on is done). Rate limits and bursts of gateway errors lower
    /// the number in flight for a while (see `pace.rs`).
    pub concurrency: usize,
    /// Tries of a step whose requests failed in a way worth another try
    /// (a lost answer, 429, 502, 503, 504): each try looks first.
    pub attempts: u32,
    /// Draw progress bars for the imports (on a terminal).
    pub progress: bool,
    /// Set by Ctrl-C: the run starts no more steps, records those in flight, and stops.
    pub interrupted: Option<&'static AtomicBool>,
    /// Tests only: stop as if killed at a checkpoint.
    pub stop_at: Option<StopAt>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            build_timeout: Duration::from_secs(600),
            poll_every: Duration::from_secs(2),
            wait_for_provisioners: None,
            variables: BTreeMap::new(),
            concurrency: 8,
            attempts: 6,
            progress: false,
            interrupted: None,
            stop_at: None,
        }
    }
}

/// What [`prepare`] found: everything [`execute`] needs, and the diff to show.
pub struct Prepared {
    pub plan: Plan,
    pub plan_path: PathBuf,
    pub plan_sha256: String,
    pub journal_path: PathBuf,
    pub expected_path: PathBuf,
    /// The token's user.
    pub me: wire::User,
    /// The deployment now, without the memberships the server gave the
    /// caller in orgs the plan creates (see `verify.rs`).
    pub before: Snapshot,
    /// The deployment once the plan is applied (new objects with placeholder ids).
    pub expected: Snapshot,
    pub expected_text: String,
    /// The journal of earlier runs of this plan, if any.
    pub earlier: Option<journal::Read>,
    /// What is left to do: a unified diff of the deployment now and the expected state.
    pub diff: String,
    /// What preflight noticed that does not stop the run.
    pub notes: Vec<String>,
}

impl Prepared {
    pub fn resuming(&self) -> bool {
        self.earlier.is_some()
    }
}

/// How a run ended.
pub struct RunOutcome {
    pub ledger: Ledger,
    /// `None` when the run was interrupted before verifying, or could not verify.
    pub verification: Option<Verification>,
    /// Why the deployment could not be read again to verify it.
    pub unverified: Option<String>,
    pub interrupted: bool,
    pub journal: PathBuf,
    /// Requests the steps made (retries included), and the least the plan needs (`budget.rs`).
    pub requests: budget::Requests,
}

impl RunOutcome {
    /// 0 when every step is done (or waits only for users' logins) and the
    /// deployment matches the plan; 130 when interrupted; 3 otherwise.
    pub fn render(&self, plan: &Path) -> String {
        summary::render(self, plan)
    }

    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            return exit::INTERRUPTED;
        }
        let clean = self.verification.as_ref().is_some_and(|v| v.diff.is_empty());
        if self.ledger.complete() && clean { exit::OK } else { exit::PARTIAL }
    }
}

/// The journal and expected-state files of a plan.
pub fn journal_paths(plan: &Path) -> (PathBuf, PathBuf) {
    journal::paths(plan)
}
