//! What went wrong talking to the Coder API, in words an admin can act on:
//! the request, the status, the server's own message (`codersdk.Response`:
//! message, detail, validations), and for 401 and 403 what to do about it.
//! Never the session token: requests carry it only in a header, and nothing
//! here reads headers.

use std::fmt;

use super::permissions;
use super::secret::TOKEN_ENV;
use super::types::Response;

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// The server answered with an error status.
    Status {
        status: u16,
        /// The `codersdk.Response` body, when the body was one.
        body: Option<Response>,
        /// The start of a body that was not a `codersdk.Response` (a proxy's HTML page, say).
        text: Option<String>,
    },
    /// No answer: connection refused or reset, DNS, a timeout, a body cut short.
    Transport(String),
    /// The server's certificate was not trusted.
    Tls(String),
    /// The answer arrived whole but is not what the endpoint answers.
    Decode(String),
    /// The server asked to wait longer than orgsplit is willing to (`Retry-After`).
    RetryAfterTooLong { seconds: u64 },
    /// A redirect, not followed: it would carry the token header along.
    Redirect { status: u16, location: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub method: String,
    /// Path and query, e.g. `/api/v2/users?limit=500&offset=0`.
    pub path: String,
    /// The deployment URL (scheme, host, port), for messages.
    pub base: String,
    pub kind: Box<ErrorKind>,
    /// How many times the request was sent.
    pub attempts: u32,
    /// A write whose answer was lost (a dropped connection, a 502/504 from a
    /// proxy) may have been carried out. Check the server's state before
    /// trying again; the `ensure_*` helpers do.
    pub maybe_applied: bool,
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self.kind.as_ref() {
            ErrorKind::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's `codersdk.Response`, if it sent one.
    pub fn response(&self) -> Option<&Response> {
        match self.kind.as_ref() {
            ErrorKind::Status { body, .. } => body.as_ref(),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// A request to a Coder v1 deployment (`/api/v0/...`, `/api/private/...`).
    fn is_v1(&self) -> bool {
        self.path.starts_with("/api/") && !self.path.starts_with("/api/v2/")
    }

    fn what_to_do_v1(&self, status: u16) -> Option<String> {
        match status {
            401 => Some(format!(
                "the Coder v1 server did not accept the session token: it is missing, wrong or expired. Create an \
                 API token with the v1 CLI (`coder login {}`, then `coder tokens create orgsplit`) and put it in \
                 {TOKEN_ENV}",
                self.base
            )),
            403 => Some(
                "the token's account lacks the permission to read this: reading every user and workspace of a v1 \
                 deployment takes a site admin or site manager"
                    .to_string(),
            ),
            404 => Some("not found: this v1 release does not serve this path, or the object is gone".to_string()),
            _ => None,
        }
    }

    fn what_to_do(&self, status: u16) -> Option<String> {
        if self.is_v1()
            && let Some(help) = self.what_to_do_v1(status)
        {
            return Some(help);
        }
        match status {
            401 => Some(format!(
                "the Coder server did not accept the session token: it is missing, wrong or expired. Log in \
                 (`coder login {}`), create a token (`coder tokens create`) and put it in {TOKEN_ENV}",
                self.base
            )),
            403 => Some(match permissions::needed(&self.method, &self.path) {
                Some(needed) => format!("the token's account lacks the permission to {needed}"),
                None => "the token's account lacks the permission this request needs".to_string(),
            }),
            404 => Some(
                "not found: it does not exist, this Coder release does not have this endpoint, or the token's \
                 account may not see it (Coder answers 404 rather than 403 for things you cannot read)"
                    .to_string(),
            ),
            412 if self.path.contains("/groups/") => Some(
                "a user joins a group only once, and only after joining the group's organization (add them to \
                 the organization first)"
                    .to_string(),
            ),
            412 | 409 | 400 => None,
            429 => {
                Some("the server kept rate-limiting the requests; try again later with a lower --concurrency".into())
            }
            500..=599 => Some(format!("the server failed{}", self.after_attempts())),
            _ => None,
        }
    }

    fn after_attempts(&self) -> String {
        if self.attempts > 1 { format!(" (tried {} times)", self.attempts) } else { String::new() }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}{}: ", self.method, self.base, self.path)?;
        match self.kind.as_ref() {
            ErrorKind::Status { status, body, text } => {
                write!(f, "{status} {}", reason(*status))?;
                if let Some(help) = self.what_to_do(*status) {
                    write!(f, ": {help}")?;
                }
                if let Some(said) = body.as_ref().and_then(server_said) {
                    write!(f, ". The server said: {said}")?;
                } else if let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) {
                    write!(f, ". The answer was not a Coder error body; it starts: {}", text.trim())?;
                }
            }
            ErrorKind::Transport(cause) => {
                write!(f, "no complete answer from the server{}: {cause}", self.after_attempts())?;
            }
            ErrorKind::Tls(cause) => write!(
                f,
                "the server's TLS certificate is not trusted: {cause} (if the deployment uses a private certificate \
                 authority, pass its certificate with --ca-cert FILE)"
            )?,
            ErrorKind::Decode(cause) => write!(
                f,
                "the answer is not what this endpoint returns: {cause} (is the URL a Coder deployment, and of a \
                 release orgsplit knows?)"
            )?,
            ErrorKind::Redirect { status, location } => {
                let base = location.split("/api/").next().unwrap_or(location);
                write!(
                    f,
                    "{status} {}: the server sends orgsplit to {location}; if that is the deployment, use --url {base} \
                     (orgsplit does not follow redirects, which would carry the session token along)",
                    reason(*status)
                )?
            }
            ErrorKind::RetryAfterTooLong { seconds } => write!(
                f,
                "the server is rate-limiting requests and asked to wait {seconds} seconds; try again later with a \
                 lower --concurrency"
            )?,
        }
        if self.maybe_applied {
            write!(f, " (the change may have been made before the answer was lost: check before retrying)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for crate::error::Error {
    fn from(e: ApiError) -> crate::error::Error {
        crate::error::Error::Api(e.to_string())
    }
}

/// `message (detail); field `f`: detail; ...`, from a `codersdk.Response`.
fn server_said(r: &Response) -> Option<String> {
    let mut parts = Vec::new();
    let message = r.message.trim().trim_end_matches('.');
    let detail = r.detail.trim().trim_end_matches('.');
    match (message.is_empty(), detail.is_empty()) {
        (false, false) => parts.push(format!("{message} ({detail})")),
        (false, true) => parts.push(message.to_string()),
        (true, false) => parts.push(detail.to_string()),
        (true, true) => {}
    }
    for v in &r.validations {
        parts.push(format!("field `{}`: {}", v.field, v.detail.trim_end_matches('.')));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coder::types::ValidationError;

    fn status(method: &str, path: &str, status: u16, body: Option<Response>) -> ApiError {
        ApiError {
            method: method.into(),
            path: path.into(),
            base: "https://coder.example.com".into(),
            kind: Box::new(ErrorKind::Status { status, body, text: None }),
            attempts: 1,
            maybe_applied: false,
        }
    }

    #[test]
    fn the_servers_words_are_shown_with_validations() {
        let body = Response {
            message: "Validation failed.".into(),
            detail: String::new(),
            validations: vec![ValidationError { field: "name".into(), detail: "Must be a valid name.".into() }],
        };
        let e = status("POST", "/api/v2/organizations", 400, Some(body));
        assert_eq!(
            e.to_string(),
            "POST https://coder.example.com/api/v2/organizations: 400 Bad Request. The server said: Validation \
             failed; field `name`: Must be a valid name"
        );
    }

    #[test]
    fn unauthorized_says_how_to_get_a_token() {
        let body = Response { message: "You must be logged in.".into(), ..Default::default() };
        let e = status("GET", "/api/v2/users?limit=500&offset=0", 401, Some(body)).to_string();
        assert!(e.contains("401 Unauthorized: the Coder server did not accept the session token"), "{e}");
        assert!(e.contains("coder login https://coder.example.com") && e.contains("CODER_SESSION_TOKEN"), "{e}");
        assert!(e.ends_with("The server said: You must be logged in"), "{e}");
    }

    #[test]
    fn v1_errors_say_how_to_get_a_v1_token() {
        let body =
            Response { message: "authentication required".into(), detail: "unauthorized".into(), ..Default::default() };
        let e = status("GET", "/api/v0/users", 401, Some(body)).to_string();
        assert!(e.contains("401 Unauthorized: the Coder v1 server did not accept the session token"), "{e}");
        assert!(e.contains("coder tokens create orgsplit") && e.contains("CODER_SESSION_TOKEN"), "{e}");
        assert!(e.ends_with("The server said: authentication required (unauthorized)"), "{e}");
        let e = status("GET", "/api/v2/users", 401, None).to_string();
        assert!(!e.contains("v1"), "{e}");
    }

    #[test]
    fn forbidden_names_the_missing_permission() {
        let e = status("POST", "/api/v2/organizations", 403, None).to_string();
        assert!(e.contains("403 Forbidden: the token's account lacks the permission to create organizations"), "{e}");
        assert!(e.contains("`organization:create`") && e.contains("`owner`"), "{e}");
    }

    #[test]
    fn a_lost_answer_to_a_write_says_so() {
        let mut e = status("POST", "/api/v2/organizations", 502, None);
        e.attempts = 1;
        e.maybe_applied = true;
        assert!(
            e.to_string()
                .ends_with("(the change may have been made before the answer was lost: check before retrying)")
        );
    }
}
