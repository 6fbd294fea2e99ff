//! One integration-test binary; its modules mirror the commands.

mod bad_input;
mod common;
mod fixture;
mod handout;
mod import;
mod inventory;
mod schema;
mod scripts_e2e;
