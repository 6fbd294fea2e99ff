//! POST, PUT and PATCH endpoints.

use super::http::{Reply, Request};
use super::reads;
use super::state::State;

pub fn handle(_st: &mut State, _me: &str, _req: &Request, _seg: &[&str]) -> Reply {
    reads::not_found()
}
