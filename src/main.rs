use std::process::ExitCode;

use orgsplit::cli::Cli;
use orgsplit::error::exit;

/// A large deployment is millions of small strings and vectors; mimalloc
/// allocates them faster than the system allocator (see the commit that added
/// it). Built without transparent huge pages (`no_thp`): with them, faulting in
/// fresh 2 MiB pages made run times swing by up to a second.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse_env() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match orgsplit::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Errors name things from the deployment and input files: no
            // control character of theirs reaches the terminal.
            eprintln!("error: {}", orgsplit::render::plain_text(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}
