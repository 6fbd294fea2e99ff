//! Secrets: the session token, and secrets the server hands back (a new
//! provisioner key). They have no `Display`, their `Debug` is redacted, they
//! are never serialised, and the only way to the text is [`Secret::expose`],
//! so a secret cannot reach a message, a log line or a file by accident.

use std::fmt;

use reqwest::header::HeaderValue;

/// The environment variable the coder CLI reads the session token from.
pub const TOKEN_ENV: &str = "CODER_SESSION_TOKEN";
/// The environment variable the coder CLI reads the deployment URL from.
pub const URL_ENV: &str = "CODER_URL";

/// A secret string.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The secret itself. Call this only where the secret must go (a header,
    /// or shown once to the person who asked for it), never to build a message.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// The session token, sent as the `Coder-Session-Token` header.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(Secret);

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl SessionToken {
    /// A token from its text. The error never repeats the text.
    pub fn new(text: impl Into<String>) -> Result<SessionToken, String> {
        let text = text.into();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(format!("{TOKEN_ENV} is empty"));
        }
        // Coder tokens are `<id>-<secret>` in letters and digits; anything
        // else is a copy-and-paste accident, and some of it cannot go in a header.
        if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "{TOKEN_ENV} holds characters a session token does not have (a space, a line break or a \
                 non-ASCII character)"
            ));
        }
        Ok(SessionToken(Secret(trimmed.to_string())))
    }

    /// The token from `CODER_SESSION_TOKEN`, as the coder CLI reads it.
    pub fn from_env() -> Result<SessionToken, String> {
        match std::env::var(TOKEN_ENV) {
            Ok(text) => SessionToken::new(text),
            Err(std::env::VarError::NotPresent) => Err(format!("{TOKEN_ENV} is not set")),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{TOKEN_ENV} is not valid UTF-8")),
        }
        .map_err(|problem| {
            format!(
                "{problem}: orgsplit reads the Coder session token from it, as the coder CLI does (create one with \
                 `coder tokens create` after `coder login`, then `export {TOKEN_ENV}=...`)"
            )
        })
    }

    /// The header value, marked sensitive so HTTP libraries never print it.
    pub(crate) fn header_value(&self) -> HeaderValue {
        // `new` checked that the text is a valid header value.
        let mut value = HeaderValue::from_str(self.0.expose()).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let t = SessionToken::new("abcdEFGH12-s3cr3ts3cr3ts3cr3ts3cr3t").unwrap();
        assert_eq!(format!("{t:?}"), "SessionToken(<redacted>)");
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
        assert!(format!("{:?}", t.header_value()).contains("Sensitive"), "{:?}", t.header_value());
    }

    #[test]
    fn bad_tokens_are_refused_without_repeating_them() {
        for bad in ["", "   ", "line\nbreak-s3cr3t", "caf\u{e9}-s3cr3t"] {
            let err = SessionToken::new(bad).unwrap_err();
            assert!(!err.contains("s3cr3t"), "{err}");
            assert!(err.starts_with(TOKEN_ENV), "{err}");
        }
        assert_eq!(SessionToken::new(" tok \n").unwrap().0.expose(), "tok", "surrounding blanks are trimmed");
    }
}
