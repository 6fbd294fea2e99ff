//! An API path with its query, built from segments so names with spaces or
//! slashes are percent-encoded, never pasted into a URL by hand.

use std::fmt;

use reqwest::Url;

/// A path under `/api/v2` and a query, e.g. `users?limit=500&offset=0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    /// Under the deployment URL itself rather than `/api/v2` (Coder v1's
    /// `/api/v0/...` and `/api/private/...` paths).
    from_root: bool,
    segments: Vec<String>,
    query: Vec<(String, String)>,
}

impl Endpoint {
    pub fn new<I, S>(segments: I) -> Endpoint
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Endpoint {
            from_root: false,
            segments: segments.into_iter().map(|s| s.as_ref().to_string()).collect(),
            query: Vec::new(),
        }
    }

    /// A path under the deployment URL itself, not under `/api/v2`: Coder
    /// v1's routes (`["api", "v0", "users"]`).
    pub fn from_root<I, S>(segments: I) -> Endpoint
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Endpoint { from_root: true, ..Endpoint::new(segments) }
    }

    pub fn query(mut self, key: &str, value: impl fmt::Display) -> Endpoint {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The full URL under `base` (which ends without a slash or with one).
    pub fn url(&self, base: &Url) -> Url {
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            if !self.from_root {
                path.extend(["api", "v2"]);
            }
            path.extend(&self.segments);
        }
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        url
    }

    /// `/api/v2/...?...` as sent, for messages and saved-response envelopes.
    pub fn path(&self) -> String {
        // Any base does: only the path and query are kept.
        let base = Url::parse("http://x/").expect("a constant URL parses");
        let url = self.url(&base);
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// `Endpoint::new([...])` with any mix of `&str` and `String` segments.
#[macro_export]
macro_rules! endpoint {
    ($($segment:expr),* $(,)?) => {
        $crate::coder::Endpoint::new([$(AsRef::<str>::as_ref(&$segment)),*])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_and_the_query_kept_in_order() {
        let e = Endpoint::new(["organizations", "my org", "groups", "a/b"]).query("q", "deprecated:true").query("x", 1);
        assert_eq!(e.path(), "/api/v2/organizations/my%20org/groups/a%2Fb?q=deprecated%3Atrue&x=1");
        let base = Url::parse("https://coder.example.com/").unwrap();
        assert_eq!(
            endpoint!["users", String::from("me")].url(&base).as_str(),
            "https://coder.example.com/api/v2/users/me"
        );
        let prefixed = Url::parse("https://example.com/coder").unwrap();
        assert_eq!(Endpoint::new(["buildinfo"]).url(&prefixed).as_str(), "https://example.com/coder/api/v2/buildinfo");
        let v1 = Endpoint::from_root(["api", "v0", "images"]).query("org", "default");
        assert_eq!(v1.url(&prefixed).as_str(), "https://example.com/coder/api/v0/images?org=default");
        assert_eq!(v1.path(), "/api/v0/images?org=default");
    }
}
