//! One integration-test binary; its modules mirror the commands.

mod bad_input;
mod common;
mod diff;
mod fixture;
mod import;
mod inventory;
mod plan;
mod plan_checks;
mod schema;
