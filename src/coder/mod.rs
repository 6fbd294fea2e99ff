//! The Coder API: its wire types, and the client that live import and apply
//! share (auth, TLS, timeouts, retries, errors in the server's words).
//!
//! For apply: reads in `reads.rs`, one method per write endpoint in
//! `writes.rs` (with the traps of ENDPOINTS.md handled there), and
//! idempotent steps that look before they act in `ensure.rs`.

// The I/O edge to a Coder deployment: it reads the CA certificate file it is given.
#![allow(clippy::disallowed_methods)]

mod answer;
mod client;
mod config;
mod endpoint;
mod ensure;
mod error;
mod permissions;
mod reads;
pub mod requests;
mod retry;
mod secret;
pub mod types;
mod writes;

pub use answer::{decode_bytes, decode_json};
pub use client::{Body, Client, Decoded, Idempotency, Reply, Stats, TOKEN_HEADER, V1_TOKEN_HEADER};
pub use config::{ClientConfig, check_url};
pub use endpoint::Endpoint;
pub use ensure::{Ensured, KeyOutcome, RemappedAcl, missing_entries, remap_acl};
pub use error::{ApiError, ErrorKind};
pub use permissions::needed as permission_needed;
pub use retry::{RetryPolicy, Sleep, ThreadSleep, parse_retry_after, retryable_status};
pub use secret::{Secret, SessionToken, TOKEN_ENV, URL_ENV};
pub use writes::VersionBuild;
