//! The command line, as clap types. Nothing else in the crate imports clap:
//! commands receive these values and settle them into checked inputs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Plan and carry out the split of a Coder deployment into organizations,
/// without losing anyone's work.
#[derive(Debug, Parser)]
#[command(name = "orgsplit", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a deployment's state into a snapshot file.
    Import(ImportArgs),
    /// Per organization: members, groups, templates, workspaces, provisioners.
    Inventory(InventoryArgs),
    /// Print the JSON Schema of a document orgsplit writes.
    Schema(SchemaArgs),
    /// Deployments as data: the built-in example and generated large ones.
    #[command(subcommand)]
    Fixture(FixtureCommand),
    /// Write one migration script per affected user (bash + rsync), an index and a README.
    Scripts(ScriptsArgs),
    /// Write deprecation notices per template and per user, and a mailing list.
    Notices(NoticesArgs),
    /// Measure the main stages on a generated deployment (see README).
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Folder of exported JSON files (API response bodies or `coder ... -o json` output).
    #[arg(long, value_name = "DIR")]
    pub from_dir: PathBuf,
    /// Where to write the snapshot.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// People attributes (CSV with a `username` or `email` column).
    #[arg(long, value_name = "FILE.csv")]
    pub people: Option<PathBuf>,
    /// Folder with one subfolder of Terraform source per template.
    #[arg(long, value_name = "DIR")]
    pub template_sources: Option<PathBuf>,
    /// Record this time (RFC 3339) as when the state was taken.
    #[arg(long, value_name = "TIME")]
    pub taken_at: Option<String>,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Snapshot file; without it, the built-in MegaCo example.
    pub snapshot: Option<PathBuf>,
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[arg(value_enum)]
    pub document: SchemaDocument,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaDocument {
    Snapshot,
    Plan,
    Split,
}

#[derive(Debug, Subcommand)]
pub enum FixtureCommand {
    /// Write a deterministic export folder of a large deployment.
    Generate(GenerateArgs),
    /// Write the built-in MegaCo export folder (the committed fixture is its output).
    Megaco(MegacoArgs),
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
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct MegacoArgs {
    /// Folder to write.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Users in the generated deployment.
    #[arg(long, default_value_t = 50_000)]
    pub users: usize,
    /// Keep the generated files here instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScriptsArgs {
    /// The plan (from `orgsplit plan`).
    pub plan: PathBuf,
    /// Folder to write `<username>.sh`, `index.csv` and `README.md` into.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Deployment URL the scripts check the coder CLI against (default: the plan's).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Host-name prefix `coder config-ssh` writes (the deployment's `hostname_prefix`).
    #[arg(long, value_name = "PREFIX", default_value = "coder.")]
    pub ssh_prefix: String,
}

#[derive(Debug, Args)]
pub struct NoticesArgs {
    /// The plan (from `orgsplit plan`).
    pub plan: PathBuf,
    /// Folder to write `templates/`, `users/` and `mailing-list.csv` into.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}
