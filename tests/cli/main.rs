//! One integration-test binary; its modules mirror the commands.

// Tests read and write files freely: `clippy.toml`'s rule is about the shipped tool.
#![allow(clippy::disallowed_methods)]

mod address;
mod api_traps;
mod apply;
mod apply_checks;
mod apply_cli;
mod apply_resume;
mod apply_support;
mod bad_input;
mod chromium;
mod client;
mod command_line;
mod common;
mod current_coder;
mod diff;
mod export;
mod fake_contract;
mod fixture;
mod golden;
mod handout;
mod hostile_names;
mod import;
mod import_folder;
mod import_shapes;
mod inventory;
mod live_cli;
mod live_import;
mod out_folders;
mod plan;
mod plan_checks;
mod real_coder;
mod report;
mod revert;
mod schema;
mod score;
mod scripts_e2e;
mod scripts_home;
mod trust;
mod v1;
mod v1_apply;
mod v1_bad_input;
mod v1_live;
