//! Reading answers: bodies decoded as they stream in (a body cut short is
//! told apart from a wrong one, since only the first is worth another try),
//! and error answers turned into what `ApiError` shows.

use std::io::{BufReader, Read};

use reqwest::blocking::Response;
use serde::de::DeserializeOwned;

use super::client::Decoded;
use super::error::ErrorKind;
use super::types::Response as ErrorBody;

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
pub(crate) fn error_status(status: u16, response: Response) -> ErrorKind {
    if (300..400).contains(&status) {
        let location = response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok());
        return ErrorKind::Redirect { status, location: location.unwrap_or("an unnamed place").to_string() };
    }
    let mut bytes = Vec::new();
    let _ = response.take(64 * 1024).read_to_end(&mut bytes);
    if let Some(body) = v1_error(&bytes) {
        return ErrorKind::Status { status, body: Some(body), text: None };
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => ErrorKind::Status { status, body: Some(body), text: None },
        Err(_) => {
            let text: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
            ErrorKind::Status { status, body: None, text: Some(text) }
        }
    }
}

/// A Coder v1 error body, `{"error": {"msg": ..., "code": ..., "details": ...}}`,
/// as the message and detail v2's `codersdk.Response` has.
fn v1_error(bytes: &[u8]) -> Option<ErrorBody> {
    #[derive(serde::Deserialize)]
    struct V1 {
        error: V1Error,
    }
    #[derive(serde::Deserialize)]
    struct V1Error {
        msg: String,
        #[serde(default)]
        code: String,
    }
    let v1: V1 = serde_json::from_slice(bytes).ok()?;
    Some(ErrorBody { message: v1.error.msg, detail: v1.error.code, ..ErrorBody::default() })
}

/// Classify a failed send: the kind of error, and whether the request may
/// have reached the server (a connect error means it did not).
pub(crate) fn transport_error(e: &reqwest::Error) -> (ErrorKind, bool) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_error_bodies_give_their_message_and_code() {
        let body = v1_error(br#"{"error":{"msg":"user not found","code":"not_found","details":null}}"#).unwrap();
        assert_eq!((body.message.as_str(), body.detail.as_str()), ("user not found", "not_found"));
        assert!(v1_error(br#"{"message":"v2"}"#).is_none());
    }

    #[test]
    fn reqwest_urls_are_not_repeated() {
        assert_eq!(
            strip_url("error sending request for url (http://127.0.0.1:9/api/v2/x): connection refused"),
            "error sending request: connection refused"
        );
        assert_eq!(strip_url("timed out"), "timed out");
    }
}
