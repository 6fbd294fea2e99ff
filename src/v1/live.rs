//! Live import of a Coder v1 deployment: its API read with v1's token header
//! (`Session-Token`), through the same client as v2 (the token goes to the
//! named address only, redirects are refused, TLS is verified), and each
//! answer handed to the offline v1 importer as if it were a file of an
//! export folder, so a live import and an offline import of the same bodies
//! give the same snapshot.
//!
//! The paths follow `../shared/coder-v1/API.md` §1: the route prefix moved
//! from `/api` (≤1.13) to `/api/private` (1.14–1.15) to `/api/v0` (≥1.16),
//! and workspaces were `environments` before 1.20: each is tried in turn,
//! falling back on 404. Lists are read whether they come bare or in the
//! paged envelope `{"data": [...], "pager": {...}}` (pages followed by their
//! cursor).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use super::import::V1Importer;
use super::model::{V1Snapshot, V1Source};
use crate::coder::{ApiError, Body, Client, Decoded, Endpoint, ErrorKind, Idempotency, decode_json};
use crate::error::{Error, Result};
use crate::model::Warning;

/// The route prefixes of v1's REST API, newest first.
const PREFIXES: [&[&str]; 3] = [&["api", "v0"], &["api", "private"], &["api"]];

/// Pages followed at most (a server whose cursor never ends is cut off).
const MAX_PAGES: usize = 100_000;

/// What answered the probe: the route prefix, the signed-in user's name and
/// the server's version (`coder-version` header), when it sent one.
#[derive(Debug, Clone)]
pub struct Probe {
    prefix: Vec<String>,
    pub username: String,
    pub roles: Vec<String>,
    pub server_version: Option<String>,
}

/// Whether the deployment `client` talks to answers as Coder v1: the
/// signed-in user (`GET <prefix>/users/me`) under one of v1's prefixes, in
/// v1's shape. `Ok(None)` when every prefix answers 404 or the answer is not
/// a v1 user; other errors (401, a refused redirect, TLS) are returned.
pub fn probe(client: &Client) -> Result<Option<Probe>, ApiError> {
    for prefix in PREFIXES {
        let e = at(prefix, &["users", "me"]);
        let reply = client.send(Method::GET, &e, &Body::Empty, Idempotency::Idempotent, |response| {
            let version =
                response.headers().get("coder-version").and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
            match decode_json::<Value>(response) {
                Decoded::Done(v) => Decoded::Done((version, v)),
                Decoded::CutShort(why) => Decoded::CutShort(why),
                Decoded::Invalid(why) => Decoded::Invalid(why),
            }
        });
        let (version, me) = match reply {
            Ok(reply) => reply.value.unwrap_or((None, Value::Null)),
            Err(err) if err.is_not_found() => continue,
            // An HTML page or the like under a v1 path: not v1 here.
            Err(err) if matches!(err.kind.as_ref(), ErrorKind::Decode(_)) => continue,
            Err(err) => return Err(err),
        };
        let Some(user) = me
            .as_object()
            .filter(|o| o.get("username").is_some_and(Value::is_string) && o.get("roles").is_some_and(Value::is_array))
        else {
            continue;
        };
        let text = |k: &str| user.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let roles = user["roles"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from);
        return Ok(Some(Probe {
            prefix: prefix.iter().map(|s| s.to_string()).collect(),
            username: text("username"),
            roles: roles.collect(),
            server_version: version.filter(|v| !v.is_empty()),
        }));
    }
    Ok(None)
}

/// Read the v1 deployment `client` talks to (its token header must be
/// v1's) into a v1 snapshot. `page_size` is the `limit` of paged lists.
pub fn import_live(client: &Client, page_size: usize) -> Result<V1Snapshot> {
    let Some(probe) = probe(client)? else {
        return Err(Error::Api(format!(
            "{} does not answer as a Coder v1 deployment: none of /api/v0/users/me, /api/private/users/me and \
             /api/users/me returned a v1 user (is the URL the v1 deployment's access URL? for a Coder v2 \
             deployment, import without --coder-v1)",
            client.base_url()
        )));
    };
    let source =
        V1Source { kind: "live".into(), location: client.base_url(), server_version: probe.server_version.clone() };
    let mut reader = Reader { client, prefix: probe.prefix.clone(), page_size, importer: V1Importer::new(source) };
    let mut warnings = Vec::new();
    if !probe.roles.iter().any(|r| r == "site-admin" || r == "site-manager") {
        warnings.push(Warning::new(
            "not-site-admin",
            format!(
                "imported as `{}`, who is neither site admin nor site manager: v1 lists only what that account may \
                 see, so the snapshot may be missing users, organizations or workspaces",
                probe.username
            ),
        ));
    }

    reader.list(&["users"], &mut warnings)?;
    let orgs = reader.list(&["orgs"], &mut warnings)?;
    for org in ids(&orgs) {
        let images = reader.list_with(&["images"], &[("org", &org)], &mut warnings)?;
        reader.list_with(&["registries"], &[("org", &org)], &mut warnings)?;
        for image in ids(&images) {
            match reader.list(&["images", &image, "tags"], &mut warnings) {
                Ok(_) => {}
                Err(Failed::NotFound(e)) => warnings.push(unavailable("the tags of an image", &e)),
                Err(Failed::Other(e)) => return Err(e),
            }
        }
    }
    // `workspaces` from 1.20 on, `environments` before.
    let (kind, workspaces) = match reader.list(&["workspaces"], &mut warnings) {
        Ok(list) => ("workspaces", list),
        Err(Failed::NotFound(_)) => ("environments", reader.list(&["environments"], &mut warnings)?),
        Err(Failed::Other(e)) => return Err(e),
    };
    // Providers live under `/api/private` whatever the prefix (1.16 on).
    let pools = Endpoint::from_root(["api", "private", "resource-pools"]);
    match reader.read(&pools, &mut warnings) {
        Ok(_) => {}
        Err(Failed::NotFound(e)) => warnings.push(unavailable("workspace providers", &e)),
        Err(Failed::Other(e)) => return Err(e),
    }
    let mut devurls_missing = Vec::new();
    for id in ids(&workspaces) {
        match reader.list(&[kind, &id, "devurls"], &mut warnings) {
            Ok(_) => {}
            Err(Failed::NotFound(e)) => devurls_missing.push(e),
            Err(Failed::Other(e)) => return Err(e),
        }
    }
    if let Some(first) = devurls_missing.first() {
        warnings.push(Warning::new(
            "endpoint-unavailable",
            format!(
                "the dev URLs of {} workspaces not read: `{} {}` and the like answered 404 Not Found (dev URLs \
                 turned off, or workspaces deleted while importing)",
                devurls_missing.len(),
                first.method,
                first.path
            ),
        ));
    }

    let mut snap = reader.importer.finish();
    snap.warnings.extend(warnings);
    Ok(snap)
}

fn unavailable(what: &str, e: &ApiError) -> Warning {
    Warning::new(
        "endpoint-unavailable",
        format!("{what} not read: `{} {}` answered 404 Not Found (an older v1 release)", e.method, e.path),
    )
}

/// A path under a v1 prefix.
fn at(prefix: &[impl AsRef<str>], rest: &[&str]) -> Endpoint {
    Endpoint::from_root(prefix.iter().map(|s| s.as_ref().to_string()).chain(rest.iter().map(|s| s.to_string())))
}

/// The `id` of each object of a list.
fn ids(items: &[Value]) -> Vec<String> {
    items.iter().filter_map(|i| i.get("id")?.as_str().map(String::from)).collect()
}

enum Failed {
    /// 404: the caller decides whether that is an error.
    NotFound(ApiError),
    Other(Error),
}

impl From<Failed> for Error {
    fn from(f: Failed) -> Error {
        match f {
            Failed::NotFound(e) => e.into(),
            Failed::Other(e) => e,
        }
    }
}

struct Reader<'a> {
    client: &'a Client,
    prefix: Vec<String>,
    page_size: usize,
    importer: V1Importer,
}

impl Reader<'_> {
    fn list(&mut self, rest: &[&str], warnings: &mut Vec<Warning>) -> Result<Vec<Value>, Failed> {
        self.list_with(rest, &[], warnings)
    }

    /// A list under the prefix, every page of it; the objects read.
    fn list_with(
        &mut self,
        rest: &[&str],
        query: &[(&str, &str)],
        warnings: &mut Vec<Warning>,
    ) -> Result<Vec<Value>, Failed> {
        let mut e = at(&self.prefix, rest);
        for (k, v) in query {
            e = e.query(k, v);
        }
        self.read(&e, warnings)
    }

    /// GET `first` and the pages after it; each answer goes to the importer.
    fn read(&mut self, first: &Endpoint, warnings: &mut Vec<Warning>) -> Result<Vec<Value>, Failed> {
        let mut all = Vec::new();
        let mut seen = BTreeSet::new();
        let mut endpoint = first.clone();
        for _ in 0..MAX_PAGES {
            let body: Value = match self.client.get(&endpoint) {
                Ok(v) => v,
                Err(e) if e.is_not_found() => return Err(Failed::NotFound(e)),
                Err(e) => return Err(Failed::Other(e.into())),
            };
            let next = next_cursor(&body);
            let total = body.pointer("/pager/total").and_then(Value::as_u64);
            let bytes = serde_json::to_vec(&body).map_err(|e| Failed::Other(Error::Api(e.to_string())))?;
            let name = endpoint.path();
            if let Err(bad) = self.importer.add(&name, &bytes) {
                let kind = ErrorKind::Decode(bad.to_string());
                return Err(Failed::Other(self.client.api_error(&Method::GET, &endpoint, kind).into()));
            }
            let items = match body {
                Value::Array(items) => items,
                Value::Object(mut o) => match o.remove("data").or_else(|| o.remove("kubernetes")) {
                    Some(Value::Array(items)) => items,
                    _ => vec![Value::Object(o)],
                },
                _ => Vec::new(),
            };
            let empty = items.is_empty();
            all.extend(items);
            let Some(after) = next.filter(|_| !empty) else {
                if let Some(total) = total.filter(|t| (all.len() as u64) < *t) {
                    warnings.push(Warning::new(
                        "incomplete-pages",
                        format!(
                            "`{}` reported {total} items but its pages held {}: the deployment changed while \
                             importing; import again",
                            first.path(),
                            all.len()
                        ),
                    ));
                }
                return Ok(all);
            };
            if !seen.insert(after.clone()) {
                warnings.push(Warning::new(
                    "incomplete-pages",
                    format!(
                        "`{}`: the server gave the cursor `{after}` twice; stopped reading its pages",
                        first.path()
                    ),
                ));
                return Ok(all);
            }
            endpoint = first.clone().query("limit", self.page_size).query("after", &after);
        }
        Ok(all)
    }
}

/// The cursor of the next page of a paged envelope: there is one when the
/// pager says `next` (anything but null, false or ""), and it is the
/// pager's `cursor.after`, else the last item's `id`.
fn next_cursor(body: &Value) -> Option<String> {
    let pager = body.get("pager")?;
    let more = match pager.get("next") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    };
    if !more {
        return None;
    }
    let cursor = pager.pointer("/cursor/after").and_then(Value::as_str).filter(|s| !s.is_empty());
    let last = || body.get("data")?.as_array()?.last()?.get("id")?.as_str();
    cursor.or_else(last).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_continue_while_the_pager_says_next() {
        let page = |next: Value, after: Value| json!({"data": [{"id": "a"}, {"id": "b"}], "pager": {"next": next, "cursor": {"after": after}}});
        assert_eq!(next_cursor(&page(json!("/api/v0/users?after=c"), json!("c"))).as_deref(), Some("c"));
        assert_eq!(next_cursor(&page(json!(true), json!(null))).as_deref(), Some("b"));
        assert_eq!(next_cursor(&page(json!(null), json!("c"))), None);
        assert_eq!(next_cursor(&page(json!(""), json!("c"))), None);
        assert_eq!(next_cursor(&json!([{"id": "a"}])), None);
    }
}
