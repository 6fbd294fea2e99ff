//! The command line of `cargo xtask`: the developer commands that are not
//! part of orgsplit.

//!
//! Flags mean what they mean in orgsplit: `--out-dir DIR` is the folder to
//! write. `-o`/`--output DIR`, the spelling before orgsplit settled on `-o
//! FORMAT`, are kept as hidden aliases: only developers type these.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Developer tasks of the orgsplit workspace (not shipped).
#[derive(Debug, Parser)]
#[command(name = "xtask")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Task,
}

#[derive(Debug, Subcommand)]
pub enum Task {
    /// Write a fixture folder: MegaCo (`fixtures/megaco` is its output) or a generated deployment.
    #[command(subcommand)]
    Fixture(FixtureCommand),
    /// Time each stage of orgsplit on a generated deployment (release builds give real figures).
    Bench(BenchArgs),
    /// Score generated scenarios with planted truth and print the confusion table and figures.
    Eval(EvalArgs),
    /// Write orgsplit's man pages (`orgsplit.1` and one per subcommand) into a folder, as one unit.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Folder to write the pages into (replaced whole when orgsplit wrote it before).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Number of seeds (scenarios) to score.
    #[arg(long, default_value_t = 50)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    pub from: u64,
    /// Also list the first misses (verdicts, traps and signals).
    #[arg(long)]
    pub misses: bool,
}

#[derive(Debug, Subcommand)]
pub enum FixtureCommand {
    /// Write a deterministic export folder of a large deployment.
    Generate(GenerateArgs),
    /// Write the built-in MegaCo export folder (the committed fixture is its output).
    Megaco(MegacoArgs),
    /// Write one evaluation scenario (`cargo xtask eval`) with its planted truth.
    Scenario(ScenarioArgs),
    /// Write the built-in MegaCo v1 example (`fixtures/megaco-v1` is its output).
    MegacoV1(MegacoArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of users (about 3 workspaces each, N/20 templates, N/50 groups).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Seed: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder to write (export/, people.csv, template-sources/).
    #[arg(long, value_name = "DIR", short_alias = 'o', alias = "output")]
    pub out_dir: PathBuf,
    /// Give workspace bodies every field a real server sends (resources, agents, apps):
    /// about twice the bytes, the same deployment.
    #[arg(long)]
    pub full_bodies: bool,
}

#[derive(Debug, Args)]
pub struct MegacoArgs {
    /// Folder to write.
    #[arg(long, value_name = "DIR", short_alias = 'o', alias = "output")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Users in the generated deployment.
    #[arg(long, default_value_t = 50_000)]
    pub users: usize,
    /// Only generate the deployment, import it, and measure apply of its split against the
    /// fake Coder (with --latency-ms per answer); the apply stage also ends every full run.
    #[arg(long)]
    pub apply_only: bool,
    /// Only generate the deployment twice (API bodies as the generator writes them, and with
    /// every field a real server sends) and import each, beside jq counting its workspaces
    /// per template.
    #[arg(long, conflicts_with = "apply_only")]
    pub import_only: bool,
    /// The jq the import stages compare with.
    #[arg(long, value_name = "PATH", default_value = "/usr/bin/jq")]
    pub jq: PathBuf,
    /// Keep the generated files here instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// The fake Coder program for the live-import stages (default: `fake_coder` next to
    /// this executable, as `cargo build --release -p fake-coder` leaves it).
    #[arg(long, value_name = "PATH")]
    pub fake_coder: Option<PathBuf>,
    /// Latency the fake Coder adds to every answer in the second live-import stage.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub latency_ms: u64,
    /// Requests in flight in the live-import stages.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: u16,
    /// Runs of each offline stage (import to diff --access); the median is reported, with
    /// the fastest and slowest run.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
}

#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// The scenario's seed (as `cargo xtask eval` numbers them).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder to write (export/, people.csv, template-sources/, truth.txt).
    #[arg(long, value_name = "DIR", short_alias = 'o', alias = "output")]
    pub out_dir: PathBuf,
}
