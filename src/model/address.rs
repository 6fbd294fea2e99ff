//! The deployment's own address: where its users and the coder CLI reach it.
//!
//! Build info's `external_url` is a link to Coder's source (a release or a
//! commit on GitHub), never the deployment: it is not used here. The address
//! is the URL a live import read the deployment from, else the one the admin
//! gave (`--deployment-url`), else what the deployment reports for itself
//! (build info's `dashboard_url`, or the primary region's URL, which is the
//! access URL). Everything read from a deployment is checked before it is
//! used: only an http(s) URL without credentials, query or fragment counts.

use reqwest::Url;

use super::Snapshot;

/// The name Coder gives the primary region in `GET /api/v2/regions` and
/// `GET /api/v2/workspaceproxies` (its `path_app_url` is the access URL).
const PRIMARY_REGION: &str = "primary";

impl Snapshot {
    /// The deployment's address, if known (see the module doc). Snapshots
    /// written before `source.deployment_url` existed get the same answer
    /// from what they hold.
    pub fn deployment_url(&self) -> Option<String> {
        if let Some(url) = self.source.deployment_url.as_deref().and_then(normalise) {
            return Some(url);
        }
        if self.source.kind == "api"
            && let Some(url) = normalise(&self.source.location)
        {
            return Some(url);
        }
        self.self_reported_url()
    }

    /// What the deployment says its address is: build info's `dashboard_url`,
    /// else the primary region's URL.
    pub fn self_reported_url(&self) -> Option<String> {
        let dashboard = self.build_info.as_ref().and_then(|b| normalise(&b.dashboard_url));
        dashboard.or_else(|| {
            self.workspace_proxies
                .iter()
                .filter(|p| p.name == PRIMARY_REGION && !p.deleted)
                .find_map(|p| normalise(&p.path_app_url))
        })
    }
}

/// `text` as a deployment address: an http(s) URL with a host and without
/// credentials, query or fragment, without a trailing slash. None otherwise.
pub fn normalise(text: &str) -> Option<String> {
    let url = parse(text)?;
    Some(url.as_str().trim_end_matches('/').to_string())
}

/// Whether two addresses name the same deployment: the same scheme, host,
/// port (a default port written out or not) and path (with or without a
/// trailing slash). An address that is not a valid one is the same as none.
pub fn same_deployment(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
                && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
        }
        _ => false,
    }
}

fn parse(text: &str) -> Option<Url> {
    let text = text.trim();
    // A control character has no place in an address (and would reach scripts and notices).
    if text.is_empty() || text.chars().any(char::is_control) {
        return None;
    }
    let url = Url::parse(text).ok()?;
    let plain = url.username().is_empty() && url.password().is_none() && url.query().is_none();
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some() && plain && url.fragment().is_none())
        .then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BuildInfo, Source, WorkspaceProxy};

    #[test]
    fn addresses_are_checked_and_normalised() {
        for (have, want) in [
            ("https://coder.example.com/", Some("https://coder.example.com")),
            ("  https://Coder.Example.com:443/x/ ", Some("https://coder.example.com/x")),
            ("http://127.0.0.1:3000", Some("http://127.0.0.1:3000")),
            ("", None),
            ("coder.example.com", None),
            ("ftp://coder.example.com", None),
            ("javascript:alert(1)", None),
            ("https://user:pw@coder.example.com", None),
            ("https://coder.example.com/?a=b", None),
            ("https://coder.example.com/#x", None),
            ("https://coder.example.com/\n; rm -rf ~", None),
        ] {
            assert_eq!(normalise(have).as_deref(), want, "{have:?}");
        }
    }

    #[test]
    fn the_same_deployment_is_scheme_host_port_and_path() {
        for (a, b, want) in [
            ("https://coder.example.com", "https://coder.example.com/", true),
            ("https://coder.example.com:443", "https://CODER.example.com", true),
            ("http://coder.example.com:80/", "http://coder.example.com", true),
            ("https://coder.example.com/coder/", "https://coder.example.com/coder", true),
            ("https://coder.example.com", "http://coder.example.com", false),
            ("https://coder.example.com", "https://coder.example.com:8443", false),
            ("https://coder.example.com", "https://evil.example.com", false),
            ("https://coder.example.com", "https://coder.example.com/other", false),
            ("https://coder.example.com", "", false),
        ] {
            assert_eq!(same_deployment(a, b), want, "{a} {b}");
        }
    }

    #[test]
    fn the_address_is_never_the_link_to_coders_source() {
        let github = "https://github.com/coder/coder/commit/8a7b6c5";
        let mut s = Snapshot {
            build_info: Some(BuildInfo { external_url: github.into(), ..BuildInfo::default() }),
            ..Snapshot::default()
        };
        assert_eq!(s.deployment_url(), None, "external_url alone says nothing of the address");
        s.workspace_proxies.push(WorkspaceProxy {
            name: "primary".into(),
            path_app_url: "https://access.example.com/".into(),
            ..WorkspaceProxy::default()
        });
        assert_eq!(s.deployment_url().as_deref(), Some("https://access.example.com"));
        s.build_info.as_mut().unwrap().dashboard_url = "https://coder.example.com".into();
        assert_eq!(s.deployment_url().as_deref(), Some("https://coder.example.com"));
        s.source = Source { kind: "api".into(), location: "http://127.0.0.1:7080".into(), ..Source::default() };
        assert_eq!(s.deployment_url().as_deref(), Some("http://127.0.0.1:7080"), "an older live snapshot");
        s.source.deployment_url = Some("https://given.example.com/".into());
        assert_eq!(s.deployment_url().as_deref(), Some("https://given.example.com"));
    }
}
