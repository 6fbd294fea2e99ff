//! One module per subcommand: read the inputs, call the stages, write the
//! outputs. Only this layer (and `import`) touches the disk.

mod api;
mod apply;
mod bench;
mod diff;
mod fixture;
mod import;
mod inventory;
mod notices;
mod plan;
mod report;
mod rules;
mod schema;
mod score;
mod scripts;

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, OutputFormat};
use crate::error::{Error, Result, exit};
use crate::model::Snapshot;
use crate::render::Format;

/// Run a command; the result is the process exit code.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Import(args) => import::run(args),
        Command::Inventory(args) => inventory::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Fixture(command) => fixture::run(command),
        Command::Scripts(args) => scripts::run(args),
        Command::Notices(args) => notices::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Score(args) => score::run(args),
        Command::Rules(command) => rules::run(command),
        Command::Report(args) => report::run(args),
    }
}

/// Read a snapshot file, or the built-in MegaCo example when none is given
/// (saying so on stderr, so a report never passes for a real deployment's).
pub fn load_snapshot(path: Option<&Path>) -> Result<Snapshot> {
    match path {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
            Snapshot::from_json(&bytes, path)
        }
        None => {
            note("no SNAPSHOT given: using the built-in MegaCo example");
            crate::fixture::builtin()
        }
    }
}

/// Read a plan file.
pub fn load_plan(path: &Path) -> Result<crate::plan::Plan> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    crate::plan::Plan::from_json(&bytes, path)
}

/// Write data to stdout. A closed pipe (`orgsplit ... | head`) is not an error.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Io { action: "write", path: "standard output".into(), source: e }),
        Ok(()) => Ok(()),
    }
}

/// A message for the person running the command (stderr, never stdout).
pub fn note(message: &str) {
    eprintln!("note: {message}");
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Format {
        match f {
            OutputFormat::Table => Format::Table,
            OutputFormat::Json => Format::Json,
            OutputFormat::Markdown => Format::Markdown,
        }
    }
}

pub const OK: Result<u8> = Ok(exit::OK);
