//! One module per subcommand: read the inputs, call the stages, write the
//! outputs. Only this layer (and `import`) touches the disk.

// The edge where orgsplit meets the person and the disk: commands read inputs, print and write.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod access;
mod api;
mod apply;
mod diff;
mod export;
mod import;
mod inventory;
mod notices;
mod plan;
mod report;
mod revert;
mod rules;
mod schema;
mod score;
mod scripts;
mod terminal;
mod v1;
mod v1_plan;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, JsonOrFile, OutputFormat};
use crate::error::{Error, Result, exit};
use crate::model::Snapshot;
use crate::render::Format;

/// Run a command; the result is the process exit code.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Import(args) => import::run(args),
        Command::Inventory(args) => inventory::run(args),
        Command::Score(args) => score::run(args),
        Command::Rules(command) => rules::run(command),
        Command::Plan(args) => plan::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Report(args) => report::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Revert(args) => revert::run(args),
        Command::Scripts(args) => scripts::run(args),
        Command::Notices(args) => notices::run(args),
        Command::Export(command) => export::run(command),
        Command::Access(args) => access::run(args),
        Command::V1Plan(args) => v1_plan::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Completions(args) => {
            print(&String::from_utf8_lossy(&crate::cli::completions(args.shell)))?;
            OK
        }
    }
}

/// The file of a command that writes one JSON document (`import`, `plan`):
/// `--out FILE`, or the deprecated `-o FILE`, said so on stderr.
pub fn out_file(out: Option<PathBuf>, output: Option<JsonOrFile>) -> Result<Option<PathBuf>> {
    match (out, output) {
        (Some(_), Some(JsonOrFile::File(_))) => {
            Err(Error::Usage("give the file once: `--out FILE` (`-o`/`--output` names the format, `json`)".into()))
        }
        (None, Some(JsonOrFile::File(path))) => {
            note(&format!(
                "`-o {0}` is deprecated: `-o`/`--output` names a format in every orgsplit command; write `--out {0}`",
                path.display()
            ));
            Ok(Some(path))
        }
        (out, _) => Ok(out),
    }
}

/// Read a snapshot file, or the built-in MegaCo example when none is given
/// (saying so on stderr, so a report never passes for a real deployment's).
pub fn load_snapshot(path: Option<&Path>) -> Result<Snapshot> {
    match path {
        Some(path) => Snapshot::from_json(&read_input(path)?, path),
        None => {
            note("no SNAPSHOT given: using the built-in MegaCo example");
            crate::fixture::builtin()
        }
    }
}

/// Read a plan file.
pub fn load_plan(path: &Path) -> Result<crate::plan::Plan> {
    crate::plan::Plan::from_json(&read_input(path)?, path)
}

/// A large input file's bytes (a snapshot, a plan), mapped into memory when
/// it is a regular file. Reading a 200 MB snapshot copies it into 200 MB of
/// fresh memory first (a tenth of a second), and parsing after that copy was
/// measured slower too (0.5-1.0 s against 0.35-0.4 s at 50,000 users).
pub fn read_input(path: &Path) -> Result<Input> {
    let file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    // SAFETY: `Mmap` is only ever read, and lives no longer than the command.
    // The danger of a mapping is a file changed while it is mapped: a file
    // rewritten in place reads as a mix of old and new bytes, as `read` could
    // give too (and a mix is not valid JSON, or fails the fingerprint); one
    // truncated meanwhile stops orgsplit with SIGBUS instead of an error.
    // orgsplit itself writes files with `write_atomic` (a rename), which
    // leaves a mapped file untouched.
    match unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
        Ok(map) => Ok(Input::Mapped(map)),
        // Not a regular file (a pipe, `<(...)`, a folder): read it, with
        // read's own error when that fails too.
        Err(_) => Ok(Input::Read(std::fs::read(path).map_err(|e| Error::read(path, e))?)),
    }
}

/// The bytes of an input file (see [`read_input`]).
pub enum Input {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(map) => map,
            Input::Read(bytes) => bytes,
        }
    }
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
/// Messages name things from the deployment: their control characters never
/// reach the terminal.
pub fn note(message: &str) {
    eprintln!("note: {}", crate::render::plain_text(message));
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

/// Keep `value` until the process exits instead of freeing it now. Commands
/// call this on the large values they are done with just before they return:
/// a 50,000-user deployment is millions of small strings, and freeing them
/// one by one only makes the command slower (about 0.1 s per state at that
/// size), since the process ends next and the system takes the memory back
/// whole. The one place orgsplit leaks on purpose.
pub fn keep_until_exit<T>(value: T) {
    std::mem::forget(value);
}
