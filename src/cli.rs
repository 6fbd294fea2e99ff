//! The command line, as clap types. Nothing else in the crate imports clap:
//! commands receive these values and settle them into checked inputs.
//!
//! One meaning per flag in every command, as terraform and the coder CLI have
//! it: `-o`/`--output` names a format, `--out FILE` the file to write and
//! `--out-dir DIR` the folder. `import` and `plan` once took their file as
//! `-o FILE`; that spelling still works, with a note (see [`JsonOrFile`]).

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::coder::URL_ENV;
use crate::rules::By;

/// Plan and carry out the split of a Coder deployment into organizations,
/// without losing anyone's work.
#[derive(Debug, Parser)]
#[command(name = "orgsplit", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parse the process's arguments (and `CODER_URL`), as `try_parse` does,
    /// noting which values came from the environment.
    pub fn try_parse_env() -> Result<Cli, clap::Error> {
        let matches = Cli::command().try_get_matches()?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut Cli::command()))?;
        if let (Command::Import(args), Some(("import", m))) = (&mut cli.command, matches.subcommand()) {
            args.url_from_env = m.value_source("url") == Some(ValueSource::EnvVariable);
        }
        Ok(cli)
    }
}

/// The subcommands, in the order of the work: read, look, score, plan, review, carry out.
/// clap lists them in `--help` in this order.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a deployment's state into a snapshot file.
    Import(ImportArgs),
    /// Per organization: members, groups, templates, workspaces, provisioners.
    Inventory(InventoryArgs),
    /// Score candidate teams against the best-practice cases, with reasons.
    Score(ScoreArgs),
    /// The rule catalogue: list the rules, or explain one.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Plan a split: the steps, migrations and risks, as a JSON plan to review.
    Plan(PlanArgs),
    /// Show what a plan changes: the deployment before and after, or who gains and loses access.
    Diff(DiffArgs),
    /// The dry-run report to circulate before anything changes: verdicts, orgs, conflicts,
    /// deprecations, migrations, risks and a picture of the split.
    Report(ReportArgs),
    /// Carry out a plan through the Coder API: resumable, journaled, verified at the end.
    Apply(ApplyArgs),
    /// Undo what apply did to the deployment, as far as that loses nothing: lift deprecations,
    /// take back grants, roles and memberships; list what it made, to remove by hand.
    Revert(RevertArgs),
    /// Write one migration script per affected user (bash + rsync), an index and a README.
    Scripts(ScriptsArgs),
    /// Write deprecation notices per template and per user, and a mailing list.
    Notices(NoticesArgs),
    /// Write the planned organizations in another form (Terraform for the coderd provider).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Coder v1: who can do what in which v1 organization, and the v2 role each gets.
    Access(AccessArgs),
    /// Coder v1 -> v2: organizations, members and roles, templates generated from images,
    /// and per-user migration scripts and notices.
    #[command(name = "v1-plan")]
    V1Plan(V1PlanArgs),
    /// Print the JSON Schema of a document orgsplit writes.
    Schema(SchemaArgs),
    /// Print a shell completion script (e.g. `orgsplit completions bash > /etc/bash_completion.d/orgsplit`).
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The completion script of `orgsplit` for `shell`, generated from these definitions.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "orgsplit", &mut out);
    out
}

/// `-o`/`--output` of `import` and `plan`, which write one JSON document:
/// the format (only `json`), or, as these two commands took it before every
/// command settled on `-o FORMAT`, the file to write. A value that is not a
/// format name is that file; the command says the spelling is deprecated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonOrFile {
    Json,
    File(PathBuf),
}

#[derive(Debug, Clone, Copy)]
struct JsonOrFileParser;

impl TypedValueParser for JsonOrFileParser {
    type Value = JsonOrFile;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<JsonOrFile, clap::Error> {
        if value == "json" {
            return Ok(JsonOrFile::Json);
        }
        if value.is_empty() {
            let mut e = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            if let Some(arg) = arg {
                e.insert(clap::error::ContextKind::InvalidArg, clap::error::ContextValue::String(arg.to_string()));
            }
            e.insert(clap::error::ContextKind::InvalidValue, clap::error::ContextValue::String(String::new()));
            e.insert(clap::error::ContextKind::ValidValue, clap::error::ContextValue::Strings(vec!["json".into()]));
            return Err(e);
        }
        Ok(JsonOrFile::File(PathBuf::from(value)))
    }

    /// Listed in `--help` and completions; not a check (see [`JsonOrFile`]).
    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(std::iter::once(PossibleValue::new("json"))))
    }
}

/// `--by`: `groups`, `claim:FIELD`, `people:COLUMN` or `none`.
fn parse_by(text: &str) -> Result<By, String> {
    By::parse(text)
}

/// Where candidates come from and how they are scored (shared by `score` and `report`).
#[derive(Debug, Args)]
pub struct ScoringArgs {
    /// Where candidates come from: `groups`, `claim:FIELD` (an IdP claim such as
    /// `claim:memberOf`), `people:COLUMN` (a people-CSV column), or `none` (the candidates file only).
    #[arg(long, value_name = "HOW", default_value = "groups", value_parser = parse_by)]
    pub by: By,
    /// Candidates file: more candidates, declared facts with justifications, suppressed rules with reasons.
    #[arg(long, value_name = "FILE")]
    pub candidates: Option<PathBuf>,
    /// Folder of rule files (TOML) that add rules or override built-in ones by id.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The split's organizations as a Terraform configuration for the coderd provider.
    Terraform(ExportTerraformArgs),
}

#[derive(Debug, Args)]
pub struct ExportTerraformArgs {
    /// The plan (from `orgsplit plan`).
    pub plan: PathBuf,
    /// The snapshot the plan was made from; without it, the built-in MegaCo example.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Template sources, one subfolder per template (`<template>` or `<org>/<template>`):
    /// new templates' versions are built from there. Without it, from `var.template_sources`.
    #[arg(long, value_name = "DIR")]
    pub template_sources: Option<PathBuf>,
    /// Folder to write `main.tf`, `deployment.tf`, `org_<name>.tf` and `README.md` into.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Folder of exported JSON files (API response bodies or `coder ... -o json` output).
    #[arg(long, value_name = "DIR")]
    pub from_dir: Option<PathBuf>,
    /// Read a live deployment at this URL, with the session token in $CODER_SESSION_TOKEN.
    #[arg(long, value_name = "URL", env = URL_ENV, hide_env_values = true)]
    pub url: Option<String>,
    /// The URL came from `CODER_URL`, not `--url` (then `--from-dir` wins over it).
    #[arg(skip)]
    pub url_from_env: bool,
    #[command(flatten)]
    pub api: ApiArgs,
    /// Requests in flight at once (live import).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64), conflicts_with = "from_dir")]
    pub concurrency: u16,
    /// Rows per page of users, workspaces and members (live import).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000), conflicts_with = "from_dir")]
    pub page_size: u32,
    /// The deployment at --url is Coder v1 ("Coder Enterprise", 1.x): read its v1 API with v1's
    /// `Session-Token` header. Without it, a deployment with no v2 API that answers v1's is read
    /// as v1 anyway.
    #[arg(long, conflicts_with = "from_dir")]
    pub coder_v1: bool,
    /// Do not read template ACLs (live import): each lists every member of every group it grants,
    /// megabytes per template on a large deployment. Templates then have `acl: null`.
    #[arg(long, conflicts_with = "from_dir")]
    pub skip_acls: bool,
    /// Where to write the snapshot (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The snapshot's format. (`-o FILE`, the file, is deprecated: write `--out FILE`.)
    #[arg(short, long, value_name = "FORMAT", value_parser = JsonOrFileParser)]
    pub output: Option<JsonOrFile>,
    /// People attributes (CSV with a `username` or `email` column).
    #[arg(long, value_name = "FILE.csv")]
    pub people: Option<PathBuf>,
    /// Folder with one subfolder of Terraform source per template.
    #[arg(long, value_name = "DIR")]
    pub template_sources: Option<PathBuf>,
    /// Record this time (RFC 3339) as when the state was taken.
    #[arg(long, value_name = "TIME")]
    pub taken_at: Option<String>,
    /// The deployment's address (its access URL), for an export that does not say it (build
    /// info's `dashboard_url`). A live import records the URL it read.
    #[arg(long, value_name = "URL")]
    pub deployment_url: Option<String>,
}

/// How to reach a Coder deployment (shared by the commands that talk to one).
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// PEM file of the certificate authority that signed the deployment's TLS certificate, when it
    /// is a private one.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Seconds to wait for a connection, an answer, or more of an answer's body.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Times to retry a request after a rate limit (429), a 502, 503 or 504, or a dropped connection.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Snapshot file; without it, the built-in MegaCo example.
    pub snapshot: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Snapshot file; without it, the built-in MegaCo example.
    pub snapshot: Option<PathBuf>,
    /// The split file (TOML): which orgs to create and who and what goes in.
    #[arg(long, value_name = "FILE")]
    pub split: PathBuf,
    /// Where to write the plan (JSON); without it, standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The plan's format. (`-o FILE`, the file, is deprecated: write `--out FILE`.)
    #[arg(short, long, value_name = "FORMAT", value_parser = JsonOrFileParser)]
    pub output: Option<JsonOrFile>,
    /// The deployment's address (its access URL), when the snapshot does not say it or says
    /// another one than its users reach it at.
    #[arg(long, value_name = "URL")]
    pub deployment_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The plan (from `orgsplit plan`).
    pub plan: PathBuf,
    /// The snapshot the plan was made from; without it, the built-in MegaCo example.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Show per user the orgs, templates, roles and workspace shares gained and lost, instead of
    /// the state diff.
    #[arg(long)]
    pub access: bool,
    /// Output format: `json` needs `--access` (the state diff is text).
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = DiffFormat::Text)]
    pub output: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan (from `orgsplit plan`; review it with `orgsplit diff`).
    pub plan: PathBuf,
    /// Apply without showing the changes and asking (needed when there is no terminal).
    #[arg(short, long)]
    pub yes: bool,
    /// The deployment, with the session token in $CODER_SESSION_TOKEN. It must be the plan's
    /// deployment; the token never goes to an address read from the plan.
    #[arg(long, value_name = "URL", env = URL_ENV, hide_env_values = true)]
    pub url: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
    /// Wait up to this long for provisioners of new organizations to start, then re-create their
    /// templates in the same run (without it, those templates wait for a rerun).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub wait_for_provisioners: Option<u64>,
    /// Longest wait for a template version's build.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub build_timeout: u64,
    /// Values of sensitive template variables, which the API does not reveal (TOML: a table per
    /// new template, `["org/template"]`, of `name = "value"`).
    #[arg(long, value_name = "FILE")]
    pub variables: Option<PathBuf>,
    /// Steps carried out at once, at most (each once what it depends on is done; fewer while the
    /// server rate limits).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The plan that was applied (its journal, `PLAN.journal`, and `PLAN.before` must be beside it).
    pub plan: PathBuf,
    /// Revert without showing what will be undone and asking (needed when there is no terminal).
    #[arg(short, long)]
    pub yes: bool,
    /// The deployment (default: $CODER_URL), with the session token in $CODER_SESSION_TOKEN. It
    /// must be the plan's deployment.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Undos carried out at once, at most (those that touch the same template, membership,
    /// organization or sync setting still run one after another, in the plan's order).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(flatten)]
    pub api: ApiArgs,
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

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Snapshot file; without it, the built-in MegaCo example (and its candidates file).
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Also write a draft split file (the input of `plan`) from the verdicts.
    #[arg(long, value_name = "FILE")]
    pub emit_split: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules: id, kind, verdict, title and where each is defined.
    List(RulesListArgs),
    /// Explain one rule: the page's case, its verdict and rationale, its conditions and facts.
    Explain(RulesExplainArgs),
}

#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// Folder of rule files that add rules or override built-in ones by id.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RulesExplainArgs {
    /// The rule's id (see `orgsplit rules list`).
    pub id: String,
    /// Folder of rule files that add rules or override built-in ones by id.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
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
    /// Host-name prefix `coder config-ssh` writes (the deployment's `hostname_prefix`): letters, digits,
    /// `.` and `-`, beginning with a letter or digit.
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

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Snapshot file; without it, the built-in MegaCo example (and its candidates file).
    pub snapshot: Option<PathBuf>,
    /// The split file to report on; without it, the split that scoring recommends (with its
    /// migration wiki and deadline marked as still to be filled in).
    #[arg(long, value_name = "FILE")]
    pub split: Option<PathBuf>,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = ReportFormat::Markdown)]
    pub output: ReportFormat,
    /// Write the report to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The deployment's address (its access URL), when the snapshot does not say it.
    #[arg(long, value_name = "URL")]
    pub deployment_url: Option<String>,
    /// A built-in example: `megaco` (the default without SNAPSHOT) or `megaco-v1` (MegaCo on
    /// Coder v1, and its move to a fresh v2 deployment; Markdown or JSON).
    #[arg(long, value_name = "NAME", value_parser = ["megaco", "megaco-v1"], conflicts_with = "snapshot")]
    pub example: Option<String>,
    /// For a Coder v1 SNAPSHOT: the target v2 deployment's snapshot (without it, a fresh one). A
    /// v1 snapshot's report is its move to v2, as `orgsplit v1-plan` plans it (--split is then a
    /// v1 split file).
    #[arg(long, value_name = "V2-SNAPSHOT")]
    pub target: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
    Json,
}

#[derive(Debug, Args)]
pub struct V1PlanArgs {
    /// A v1 snapshot (from `orgsplit import` of a v1 export); without it, the built-in MegaCo v1
    /// example.
    pub snapshot: Option<PathBuf>,
    /// A snapshot of the target v2 deployment; without it, a fresh one (only its default
    /// organization, `coder`, and no users yet).
    #[arg(long, value_name = "V2-SNAPSHOT")]
    pub target: Option<PathBuf>,
    /// A v1 split file: `[[organizations]]` with `name` (the v2 org) and `v1_organizations`.
    /// v1 organizations it does not name keep their name (the default one goes to v2's default).
    #[arg(long, value_name = "FILE")]
    pub split: Option<PathBuf>,
    /// Write the plan (JSON) here; without it (and without --out-dir), print a summary.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `json`: print the plan (JSON) to standard output instead of the summary. (`-o FILE`, the
    /// file, is deprecated: write `--out FILE`.)
    #[arg(short, long, value_name = "FORMAT", value_parser = JsonOrFileParser)]
    pub output: Option<JsonOrFile>,
    /// Write `templates/` (generated Terraform), `scripts/`, `notices/` and `plan.md` here.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Also write the v2 side (organizations, provisioner keys, members and roles, templates from
    /// images) as an ordinary orgsplit plan here, for `orgsplit diff` and `orgsplit apply`. Needs
    /// --target (the plan is valid against that snapshot only).
    #[arg(long, value_name = "FILE", requires = "target")]
    pub v2_plan: Option<PathBuf>,
    /// The v2 deployment's URL, for the scripts (default: the target snapshot's).
    #[arg(long)]
    pub url: Option<String>,
    /// The date (YYYY-MM-DD) by which users must have moved, for the notices and scripts.
    #[arg(long, default_value = "")]
    pub deadline: String,
    /// The migration guide's address, for the notices and scripts.
    #[arg(long, default_value = "")]
    pub wiki: String,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// A v1 snapshot (from `orgsplit import` of a v1 export); without it, the built-in MegaCo v1
    /// example.
    pub snapshot: Option<PathBuf>,
    /// Show the v1 organization role permission matrices instead.
    #[arg(long)]
    pub matrix: bool,
    /// Which v1 docs' matrix: 1.15 (with Services) or 1.17.
    #[arg(long, value_name = "VERSION", default_value = "1.17", value_parser = ["1.15", "1.17"])]
    pub matrix_version: String,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}
