//! Ctrl-C and SIGTERM during apply: the first stops the run between steps
//! (those in flight finish and are recorded, then the run ends with exit
//! 130, and a rerun resumes); a second exits at once (a rerun resumes from
//! the journal all the same).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result, exit};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The flag the handler sets, for `Options::interrupted`.
pub fn flag() -> &'static AtomicBool {
    &INTERRUPTED
}

/// Install the handler (once per process).
pub fn install() -> Result<()> {
    ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
    })
    .map_err(|e| Error::Bug(format!("cannot handle Ctrl-C: {e}")))
}
