//! The person at the terminal during `apply` and `revert`: the question
//! before anything changes, progress on stderr, and provisioner key secrets
//! on the controlling terminal only (`/dev/tty`), never stdout, stderr or a
//! file.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::apply::{Console, NewKey};
use crate::error::{Error, Result};
use crate::render::plain;

/// Ask on the terminal; only `yes` goes on.
pub(super) fn confirmed(question: &str, url: &str) -> Result<bool> {
    eprint!("\n{question} {url}? Only `yes` goes on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| Error::read("standard input", e))?;
    Ok(answer.trim() == "yes")
}

/// The person at the terminal: progress on stderr, secrets on `/dev/tty`.
pub(super) struct Terminal {
    pub(super) bar: ProgressBar,
    tty: Option<File>,
}

impl Terminal {
    pub(super) fn new(progress: bool, steps: usize) -> Terminal {
        let bar = if progress {
            ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} steps {wide_msg}") {
            bar.set_style(style);
        }
        // The controlling terminal, whatever stdout and stderr are redirected to.
        let tty = OpenOptions::new().write(true).open("/dev/tty").ok();
        Terminal { bar, tty }
    }
}

impl Console for Terminal {
    fn can_show_secret(&self) -> bool {
        self.tty.is_some()
    }

    fn show_secret(&mut self, key: &NewKey<'_>) -> std::io::Result<()> {
        let Some(tty) = self.tty.as_mut() else {
            return Err(std::io::Error::other("no terminal"));
        };
        let tags: Vec<String> = key.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let text = format!(
            "\nProvisioner key `{}` of organization `{}` (tags {}) is created. Its secret, shown this once and kept \
             nowhere: copy it now for the team that runs `{}`'s provisioners.\n\n    {}\n\nThey start a provisioner \
             with it (KEY set to the secret):\n\n    {}\n\n",
            plain(key.name),
            plain(key.org),
            if tags.is_empty() { "none".to_string() } else { plain(&tags.join(" ")) },
            plain(key.org),
            key.secret.expose(),
            plain(key.start_command)
        );
        let mut result = Ok(());
        self.bar.suspend(|| result = tty.write_all(text.as_bytes()).and_then(|_| tty.flush()));
        result
    }

    fn note(&mut self, message: &str) {
        self.bar.suspend(|| super::note(message));
    }

    fn progress(&mut self, done: usize, _total: usize, key: &str) {
        self.bar.set_position(done as u64);
        self.bar.set_message(plain(key));
    }
}
