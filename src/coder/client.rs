//! The HTTP client shared by live import and apply: one deployment, one
//! session token, TLS verified (with an extra CA when asked), timeouts,
//! bounded retries (see `retry.rs`), and errors that carry the server's words.
//!
//! Bodies are decoded as they stream in, so a large answer (a template ACL
//! lists every member of every group it grants) is never held whole; a body
//! cut short is noticed while decoding and the request is tried again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::blocking::{Client as Http, Response};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::answer::{decode_bytes, decode_json, error_status, transport_error};
use super::config::{ClientConfig, parse_base, read_ca};
use super::endpoint::Endpoint;
use super::error::{ApiError, ErrorKind};
use super::retry::{Jitter, RetryPolicy, Sleep, parse_retry_after, retryable_status};
use super::secret::SessionToken;
use crate::error::{Error, Result};

/// The header the session token travels in.
pub const TOKEN_HEADER: &str = "Coder-Session-Token";
/// The header a Coder v1 deployment takes the session token in.
pub const V1_TOKEN_HEADER: &str = "Session-Token";

/// Whether sending a request twice is harmless. Requests that are not are
/// retried only when the server cannot have acted on them (429, or no
/// connection made); otherwise the error says the change may have been made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    Idempotent,
    Once,
}

/// What a request sends.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Vec<u8>),
    Bytes { bytes: Vec<u8>, content_type: String },
}

impl Body {
    pub fn json<T: Serialize>(value: &T) -> Body {
        Body::Json(serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec()))
    }
}

/// A successful answer: its status (201 and 200 can mean different things)
/// and decoded body. 204 and 304 have no body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    pub status: u16,
    pub value: Option<T>,
}

/// How decoding a body ended.
pub enum Decoded<T> {
    Done(T),
    /// The body stopped early (connection closed or reset): worth another try.
    CutShort(String),
    /// The body is whole but wrong.
    Invalid(String),
}

/// Counters for the benchmark and the import summary.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    /// Answers 429 (rate limited), and the longest `Retry-After` (ms) among
    /// them since apply's pacing last looked (it takes it: `swap(0)`).
    pub throttled: AtomicU64,
    pub retry_after_ms: AtomicU64,
    /// Answers 502, 503, 504 (an overloaded server or proxy).
    pub overloaded: AtomicU64,
}

#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    base: Url,
    token: SessionToken,
    token_header: &'static str,
    retry: RetryPolicy,
    sleep: Arc<dyn Sleep>,
    jitter: Jitter,
    stats: Stats,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.inner.base.as_str()).finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client> {
        let base = parse_base(&config.url)?;
        let mut builder = Http::builder()
            .user_agent(concat!("orgsplit/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            // A redirect would carry the token header to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(base.scheme() == "https");
        if let Some(path) = &config.ca_cert {
            for cert in read_ca(path)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| Error::Api(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                token: config.token,
                token_header: config.token_header,
                retry: config.retry,
                sleep: config.sleep,
                jitter: Jitter::new(),
                stats: Stats::default(),
            }),
        })
    }

    /// The deployment URL as given (scheme, host, port, path), without a trailing slash.
    pub fn base_url(&self) -> String {
        self.inner.base.as_str().trim_end_matches('/').to_string()
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// GET and decode JSON.
    pub fn get<T: DeserializeOwned>(&self, endpoint: &Endpoint) -> Result<T, ApiError> {
        let reply = self.send(Method::GET, endpoint, &Body::Empty, Idempotency::Idempotent, decode_json)?;
        reply.value.ok_or_else(|| self.error(&Method::GET, endpoint, ErrorKind::Decode("an empty answer".into()), 1))
    }

    /// GET raw bytes and their content type (file downloads).
    pub fn get_bytes(&self, endpoint: &Endpoint) -> Result<(Vec<u8>, String), ApiError> {
        let reply = self.send(Method::GET, endpoint, &Body::Empty, Idempotency::Idempotent, decode_bytes)?;
        Ok(reply.value.unwrap_or_default())
    }

    /// Send `body` with `method`; decode a JSON answer into `T`.
    pub fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &Endpoint,
        body: &Body,
        idempotency: Idempotency,
    ) -> Result<Reply<T>, ApiError> {
        self.send(method, endpoint, body, idempotency, decode_json)
    }

    /// The request loop: send, retry what is worth retrying, decode.
    pub fn send<T>(
        &self,
        method: Method,
        endpoint: &Endpoint,
        body: &Body,
        idempotency: Idempotency,
        decode: impl Fn(Response) -> Decoded<T>,
    ) -> Result<Reply<T>, ApiError> {
        let url = endpoint.url(&self.inner.base);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
            let last = attempt > self.inner.retry.retries;
            let fail = |kind, maybe_applied| {
                let mut e = self.error(&method, endpoint, kind, attempt);
                e.maybe_applied = maybe_applied;
                e
            };
            let wait = match self.request(&method, &url, body).send() {
                Err(e) => {
                    let (kind, sent) = transport_error(&e);
                    let safe = !sent || idempotency == Idempotency::Idempotent;
                    if matches!(kind, ErrorKind::Tls(_)) || last || !safe {
                        return Err(fail(kind, sent && idempotency == Idempotency::Once));
                    }
                    None
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    match status {
                        429 => self.inner.stats.throttled.fetch_add(1, Ordering::Relaxed),
                        502..=504 => self.inner.stats.overloaded.fetch_add(1, Ordering::Relaxed),
                        _ => 0,
                    };
                    if (200..300).contains(&status) || status == 304 {
                        if matches!(status, 204 | 304) {
                            return Ok(Reply { status, value: None });
                        }
                        match decode(response) {
                            Decoded::Done(value) => return Ok(Reply { status, value: Some(value) }),
                            Decoded::Invalid(why) => return Err(fail(ErrorKind::Decode(why), false)),
                            Decoded::CutShort(why) => {
                                if last || idempotency == Idempotency::Once {
                                    let kind = ErrorKind::Transport(why);
                                    return Err(fail(kind, idempotency == Idempotency::Once));
                                }
                                None
                            }
                        }
                    } else if retryable_status(status)
                        && !last
                        && (status == 429 || idempotency == Idempotency::Idempotent)
                    {
                        let after = response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| parse_retry_after(v, SystemTime::now()));
                        if let Some(after) = after {
                            let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
                            self.inner.stats.retry_after_ms.fetch_max(ms, Ordering::Relaxed);
                        }
                        if let Some(after) = after.filter(|a| *a > self.inner.retry.max_retry_after) {
                            return Err(fail(ErrorKind::RetryAfterTooLong { seconds: after.as_secs() }, false));
                        }
                        after
                    } else {
                        let maybe_applied = idempotency == Idempotency::Once && matches!(status, 502 | 504);
                        return Err(fail(error_status(status, response), maybe_applied));
                    }
                }
            };
            self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            let backoff = self.inner.retry.backoff(attempt, self.inner.jitter.unit());
            // Retry-After is the server's minimum; a little jitter keeps workers apart.
            let delay = match wait {
                Some(after) => after + backoff / 4,
                None => backoff,
            };
            self.inner.sleep.sleep(delay);
        }
    }

    fn request(&self, method: &Method, url: &Url, body: &Body) -> reqwest::blocking::RequestBuilder {
        let request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(self.inner.token_header, self.inner.token.header_value())
            .header(reqwest::header::ACCEPT, "application/json");
        match body {
            Body::Empty => request,
            Body::Json(bytes) => request.header(reqwest::header::CONTENT_TYPE, "application/json").body(bytes.clone()),
            Body::Bytes { bytes, content_type } => {
                request.header(reqwest::header::CONTENT_TYPE, content_type.as_str()).body(bytes.clone())
            }
        }
    }

    /// An error about `endpoint` that happened after its answer arrived.
    pub(crate) fn api_error(&self, method: &Method, endpoint: &Endpoint, kind: ErrorKind) -> ApiError {
        self.error(method, endpoint, kind, 1)
    }

    /// Wait, on the client's clock (tests replace it).
    pub(crate) fn pause(&self, duration: Duration) {
        self.inner.sleep.sleep(duration);
    }

    fn error(&self, method: &Method, endpoint: &Endpoint, kind: ErrorKind, attempts: u32) -> ApiError {
        ApiError {
            method: method.to_string(),
            path: endpoint.path(),
            base: self.base_url(),
            kind: Box::new(kind),
            attempts,
            maybe_applied: false,
        }
    }
}
