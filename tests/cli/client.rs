//! The API client against the fake Coder: retries and their bounds,
//! `Retry-After`, bodies cut short, writes whose answer is lost, and the
//! messages for 401, 403 and server errors.

use std::time::Duration;

use orgsplit::coder::requests::CreateOrganizationRequest;
use orgsplit::coder::{ApiError, Client, ClientConfig, ErrorKind, RetryPolicy, SessionToken};

use fake_coder::{FakeCoder, Fault};

fn fake() -> FakeCoder {
    FakeCoder::start(fake_coder::megaco())
}

fn org(name: &str) -> CreateOrganizationRequest {
    CreateOrganizationRequest { name: name.into(), ..Default::default() }
}

#[test]
fn rate_limits_are_retried_after_what_retry_after_says() {
    let fake = fake();
    fake.script("GET", "/api/v2/users/me", Fault::TooManyRequests { retry_after: 7 }, 2);
    let (client, waits) = fake.client();
    assert!(!client.me().unwrap().username.is_empty());
    let waits = waits.all();
    assert_eq!(waits.len(), 2);
    assert!(waits.iter().all(|w| *w >= Duration::from_secs(7) && *w < Duration::from_secs(12)), "{waits:?}");
    assert_eq!(fake.log().len(), 3);
}

#[test]
fn a_rate_limit_asking_too_long_is_an_error_not_a_wait() {
    let fake = fake();
    fake.script("GET", "/api/v2/users/me", Fault::TooManyRequests { retry_after: 3600 }, 1);
    let (client, waits) = fake.client();
    let e = client.me().unwrap_err();
    assert!(matches!(*e.kind, ErrorKind::RetryAfterTooLong { seconds: 3600 }), "{e:?}");
    assert!(e.to_string().contains("asked to wait 3600 seconds"), "{e}");
    assert!(waits.all().is_empty());
}

#[test]
fn gateway_errors_are_retried_a_bounded_number_of_times() {
    let fake = fake();
    fake.script("GET", "/api/v2/organizations", Fault::Status(502), 100);
    let (client, waits) = fake.client();
    let e = client.organizations().unwrap_err();
    assert_eq!(fake.log().len(), 6, "the first try and 5 retries");
    let backoff: Vec<Duration> = waits.all();
    assert_eq!(backoff.len(), 5);
    assert!(backoff.windows(2).all(|w| w[1] > w[0] / 2), "the waits grow: {backoff:?}");
    let text = e.to_string();
    assert!(text.contains("502 Bad Gateway: the server failed (tried 6 times)"), "{text}");
    assert!(text.contains("not a Coder error body; it starts: <html>"), "{text}");
}

#[test]
fn a_body_cut_short_is_read_again() {
    let fake = fake();
    fake.script("GET", "/api/v2/users?", Fault::CutBody, 2);
    let (client, _) = fake.client();
    let page: orgsplit::coder::types::GetUsersResponse =
        client.get(&orgsplit::endpoint!["users"].query("limit", 50)).unwrap();
    assert_eq!(page.users.len(), 50);
    assert_eq!(fake.log().iter().filter(|r| r.fault == Some(Fault::CutBody)).count(), 2);
}

#[test]
fn other_errors_are_not_retried_and_show_the_servers_words() {
    let fake = fake();
    let (client, waits) = fake.client();
    let e = client.create_organization(&org("not a valid name")).unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.attempts, 1);
    assert!(e.to_string().contains("The server said: Validation failed; field `name`: "), "{e}");
    let e = client.template("00000000-0000-0000-0000-00000000abcd").unwrap_err();
    assert!(e.is_not_found() && e.to_string().contains("404 Not Found"), "{e}");
    assert_eq!(fake.log().len(), 2);
    assert!(waits.all().is_empty());
}

#[test]
fn a_create_whose_answer_is_lost_is_not_sent_twice() {
    let fake = fake();
    let (client, _) = fake.client();
    fake.script("POST", "/api/v2/organizations", Fault::CutBody, 1);
    let e = client.create_organization(&org("raptix")).unwrap_err();
    assert!(e.maybe_applied, "{e:?}");
    assert!(e.to_string().contains("the connection closed before the whole answer arrived"), "{e}");
    assert!(e.to_string().contains("may have been made"), "{e}");
    fake.script("POST", "/api/v2/organizations", Fault::Status(504), 1);
    let e = client.create_organization(&org("mlbox")).unwrap_err();
    assert!(e.maybe_applied && e.attempts == 1, "{e:?}");
    let posts = fake.log().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 2, "neither create was resent");
    // The first was carried out; ensure finds it rather than creating it again.
    let raptix = client.ensure_organization(&org("raptix")).unwrap();
    assert!(!raptix.created());
    assert_eq!(fake.snapshot().organizations.iter().filter(|o| o.name == "raptix").count(), 1);
}

#[test]
fn a_rate_limited_create_is_retried_because_it_was_not_done() {
    let fake = fake();
    fake.script("POST", "/api/v2/organizations", Fault::TooManyRequests { retry_after: 1 }, 1);
    let (client, _) = fake.client();
    client.create_organization(&org("raptix")).unwrap();
    assert_eq!(fake.snapshot().organizations.iter().filter(|o| o.name == "raptix").count(), 1);
}

#[test]
fn a_refused_token_says_how_to_get_one_and_is_never_repeated() {
    let fake = fake();
    let (client, _) = fake.client_with("Wr0ngT0ken1-notavalidsecretatall00");
    let e = client.me().unwrap_err().to_string();
    assert!(e.contains("401 Unauthorized: the Coder server did not accept the session token"), "{e}");
    assert!(e.contains(&format!("`coder login {}`", fake.url())) && e.contains("CODER_SESSION_TOKEN"), "{e}");
    assert!(!e.contains("Wr0ngT0ken1"), "{e}");
}

#[test]
fn forbidden_says_which_permission_is_missing() {
    let fake = fake();
    fake.forbid("GET", "/organizations/");
    let (client, _) = fake.client();
    let org = &fake.snapshot().organizations[0].id;
    let e = client.organization_members(org).unwrap_err().to_string();
    assert!(
        e.contains(
            "403 Forbidden: the token's account lacks the permission to read the organization's members \
                    (`organization_member:read`"
        ),
        "{e}"
    );
    assert!(e.ends_with("The server said: Forbidden (You don't have permission to view this content)"), "{e}");
}

#[test]
fn redirects_are_not_followed_so_the_token_stays_home() {
    let (fake, elsewhere) = (fake(), fake());
    fake.redirect_to(&elsewhere.url());
    let (client, _) = fake.client();
    let e = client.me().unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "307 Temporary Redirect: the server sends orgsplit to {}/api/v2/users/me",
            elsewhere.url()
        )),
        "{e}"
    );
    assert!(e.contains(&format!("use --url {}", elsewhere.url())), "{e}");
    assert_eq!(elsewhere.requests(), 0, "the token never went to the other server");
}

#[test]
fn a_server_that_is_down_is_retried_then_explained() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let waits = std::sync::Arc::new(fake_coder::Waits::default());
    let mut config = ClientConfig::new(format!("http://127.0.0.1:{port}"), SessionToken::new("abc-def").unwrap());
    config.sleep = waits.clone();
    config.retry = RetryPolicy { retries: 2, ..RetryPolicy::default() };
    let e: ApiError = Client::new(config).unwrap().me().unwrap_err();
    assert_eq!(e.attempts, 3);
    assert_eq!(waits.all().len(), 2);
    let text = e.to_string();
    assert!(text.starts_with(&format!("GET http://127.0.0.1:{port}/api/v2/users/me: no complete answer")), "{text}");
    assert!(text.contains("(tried 3 times)") && !text.contains("for url ("), "{text}");
}
