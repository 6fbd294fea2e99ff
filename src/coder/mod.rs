//! The Coder API: its wire types, and the client that live import and apply
//! share (auth, TLS, timeouts, retries, pagination, errors in the server's words).

mod client;
mod endpoint;
mod error;
mod permissions;
mod retry;
mod secret;
pub mod types;

pub use client::{
    Body, Client, ClientConfig, Decoded, Idempotency, Reply, Stats, TOKEN_HEADER, decode_bytes, decode_json,
};
pub use endpoint::Endpoint;
pub use error::{ApiError, ErrorKind};
pub use permissions::needed as permission_needed;
pub use retry::{RetryPolicy, Sleep, ThreadSleep, parse_retry_after, retryable_status};
pub use secret::{Secret, SessionToken, TOKEN_ENV, URL_ENV};
