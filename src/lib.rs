//! orgsplit: plan and carry out the split of a Coder deployment into
//! organizations, without losing anyone's work.
//!
//! Data flows one way:
//!
//! ```text
//! import -> model (Snapshot) -> rules/scoring -> plan -> render (report, diff, scripts, notices)
//!                                                   \-> apply (API) -> import again to verify
//! ```
//!
//! Only `import`, `coder`, `apply` and `commands` touch the disk or the
//! network; the other stages are pure functions of their inputs.

pub mod apply;
pub mod cli;
pub mod coder;
pub mod commands;
pub mod cores;
pub mod error;
pub mod fixture;
pub mod import;
pub mod inventory;
pub mod model;
pub mod output;
pub mod plan;
pub mod render;
pub mod report;
pub mod rules;
pub mod split;
pub mod v1;
