//! What the client needs to reach a deployment, checked: the URL (http or
//! https, no credentials), the token, an extra CA, timeouts and retries.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use super::retry::{RetryPolicy, Sleep, ThreadSleep};
use super::secret::SessionToken;
use crate::error::{Error, Result};

/// Everything needed to talk to one deployment.
#[derive(Clone)]
pub struct ClientConfig {
    /// The deployment URL, e.g. `https://coder.example.com`.
    pub url: String,
    pub token: SessionToken,
    /// The header the token travels in: `Coder-Session-Token` (v2), or
    /// `Session-Token` for a Coder v1 deployment.
    pub token_header: &'static str,
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
            token_header: super::client::TOKEN_HEADER,
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

/// The deployment URL: http or https, no credentials, query or fragment.
pub(crate) fn parse_base(text: &str) -> Result<Url> {
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

/// Check a deployment address the admin typed, with the messages a bad
/// `--url` gets.
pub fn check_url(text: &str) -> Result<()> {
    parse_base(text).map(|_| ())
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
pub(crate) fn read_ca(path: &PathBuf) -> Result<Vec<reqwest::Certificate>> {
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
        let client = super::super::Client::new(config).unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }
}
