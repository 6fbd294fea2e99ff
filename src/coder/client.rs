//! The HTTP client shared by live import and apply: one deployment, one
//! session token, TLS verified (with an extra CA when asked), timeouts,
//! bounded retries (see `retry.rs`), and errors that carry the server's words.
//!
//! Bodies are decoded as they stream in, so a large answer (a template ACL
//! lists every member of every group it grants) is never held whole; a body
//! cut short is noticed while decoding and the request is tried again.

use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::blocking::{Client as Http, Response};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::endpoint::Endpoint;
use super::error::{ApiError, ErrorKind};
use super::retry::{Jitter, RetryPolicy, Sleep, ThreadSleep, parse_retry_after, retryable_status};
use super::secret::SessionToken;
use super::types::Response as ErrorBody;
use crate::error::{Error, Result};

/// The header the session token travels in.
pub const TOKEN_HEADER: &str = "Coder-Session-Token";

/// Everything needed to talk to one deployment.
#[derive(Clone)]
pub struct ClientConfig {
    /// The deployment URL, e.g. `https://coder.example.com`.
    pub url: String,
    pub token: SessionToken,
    /// A PEM file of extra CA certificates to trust (a private CA).
    pub ca_cert: Option<PathBuf>,
    /// Longest wait for a connection, for the answer to start, and between two reads of its body.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub sleep: Arc<dyn Sleep>,
}

impl ClientConfig {
    pub fn new(url: impl Into<String>, token: SessionToken) -> ClientConfig {
        ClientConfig {
            url: url.into(),
            token,
            ca_cert: None,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            sleep: Arc::new(ThreadSleep),
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("url", &self.url)
            .field("token", &self.token)
            .field("ca_cert", &self.ca_cert)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

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
}

#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    base: Url,
    token: SessionToken,
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
            .header(TOKEN_HEADER, self.inner.token.header_value())
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

/// Decode a JSON body as it streams in.
pub fn decode_json<T: DeserializeOwned>(response: Response) -> Decoded<T> {
    let reader = BufReader::with_capacity(64 * 1024, response);
    match serde_json::from_reader::<_, T>(reader) {
        Ok(value) => Decoded::Done(value),
        Err(e) if e.is_io() || e.is_eof() => {
            Decoded::CutShort("the connection closed before the whole answer arrived".into())
        }
        Err(e) => Decoded::Invalid(e.to_string()),
    }
}

/// Read a whole body as bytes, with its content type.
pub fn decode_bytes(mut response: Response) -> Decoded<(Vec<u8>, String)> {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut bytes = Vec::new();
    match response.read_to_end(&mut bytes) {
        Ok(_) => Decoded::Done((bytes, content_type)),
        Err(_) => Decoded::CutShort("the connection closed before the whole answer arrived".into()),
    }
}

/// An error status and what its body says (a `codersdk.Response`, or the
/// start of whatever else a proxy in front of Coder sent).
fn error_status(status: u16, response: Response) -> ErrorKind {
    if (300..400).contains(&status) {
        let location = response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok());
        return ErrorKind::Redirect { status, location: location.unwrap_or("an unnamed place").to_string() };
    }
    let mut bytes = Vec::new();
    let _ = response.take(64 * 1024).read_to_end(&mut bytes);
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => ErrorKind::Status { status, body: Some(body), text: None },
        Err(_) => {
            let text: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
            ErrorKind::Status { status, body: None, text: Some(text) }
        }
    }
}

/// Classify a failed send: the kind of error, and whether the request may
/// have reached the server (a connect error means it did not).
fn transport_error(e: &reqwest::Error) -> (ErrorKind, bool) {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    let text = strip_url(&text);
    if text.contains("certificate") || text.contains("UnknownIssuer") || text.contains("InvalidCertificate") {
        return (ErrorKind::Tls(text), false);
    }
    (ErrorKind::Transport(text), !e.is_connect())
}

/// reqwest repeats the URL, which the message already starts with.
fn strip_url(text: &str) -> String {
    match (text.find(" for url ("), text.find(')')) {
        (Some(start), Some(_)) => {
            let rest = &text[start..];
            let end = rest.find(')').map_or(rest.len(), |i| i + 1);
            format!("{}{}", &text[..start], &rest[end..])
        }
        _ => text.to_string(),
    }
}

/// The deployment URL: http or https, no credentials, query or fragment.
fn parse_base(text: &str) -> Result<Url> {
    let text = text.trim();
    let url = Url::parse(text).map_err(|e| {
        Error::Usage(format!(
            "`{}` is not a URL ({e}): give the deployment URL, e.g. https://coder.example.com",
            redact(text)
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Usage(format!(
            "`{}` is not an http(s) URL: give the deployment URL, e.g. https://coder.example.com",
            redact(text)
        )));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Usage(format!(
            "the deployment URL `{}` must not hold credentials, a query or a fragment: give https://host[:port] and \
             put the token in CODER_SESSION_TOKEN",
            redact(text)
        )));
    }
    Ok(url)
}

/// A URL for a message, without anything that could be a credential.
fn redact(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) if text.contains('@') || text.contains('?') => "(the given URL)".to_string(),
        Err(_) => text.to_string(),
    }
}

/// The certificates of a PEM file (one or several).
fn read_ca(path: &PathBuf) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        Error::input(path, format!("not a PEM certificate file ({e}): --ca-cert takes the CA certificate in PEM form"))
    })?;
    if certs.is_empty() {
        return Err(Error::input(
            path,
            "holds no PEM certificate (no `-----BEGIN CERTIFICATE-----` block): --ca-cert takes the CA certificate \
             in PEM form",
        ));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_with_credentials_are_refused_without_echoing_them() {
        for bad in ["https://admin:hunter2@coder.example.com", "https://coder.example.com/?coder_session_token=hunter2"]
        {
            let e = parse_base(bad).unwrap_err().to_string();
            assert!(e.contains("must not hold credentials") && !e.contains("hunter2"), "{e}");
        }
        assert!(parse_base("coder.example.com").unwrap_err().to_string().contains("is not a URL"));
        assert!(parse_base("ftp://coder.example.com").unwrap_err().to_string().contains("not an http(s) URL"));
        assert_eq!(parse_base(" https://coder.example.com/ ").unwrap().as_str(), "https://coder.example.com/");
    }

    #[test]
    fn reqwest_urls_are_not_repeated() {
        assert_eq!(
            strip_url("error sending request for url (http://127.0.0.1:9/api/v2/x): connection refused"),
            "error sending request: connection refused"
        );
        assert_eq!(strip_url("timed out"), "timed out");
    }

    #[test]
    fn ca_files_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let e = read_ca(&path).unwrap_err().to_string();
        assert!(e.contains("ca.pem") && e.contains("PEM"), "{e}");
        let missing = read_ca(&dir.path().join("nope.pem")).unwrap_err().to_string();
        assert!(missing.starts_with("cannot read"), "{missing}");
    }

    #[test]
    fn debug_output_holds_no_token() {
        let config = ClientConfig::new("https://coder.example.com", SessionToken::new("tok-s3cr3t").unwrap());
        assert!(!format!("{config:?}").contains("s3cr3t"));
        let client = Client::new(config).unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }
}
