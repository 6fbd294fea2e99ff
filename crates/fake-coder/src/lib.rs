//! A fake Coder deployment for tests: stateful, loaded from a `Snapshot`,
//! serving on 127.0.0.1 the endpoints orgsplit reads and writes, with the
//! field names, status codes and error bodies of `swagger.json` and the
//! server behaviours of ENDPOINTS.md (a test holds its answers to the
//! swagger definitions: `fake_contract.rs`).
//!
//! A test starts one with `FakeCoder::start(snapshot)`, points the client at
//! `fake.url()` with `fake.token()`, and can inject faults (`set_faults`,
//! `script`), forbid endpoints (`forbid`), read the request log (`log`) and
//! look at or change the state (`state`, `state_mut`).

#![allow(dead_code)] // Each user of the fake (tests, the bench example) needs a different part.

pub mod faults;
pub mod http;
pub mod idp;
pub mod provisioners;
pub mod reads;
pub mod settings;
pub mod state;
pub mod templates;
pub mod v1;
pub mod writes;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use orgsplit::model::Snapshot;
use serde_json::json;

pub use faults::{Fault, Faults};
use http::{Delivery, Handler, Reply, Request, Server};
pub use state::State;

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    pub status: u16,
    pub fault: Option<Fault>,
    /// Whether the request carried a valid session token.
    pub authenticated: bool,
    pub request_body: Vec<u8>,
    /// The answer's body (only while `record_bodies` is on).
    pub response_body: Option<Vec<u8>>,
}

pub struct FakeCoder {
    inner: Arc<Inner>,
    server: Server,
}

struct Inner {
    state: RwLock<State>,
    /// The owner's token, made at start.
    owner_token: String,
    injector: Mutex<faults::Injector>,
    log: Mutex<Vec<Logged>>,
    record_bodies: AtomicBool,
    /// (method, path prefix under /api/v2) answered 403.
    forbidden: Mutex<Vec<(String, String)>>,
    /// Answer everything with a 307 to this base URL.
    redirect: Mutex<Option<String>>,
    requests: AtomicU64,
}

static TOKENS: AtomicU64 = AtomicU64::new(1);

/// The MegaCo state (`fixtures::megaco()`), built once per test binary.
pub fn megaco() -> Snapshot {
    static MEGACO: std::sync::OnceLock<Snapshot> = std::sync::OnceLock::new();
    MEGACO.get_or_init(|| fixtures::megaco().snapshot).clone()
}

impl FakeCoder {
    pub fn start(snapshot: Snapshot) -> FakeCoder {
        FakeCoder::with_faults(snapshot, Faults::default())
    }

    pub fn with_faults(snapshot: Snapshot, faults: Faults) -> FakeCoder {
        FakeCoder::serve(snapshot, faults, None)
    }

    /// Over HTTPS, with this certificate chain and key (PEM files).
    pub fn with_tls(snapshot: Snapshot, cert: &std::path::Path, key: &std::path::Path) -> FakeCoder {
        FakeCoder::serve(snapshot, Faults::default(), Some(tls_config(cert, key)))
    }

    fn serve(snapshot: Snapshot, faults: Faults, tls: Option<Arc<rustls::ServerConfig>>) -> FakeCoder {
        let mut state = State::new(snapshot);
        let owner = state
            .s
            .users
            .iter()
            .find(|u| u.roles.iter().any(|r| r == "owner") && u.is_active())
            .or_else(|| state.s.users.first())
            .map(|u| u.id.clone())
            .unwrap_or_default();
        let owner_token = new_token();
        state.tokens.insert(owner_token.clone(), owner);
        let inner = Arc::new(Inner {
            state: RwLock::new(state),
            owner_token,
            injector: Mutex::new(faults::Injector::new(faults)),
            log: Mutex::new(Vec::new()),
            record_bodies: AtomicBool::new(false),
            forbidden: Mutex::new(Vec::new()),
            redirect: Mutex::new(None),
            requests: AtomicU64::new(0),
        });
        let server = Server::start(inner.clone(), tls);
        FakeCoder { inner, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The token of the deployment's owner (the first active user with the `owner` site role).
    pub fn token(&self) -> String {
        self.inner.owner_token.clone()
    }

    /// A token acting as `user` (id or username).
    pub fn token_for(&self, user: &str) -> String {
        let token = new_token();
        self.state_mut(|s| {
            let id = s.user(user).map(|u| u.id.clone()).expect("a known user");
            s.tokens.insert(token.clone(), id);
        });
        token
    }

    pub fn set_faults(&self, faults: Faults) {
        self.inner.injector.lock().unwrap().faults = faults;
    }

    /// Fail the next `times` requests of `method` whose path (and query) contains `path`.
    pub fn script(&self, method: &str, path: &str, fault: Fault, times: u32) {
        let scripted = faults::Scripted { method: method.into(), path: path.into(), fault, times };
        self.inner.injector.lock().unwrap().scripted.push(scripted);
    }

    /// Answer `method` on paths under `/api/v2` starting with `path` with 403.
    pub fn forbid(&self, method: &str, path: &str) {
        self.inner.forbidden.lock().unwrap().push((method.into(), path.into()));
    }

    /// Answer every request with a 307 redirect to the same path under `base`.
    pub fn redirect_to(&self, base: &str) {
        *self.inner.redirect.lock().unwrap() = Some(base.to_string());
    }

    pub fn record_bodies(&self, on: bool) {
        self.inner.record_bodies.store(on, Ordering::SeqCst);
    }

    pub fn log(&self) -> Vec<Logged> {
        self.inner.log.lock().unwrap().clone()
    }

    /// Requests received (including those answered with a fault).
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// The state, its snapshot in canonical order (writes through the API append to its lists).
    pub fn state<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        if !self.inner.state.read().unwrap().canonical {
            self.inner.state.write().unwrap().reindex();
        }
        f(&self.inner.state.read().unwrap())
    }

    pub fn state_mut<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.inner.state.write().unwrap();
        let r = f(&mut state);
        state.reindex();
        r
    }

    pub fn snapshot(&self) -> Snapshot {
        self.state(|s| s.s.clone())
    }

    /// A client for this fake with the owner's token, whose retries do not wait (see `Waits`).
    pub fn client(&self) -> (orgsplit::coder::Client, Arc<Waits>) {
        self.client_with(&self.token())
    }

    pub fn client_with(&self, token: &str) -> (orgsplit::coder::Client, Arc<Waits>) {
        let waits = Arc::new(Waits::default());
        let mut config =
            orgsplit::coder::ClientConfig::new(self.url(), orgsplit::coder::SessionToken::new(token).unwrap());
        config.sleep = waits.clone();
        config.timeout = std::time::Duration::from_secs(10);
        (orgsplit::coder::Client::new(config).unwrap(), waits)
    }
}

/// A clock for the client that records the waits asked of it and returns at
/// once, so retry paths run without sleeping.
#[derive(Debug, Default)]
pub struct Waits(Mutex<Vec<std::time::Duration>>);

impl Waits {
    pub fn all(&self) -> Vec<std::time::Duration> {
        self.0.lock().unwrap().clone()
    }
}

impl orgsplit::coder::Sleep for Waits {
    fn sleep(&self, duration: std::time::Duration) {
        self.0.lock().unwrap().push(duration);
    }
}

/// A token shaped like Coder's (`<10-char id>-<22-char secret>`), unique per process.
fn new_token() -> String {
    let n = TOKENS.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id();
    format!("Fk{n:08}-s3cr3t{pid:08x}{n:08x}")
}

impl Handler for Inner {
    fn handle(&self, req: Request) -> (Reply, Delivery) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let (latency, fault) = {
            let mut injector = self.injector.lock().unwrap();
            (injector.faults.latency, injector.pick(&req.method, &req.line()))
        };
        if !latency.is_zero() {
            std::thread::sleep(latency);
        }
        let token = req.header("Coder-Session-Token").map(str::to_string);
        let me = token.as_ref().and_then(|t| self.state.read().unwrap().tokens.get(t).cloned());
        let (reply, delivery) = match fault {
            Some(Fault::TooManyRequests { retry_after }) => (rate_limited(retry_after), Delivery::Whole),
            Some(Fault::Status(status)) => (proxy_error(status), Delivery::Whole),
            Some(Fault::Delay(d)) => {
                std::thread::sleep(d);
                (self.route(&req, me.as_deref()), Delivery::Whole)
            }
            Some(Fault::CutBody) => {
                let reply = self.route(&req, me.as_deref());
                let half = reply.body.len() / 2;
                (reply, Delivery::CutAfter(half))
            }
            None => (self.route(&req, me.as_deref()), Delivery::Whole),
        };
        let record = self.record_bodies.load(Ordering::SeqCst);
        self.log.lock().unwrap().push(Logged {
            method: req.method.clone(),
            path: req.line().split_once(' ').map(|(_, p)| p.to_string()).unwrap_or_default(),
            status: reply.status,
            fault,
            authenticated: me.is_some(),
            request_body: req.body,
            response_body: record.then(|| reply.body.clone()),
        });
        let mut reply = reply;
        reply.headers.push(("X-Coder-Build-Version".into(), "v2.18.1+fake".into()));
        (reply, delivery)
    }
}

impl Inner {
    fn route(&self, req: &Request, me: Option<&str>) -> Reply {
        if let Some(base) = self.redirect.lock().unwrap().as_ref() {
            let location = format!("{base}{}", req.line().split_once(' ').map_or("", |(_, p)| p));
            return Reply { status: 307, headers: vec![("Location".into(), location)], body: Vec::new() };
        }
        let segments = req.segments();
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        let Some(["api", "v2", rest @ ..]) = Some(seg.as_slice()) else { return reads::not_found() };
        if rest != ["buildinfo"] {
            let Some(_) = me else {
                return match req.header("Coder-Session-Token") {
                    None => {
                        reads::error(401, "Cookie \"coder_session_token\" or query parameter must be provided.", "")
                    }
                    Some(_) => reads::error(401, "Invalid API key.", ""),
                };
            };
        }
        let path = format!("/{}", rest.join("/"));
        if self.forbidden.lock().unwrap().iter().any(|(m, p)| *m == req.method && path.starts_with(p.as_str())) {
            return reads::error(403, "Forbidden.", "You don't have permission to view this content.");
        }
        let me = me.unwrap_or_default();
        if let ("GET", ["templateversions", id]) = (req.method.as_str(), rest) {
            // A provisioner daemon works on the job between two polls.
            let mut state = self.state.write().unwrap();
            templates::advance_job(&mut state, id);
            return reads::get(&state, me, req, rest);
        }
        if req.method == "GET" {
            reads::get(&self.state.read().unwrap(), me, req, rest)
        } else {
            let mut state = self.state.write().unwrap();
            // Each write keeps the indexes it touches (state.rs); the lists
            // it appends to are sorted when read.
            let reply = writes::handle(&mut state, me, req, rest);
            if (200..300).contains(&reply.status) {
                state.canonical = false;
            }
            reply
        }
    }
}

fn rate_limited(retry_after: u64) -> Reply {
    let mut reply = reads::json(
        429,
        &json!({"message": "You've been rate limited for sending more than 512 requests in 1m0s.", "detail": "", "validations": null}),
    );
    reply.headers.extend([
        ("Retry-After".to_string(), retry_after.to_string()),
        ("X-RateLimit-Limit".to_string(), "512".to_string()),
        ("X-RateLimit-Remaining".to_string(), "0".to_string()),
    ]);
    reply
}

/// 502 and 504 as a proxy in front of Coder sends them (HTML); others from Coder itself.
fn proxy_error(status: u16) -> Reply {
    if !matches!(status, 502 | 504) {
        let message = if status == 503 {
            "The server is starting up."
        } else {
            "Resource not found or you do not have access to this resource"
        };
        return reads::error(status, message, "");
    }
    Reply {
        status,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: format!("<html><body><h1>{status}</h1>upstream unavailable</body></html>").into_bytes(),
    }
}

/// The TLS server settings of a fake (v2 or v1) with this certificate chain and key (PEM files).
pub(crate) fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(cert).unwrap().map(|c| c.unwrap()).collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Arc::new(config)
}
