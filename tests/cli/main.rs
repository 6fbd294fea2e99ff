//! One integration-test binary; its modules mirror the commands.

mod address;
mod api_traps;
mod apply;
mod apply_checks;
mod apply_cli;
mod apply_resume;
mod apply_support;
mod bad_input;
mod client;
mod common;
mod diff;
mod fake_coder;
mod fake_contract;
mod fixture;
mod handout;
mod import;
mod inventory;
mod live_cli;
mod live_import;
mod plan;
mod plan_checks;
mod report;
mod schema;
mod score;
mod scripts_e2e;
mod trust;
