//! A fake Coder v1 ("Coder Enterprise") deployment: it serves an export
//! folder's bodies (`fixtures::megaco_v1_files()` or any folder of the same
//! files) under v1's routes, for orgsplit's live v1 import tests.
//!
//! v1 as `../shared/coder-v1/API.md` describes it: the token in the
//! `Session-Token` header, errors as `{"error": {"msg", "code"}}`, the
//! `coder-version` header, route prefixes by release (`/api/v0` from 1.16,
//! `/api/private` in 1.14–1.15), workspaces under `environments` before 1.20,
//! providers at `/api/private/resource-pools`, `images` and `registries`
//! filtered by `?org=`, and users and workspaces bare or paged
//! (`limit` + `after`, in the `{"data", "pager"}` envelope).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::http::{Delivery, Handler, Reply, Request, Server};

/// Which v1 release's routes the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 1.20 on: `/api/v0/...`, `workspaces`.
    Workspaces,
    /// 1.16–1.19: `/api/v0/...`, `environments`.
    Environments,
    /// 1.14–1.15: `/api/private/...`, `environments`.
    Private,
    /// ≤1.13: `/api/...`, `environments`, and no workspace providers yet.
    Legacy,
}

impl Era {
    fn prefix(self) -> &'static [&'static str] {
        match self {
            Era::Workspaces | Era::Environments => &["api", "v0"],
            Era::Private => &["api", "private"],
            Era::Legacy => &["api"],
        }
    }

    fn workspaces(self) -> &'static str {
        match self {
            Era::Workspaces => "workspaces",
            Era::Environments | Era::Private | Era::Legacy => "environments",
        }
    }

    fn version(self) -> &'static str {
        match self {
            Era::Workspaces => "1.22.3",
            Era::Environments => "1.17.0",
            Era::Private => "1.15.2",
            Era::Legacy => "1.13.1",
        }
    }
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct V1Logged {
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    pub status: u16,
    /// The `Session-Token` header was there and right.
    pub authenticated: bool,
    /// Some header held the token (whichever its name).
    pub carried_token: bool,
}

struct Data {
    users: Vec<Value>,
    orgs: Vec<Value>,
    images: Vec<Value>,
    registries: Vec<Value>,
    workspaces: Vec<Value>,
    pools: Value,
    /// Workspace id -> its dev URLs.
    devurls: BTreeMap<String, Value>,
    /// Image id -> its tags (`tags-<image id>.json`; an empty list for others).
    tags: BTreeMap<String, Value>,
}

struct Inner {
    token: String,
    era: Era,
    /// Rows per page of users and workspaces; `None` serves bare arrays.
    page: Option<usize>,
    data: Data,
    /// Path (without query) -> a canned answer, for error tests.
    canned: Mutex<BTreeMap<String, (u16, Vec<u8>)>>,
    redirect: Mutex<Option<String>>,
    log: Mutex<Vec<V1Logged>>,
}

pub struct FakeV1 {
    inner: Arc<Inner>,
    server: Server,
}

impl FakeV1 {
    /// Serve an export folder's files, given as (name, bytes) like
    /// `fixtures::megaco_v1_files()` (names may carry an `export/` folder).
    /// `page`: rows per page of users and workspaces, or bare arrays.
    pub fn start(files: &[(String, Vec<u8>)], era: Era, page: Option<usize>) -> FakeV1 {
        FakeV1::serve(files, era, page, None)
    }

    /// [`FakeV1::start`] over HTTPS, with this certificate and key (PEM files).
    pub fn with_tls(files: &[(String, Vec<u8>)], cert: &std::path::Path, key: &std::path::Path) -> FakeV1 {
        FakeV1::serve(files, Era::Workspaces, None, Some(crate::tls_config(cert, key)))
    }

    fn serve(
        files: &[(String, Vec<u8>)],
        era: Era,
        page: Option<usize>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> FakeV1 {
        let inner =
            Arc::new(Inner { token: "5ed15061-v1s3cr3tt0k3n".into(), era, page, data: load(files), ..Inner::empty() });
        let server = Server::start(Arc::new(Shared(inner.clone())), tls);
        FakeV1 { inner, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn token(&self) -> String {
        self.inner.token.clone()
    }

    /// Answer `path` (no query) with this status and body from now on.
    pub fn answer(&self, path: &str, status: u16, body: &[u8]) {
        self.inner.canned.lock().unwrap().insert(path.to_string(), (status, body.to_vec()));
    }

    /// Answer every request with a 307 redirect to the same path under `base`.
    pub fn redirect_to(&self, base: &str) {
        *self.inner.redirect.lock().unwrap() = Some(base.to_string());
    }

    pub fn log(&self) -> Vec<V1Logged> {
        self.inner.log.lock().unwrap().clone()
    }
}

impl Inner {
    fn empty() -> Inner {
        Inner {
            token: String::new(),
            era: Era::Workspaces,
            page: None,
            data: load(&[]),
            canned: Mutex::default(),
            redirect: Mutex::default(),
            log: Mutex::default(),
        }
    }
}

/// The objects of a body: a bare array, or the `data` of an envelope.
fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("data") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn load(files: &[(String, Vec<u8>)]) -> Data {
    let mut d = Data {
        users: Vec::new(),
        orgs: Vec::new(),
        images: Vec::new(),
        registries: Vec::new(),
        workspaces: Vec::new(),
        pools: json!({"kubernetes": []}),
        devurls: BTreeMap::new(),
        tags: BTreeMap::new(),
    };
    for (name, bytes) in files {
        let file = name.rsplit('/').next().unwrap_or(name);
        let Some(stem) = file.strip_suffix(".json") else { continue };
        let v: Value = serde_json::from_slice(bytes).expect("the fake v1 serves JSON files");
        match stem {
            "users" => d.users = items(v),
            "orgs" => d.orgs = items(v),
            "workspaces" | "environments" => d.workspaces = items(v),
            "resource-pools" => d.pools = v,
            _ if stem.starts_with("images-") => d.images.extend(items(v)),
            _ if stem.starts_with("registries-") => d.registries.extend(items(v)),
            _ => {
                if let Some(id) = stem.strip_prefix("devurls-") {
                    d.devurls.insert(id.to_string(), v);
                } else if let Some(id) = stem.strip_prefix("tags-") {
                    d.tags.insert(id.to_string(), v);
                }
            }
        }
    }
    d
}

struct Shared(Arc<Inner>);

impl Handler for Shared {
    fn handle(&self, request: Request) -> (Reply, Delivery) {
        let inner = &self.0;
        let given = request.header("Session-Token");
        let authenticated = given == Some(inner.token.as_str());
        let carried_token = request.headers.iter().any(|(_, v)| v.contains(&inner.token));
        let reply = inner.route(&request, authenticated);
        inner.log.lock().unwrap().push(V1Logged {
            method: request.method.clone(),
            path: request.line().split_once(' ').map(|(_, p)| p.to_string()).unwrap_or_default(),
            status: reply.status,
            authenticated,
            carried_token,
        });
        (reply, Delivery::Whole)
    }
}

fn reply(status: u16, body: Vec<u8>, version: Option<&str>) -> Reply {
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if let Some(v) = version {
        headers.push(("coder-version".to_string(), v.to_string()));
    }
    Reply { status, headers, body }
}

fn error(status: u16, code: &str, msg: &str) -> Reply {
    reply(status, serde_json::to_vec(&json!({"error": {"msg": msg, "code": code, "details": null}})).unwrap(), None)
}

impl Inner {
    fn route(&self, request: &Request, authenticated: bool) -> Reply {
        if let Some(base) = self.redirect.lock().unwrap().as_ref() {
            let mut r = reply(307, Vec::new(), None);
            r.headers.push(("Location".into(), format!("{base}{}", request.path)));
            return r;
        }
        if let Some((status, body)) = self.canned.lock().unwrap().get(&request.path) {
            return reply(*status, body.clone(), Some(self.era.version()));
        }
        if request.method != "GET" {
            return error(405, "method_not_allowed", "orgsplit's fake v1 only reads");
        }
        let segments = request.segments();
        let prefix = self.era.prefix();
        let pools = ["api", "private", "resource-pools"];
        let rest: Vec<&str> = if segments.iter().map(String::as_str).eq(pools) && self.era != Era::Legacy {
            vec!["resource-pools"]
        } else if segments.len() > prefix.len() && segments.iter().zip(prefix).all(|(a, b)| a == b) {
            segments[prefix.len()..].iter().map(String::as_str).collect()
        } else {
            return error(404, "not_found", "route not found");
        };
        if !authenticated {
            return error(401, "unauthorized", "authentication required: a valid Session-Token header");
        }
        let ws = self.era.workspaces();
        let d = &self.data;
        let body = match rest.as_slice() {
            ["users", "me"] => d.users.iter().find(|u| u["roles"].to_string().contains("site-admin")).cloned(),
            ["users"] => Some(self.paged(&d.users, request)),
            ["orgs"] => Some(Value::Array(d.orgs.clone())),
            ["images"] | ["registries"] => {
                let Some(org) = request.query_value("org") else {
                    return error(400, "bad_request", "query parameter `org` is required");
                };
                let all = if rest[0] == "images" { &d.images } else { &d.registries };
                Some(Value::Array(all.iter().filter(|i| i["organization_id"] == org.as_str()).cloned().collect()))
            }
            ["images", id, "tags"] => {
                d.images.iter().any(|i| i["id"] == *id).then(|| d.tags.get(*id).cloned().unwrap_or(json!([])))
            }
            [w] if *w == ws => Some(self.paged(&d.workspaces, request)),
            [w, id, "devurls"] if *w == ws => {
                d.workspaces.iter().any(|x| x["id"] == *id).then(|| d.devurls.get(*id).cloned().unwrap_or(json!([])))
            }
            ["resource-pools"] => Some(d.pools.clone()),
            _ => None,
        };
        match body {
            Some(b) => reply(200, serde_json::to_vec(&b).unwrap(), Some(self.era.version())),
            None => error(404, "not_found", "not found"),
        }
    }

    /// A list, bare or paged: `limit` rows after the id `after`.
    fn paged(&self, all: &[Value], request: &Request) -> Value {
        let Some(default) = self.page else { return Value::Array(all.to_vec()) };
        let limit = request.query_value("limit").and_then(|l| l.parse().ok()).unwrap_or(default).min(default);
        let start = match request.query_value("after") {
            Some(after) => all.iter().position(|x| x["id"] == after.as_str()).map_or(all.len(), |i| i + 1),
            None => 0,
        };
        let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
        let last = page.last().map(|x| x["id"].clone()).unwrap_or(Value::Null);
        let more = start + page.len() < all.len();
        json!({
            "data": page,
            "pager": {
                "cursor": {"after": last, "before": null},
                "next": if more { json!(format!("{}?limit={limit}&after={}", request.path, last.as_str().unwrap_or(""))) } else { Value::Null },
                "previous": null,
                "total": all.len(),
            }
        })
    }
}
