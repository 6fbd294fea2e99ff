//! orgsplit: plan and carry out the split of a Coder deployment into
//! organizations, without losing anyone's work.
//!
//! Data flows one way:
//!
//! ```text
//! import -> model (Snapshot) -> inventory
//!                            -> rules (candidates, facts, scoring, recommended split)
//!                            -> split (the split file) -> plan -> render (diff, scripts, notices, Terraform)
//!              rules + plan -> report (the report as data) -> render (Markdown, HTML) or JSON
//!                                                    plan -> apply (API) -> import again to verify
//! ```
//!
//! The modules:
//!
//! - `cli`: the command line as clap types (nothing else imports clap);
//!   `commands`: one file per subcommand, reading inputs, calling the
//!   stages and writing outputs.
//! - `error`: the one `Error` type, diagnostics and exit codes; `output`:
//!   atomic files and folders orgsplit owns whole (`output/whole.rs`);
//!   `json`: the bytes of the JSON documents orgsplit writes (pure).
//! - `import`: export folders (`folder`, `probe`, `parse`, `collect`,
//!   `assemble/`), the live API (`live/`), people CSV, template sources,
//!   their Terraform signals and variants -> `model`: the snapshot, its
//!   canonical order, fingerprints and lookups.
//! - `coder`: the Coder API's wire types and the client that live import,
//!   apply and revert share.
//! - `inventory`: what a deployment holds, per organization.
//! - `rules`: the rule catalogue, candidates and their facts, scoring,
//!   overlapping candidates and the recommended split.
//! - `split`: the split file (TOML), its shape and the positions of its
//!   values.
//! - `plan`: snapshot + split -> the plan (`build/`, `validate/`), the
//!   steps' order, and the expected after-state.
//! - `report`: the dry-run report as data (scoring and plan of one split)
//!   and its picture.
//! - `render`: values -> text: the report (`report_doc.rs` on the small
//!   document model of `doc/`), diff, access diff, scripts, notices,
//!   Terraform (`terraform/`), tables and CSV.
//! - `apply`: carrying a plan out (preflight, steps, pace, journal, ledger,
//!   verification) and `apply/revert/`, the way back.
//! - `v1`: Coder v1 deployments: their snapshot, import, permission
//!   matrices, the v1 -> v2 plan and its templates, scripts and notices.
//! - `fixture`: the built-in MegaCo example, embedded as a snapshot;
//!   `cores`: work shared between cores (the one place with threads for speed).
//!
//! Only `commands`, `output`, `import`, `coder`, `apply` and `v1`'s folder
//! reader touch the disk or the network; the other stages are pure
//! functions of their inputs.

// The library prints nothing on its own: `commands` (the edge) prints what
// the stages return. Files likewise stay at the edges (`clippy.toml`).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod apply;
pub mod cli;
pub mod coder;
pub mod commands;
pub mod cores;
pub mod error;
pub mod fixture;
pub mod import;
pub mod inventory;
pub mod json;
pub mod model;
pub mod output;
pub mod plan;
pub mod render;
pub mod report;
pub mod rules;
pub mod split;
pub mod tomlread;
pub mod v1;
