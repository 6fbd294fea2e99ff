//! `cargo xtask`: the developer tasks of the orgsplit workspace, kept out of
//! the product: regenerating `fixtures/`, the benchmark, the evaluation and the man pages.
//!
//! ```text
//! cargo xtask fixture megaco --out-dir fixtures/megaco
//! cargo xtask fixture generate --users 50000 --out-dir /tmp/big
//! cargo xtask man --out-dir target/man
//! cargo xtask eval --seeds 50
//! cargo build --release --workspace && target/release/xtask bench
//! ```

mod bench;
mod cli;
mod fixture;
mod man;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Task};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Fixture(command) => fixture::run(command),
        Task::Bench(args) => bench::run(args),
        Task::Man(args) => man::run(args),
        Task::Eval(args) => fixtures::eval::evaluate(args.from..args.from + args.seeds).map(|s| {
            print!("{}", s.render(args.misses));
            0
        }),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
