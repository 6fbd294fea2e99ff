//! The Coder API: its wire types, and (for live import and apply) the client.

pub mod types;
