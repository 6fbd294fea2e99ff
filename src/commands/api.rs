//! Reaching a Coder deployment from the command line (for `import --url`
//! and the commands that change a deployment): the URL from `--url` or
//! `CODER_URL`, the token from `CODER_SESSION_TOKEN`, as the coder CLI reads
//! them, and the `ApiArgs` options (CA, timeout, retries).

use std::time::Duration;

use crate::cli::ApiArgs;
use crate::coder::{Client, ClientConfig, RetryPolicy, SessionToken};
use crate::error::{Error, Result};

/// `--url`, else `CODER_URL` (clap reads both into the one value); blank is none.
pub fn deployment_url(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_string).filter(|u| !u.trim().is_empty())
}

/// `--deployment-url`, checked: an http(s) address without credentials,
/// query or fragment, without a trailing slash.
pub fn given_deployment_url(flag: Option<&str>) -> Result<Option<String>> {
    let Some(text) = flag else { return Ok(None) };
    crate::coder::check_url(text)?;
    match crate::model::address::normalise(text) {
        Some(url) => Ok(Some(url)),
        None => Err(Error::Usage(
            "--deployment-url holds a control character: give the address as https://coder.example.com".into(),
        )),
    }
}

/// Set the snapshot's deployment address from `--deployment-url`, if given.
pub fn override_deployment_url(snapshot: &mut crate::model::Snapshot, flag: Option<&str>) -> Result<()> {
    if let Some(url) = given_deployment_url(flag)? {
        snapshot.source.deployment_url = Some(url);
    }
    Ok(())
}

/// A client for the deployment at `url`, with the token from the environment.
pub fn connect(url: &str, api: &ApiArgs) -> Result<Client> {
    connect_with_header(url, api, crate::coder::TOKEN_HEADER)
}

/// [`connect`], with the token in `header` (`Session-Token` for Coder v1).
pub fn connect_with_header(url: &str, api: &ApiArgs, header: &'static str) -> Result<Client> {
    // A missing or broken token is the environment, not the command line: exit 1, not 64.
    let token = SessionToken::from_env().map_err(Error::Refused)?;
    let mut config = ClientConfig::new(url, token);
    config.token_header = header;
    config.ca_cert = api.ca_cert.clone();
    config.timeout = Duration::from_secs(api.timeout);
    config.retry = RetryPolicy { retries: api.retries, ..RetryPolicy::default() };
    let client = Client::new(config)?;
    if client.base_url().starts_with("http://") && !is_loopback(&client.base_url()) {
        super::note("the deployment URL is http://: the session token travels unencrypted");
    }
    Ok(client)
}

fn is_loopback(url: &str) -> bool {
    let host = url.trim_start_matches("http://").split(['/', ':']).next().unwrap_or_default();
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for (url, want) in [
            ("http://127.0.0.1:3000", true),
            ("http://localhost/x", true),
            ("http://10.0.0.1", false),
            ("http://coder.example.com", false),
        ] {
            assert_eq!(is_loopback(url), want, "{url}");
        }
    }
}
