//! One error type for the whole tool, and the exit code each error maps to.
//!
//! Messages read like sentences: they name the file (and line and column where
//! there is one), say what was expected, and where possible what to do. Only
//! `main` prints them.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Exit codes, documented in the README. Keep the two in step.
pub mod exit {
    /// Success (for `diff`: success and no changes).
    pub const OK: u8 = 0;
    /// Any error: bad input, I/O, network, a refused plan.
    pub const ERROR: u8 = 1;
    /// `diff`: success, and the plan has changes (terraform's `-detailed-exitcode`).
    pub const CHANGES: u8 = 2;
    /// `apply`: the run finished but some items failed, or verification found drift.
    pub const PARTIAL: u8 = 3;
    /// The command line itself was wrong.
    pub const USAGE: u8 = 64;
    /// Interrupted (Ctrl-C); `apply` can be rerun to resume.
    pub const INTERRUPTED: u8 = 130;
}

/// A problem located in an input file: the unit of "report everything at once".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(path: impl AsRef<Path>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { path: display_path(path.as_ref()), line: None, column: None, message: message.into(), help: None }
    }

    pub fn at(mut self, line: usize, column: usize) -> Diagnostic {
        if line > 0 {
            self.line = Some(line);
            self.column = (column > 0).then_some(column);
        }
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// A diagnostic for a serde_json error, which carries its own line and column.
    pub fn json(path: impl AsRef<Path>, err: &serde_json::Error) -> Diagnostic {
        let message = strip_position(&err.to_string());
        let help = match err.classify() {
            serde_json::error::Category::Eof => "the file ends early: was the export cut short? export it again",
            serde_json::error::Category::Syntax => "this is not valid JSON: export the file again or fix it by hand",
            serde_json::error::Category::Data => "the JSON is valid but a value has the wrong type for this field",
            serde_json::error::Category::Io => "the file could not be read to the end",
        };
        Diagnostic::new(path, message).at(err.line(), err.column()).help(help)
    }
}

/// serde_json appends " at line L column C" to its messages; we print the
/// position in front, as `file:line:column`, so drop the tail.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

pub fn display_path(path: &Path) -> String {
    path.display().to_string()
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One problem in one input file.
    #[error("{0}")]
    Input(Diagnostic),

    /// Several problems found while validating (rule files, split files, ...).
    #[error("{}", format_many(.what, .diagnostics))]
    Inputs { what: String, diagnostics: Vec<Diagnostic> },

    #[error("cannot {action} `{}`: {source}", .path.display())]
    Io { action: &'static str, path: PathBuf, source: io::Error },

    /// The command line was wrong in a way clap cannot see.
    #[error("{0}")]
    Usage(String),

    /// The tool refuses to go on (a stale plan, a deployment without
    /// organizations, ...). The message says why and what to do.
    #[error("{0}")]
    Refused(String),

    /// Talking to the Coder API failed; the message includes the server's own words.
    #[error("{0}")]
    Api(String),

    /// Work finished with some items failed; the ledger has been printed.
    #[error("{0}")]
    Partial(String),

    /// Ctrl-C or SIGTERM.
    #[error("interrupted: {0}")]
    Interrupted(String),

    /// An internal invariant broke. Never the user's fault.
    #[error("internal error (a bug in orgsplit, please report it): {0}")]
    Bug(String),
}

fn format_many(what: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = format!("{} problem{} in {what}:", diagnostics.len(), if diagnostics.len() == 1 { "" } else { "s" });
    for d in diagnostics {
        out.push_str("\n  ");
        out.push_str(&d.to_string());
    }
    out
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Partial(_) => exit::PARTIAL,
            Error::Interrupted(_) => exit::INTERRUPTED,
            _ => exit::ERROR,
        }
    }

    pub fn read(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io { action: "read", path: path.into(), source }
    }

    pub fn write(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io { action: "write", path: path.into(), source }
    }

    pub fn input(path: impl AsRef<Path>, message: impl Into<String>) -> Error {
        Error::Input(Diagnostic::new(path, message))
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Error {
        Error::Input(d)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_reads_file_line_column_message_help() {
        let d = Diagnostic::new("people.csv", "expected 4 fields, found 3").at(7, 1).help("quote values with commas");
        assert_eq!(d.to_string(), "people.csv:7:1: expected 4 fields, found 3 (quote values with commas)");
    }

    #[test]
    fn json_diagnostic_moves_position_to_the_front() {
        let err = serde_json::from_str::<serde_json::Value>("{\n  \"a\": 1,\n").unwrap_err();
        let d = Diagnostic::json("users.json", &err);
        assert_eq!(d.line, Some(3));
        assert!(d.to_string().starts_with("users.json:3:"), "{d}");
        assert!(!d.message.contains(" at line "), "{d}");
        assert!(d.to_string().contains("export it again"), "{d}");
    }

    #[test]
    fn many_diagnostics_are_listed_one_per_line() {
        let e = Error::Inputs {
            what: "rule files".into(),
            diagnostics: vec![Diagnostic::new("a.toml", "x").at(1, 2), Diagnostic::new("b.toml", "y")],
        };
        assert_eq!(e.to_string(), "2 problems in rule files:\n  a.toml:1:2: x\n  b.toml: y");
    }
}
