//! Signing in to the console at the agency's identity provider (authorization code flow with
//! PKCE) over HTTP, every redirect followed by hand, against the small real provider of
//! `idp.rs`: signed in at the end; a missing, wrong, reused, expired or other browser's state
//! refused; a code exchanged with another sign-in's verifier refused by the provider; a token
//! of an unknown agency or of a revoked user refused; no token in any URL or page.

use super::idp::{self, IdentityProvider};
use super::{Page, answer, client};
use crate::harness::TestServer;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use std::sync::Arc;
use trm::server::HttpOptions;
use trm::service::console_sign_in::{CALLBACK_PATH, SignInClient, SignInSettings};
use trm::service::oidc::{JwksSource, OidcConfig};
use trm::store::identity::JwtRevocation;

/// Where browsers reach the service in these tests: as behind a proxy, not the address it
/// listens on (the redirect URI is built from it).
const PUBLIC_URL: &str = "https://trm.example.test";

/// The console's registration at the test provider.
fn settings() -> SignInSettings {
    SignInSettings {
        client_id: idp::CLIENT_ID.into(),
        client_secret: idp::CLIENT_SECRET.into(),
        redirect_url: format!("{PUBLIC_URL}{CALLBACK_PATH}"),
        scopes: vec!["openid".into()],
        display_name: "Test IdP".into(),
    }
}

/// A service whose console signs in at a new provider, whose test user works at the IT shelter.
async fn start() -> (TestServer, IdentityProvider) {
    let idp = IdentityProvider::start(&format!("{PUBLIC_URL}{CALLBACK_PATH}")).await;
    let client = SignInClient::discover(&idp.issuer, settings(), false)
        .await
        .expect("discovery");
    let mut options = HttpOptions::default();
    options.console.oidc_sign_in = Some(Arc::new(client));
    let config = OidcConfig::new(
        &idp.issuer,
        idp::AUDIENCE,
        JwksSource::Url(format!("{}/jwks", idp.issuer)),
    );
    let s = TestServer::start_with_oidc_options(options, config).await;
    let shelter = trm::store::directory::user_by_username(s.app.store.conn(), "it.shelter")
        .await
        .unwrap()
        .unwrap()
        .agency_id;
    idp.set_agency(shelter);
    (s, idp)
}

/// A browser without a browser: cookies kept by name and path and sent where they belong, the
/// public URL mapped to the service's address, and every exchange remembered.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: Vec<(String, String, String)>,
    /// (URL asked for, the answer), in order.
    history: Vec<(String, Page)>,
}

impl Browser {
    fn new(s: &TestServer) -> Browser {
        Browser {
            base: s.url.clone(),
            client: client(),
            cookies: Vec::new(),
            history: Vec::new(),
        }
    }

    /// GETs a path of the service, a URL under its public URL, or another site's URL.
    async fn get(&mut self, url: &str) -> &Page {
        let path = url.strip_prefix(PUBLIC_URL).unwrap_or(url);
        let ours = path.starts_with('/');
        let mut request = if ours {
            self.client.get(format!("{}{path}", self.base))
        } else {
            self.client.get(url)
        };
        if ours {
            let bare = path.split('?').next().unwrap_or(path);
            let jar: Vec<String> = self
                .cookies
                .iter()
                .filter(|(_, _, p)| bare.starts_with(p.as_str()))
                .map(|(n, v, _)| format!("{n}={v}"))
                .collect();
            if !jar.is_empty() {
                request = request.header(COOKIE, jar.join("; "));
            }
        }
        let page = answer(request.send().await.unwrap()).await;
        if ours {
            for line in &page.set_cookies {
                self.keep(line);
            }
        }
        self.history.push((url.to_string(), page));
        &self.history.last().unwrap().1
    }

    fn keep(&mut self, line: &str) {
        let mut parts = line.split(';').map(str::trim);
        let (name, value) = parts.next().unwrap().split_once('=').unwrap();
        let attr = |key: &str| {
            line.split(';')
                .map(str::trim)
                .find_map(|a| a.strip_prefix(key))
                .map(str::to_string)
        };
        let path = attr("Path=").unwrap_or_else(|| "/".into());
        self.cookies.retain(|(n, _, p)| !(n == name && *p == path));
        if attr("Max-Age=").as_deref() != Some("0") {
            self.cookies
                .push((name.to_string(), value.to_string(), path));
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.clone())
    }

    /// Begins a sign-in and lets the provider sign the test user in: the callback URL it sends
    /// the browser back to (not yet followed).
    async fn through_provider(&mut self) -> String {
        let begun = self.get("/sign-in/oidc").await;
        assert_eq!(begun.status, StatusCode::SEE_OTHER, "{}", begun.text());
        let to_provider = begun.location.clone().unwrap();
        let back = self.get(&to_provider).await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
        back.location.clone().unwrap()
    }

    /// The whole sign-in: the service's answer to the callback.
    async fn sign_in(&mut self) -> &Page {
        let callback = self.through_provider().await;
        self.get(&callback).await
    }
}

/// A URL's query parameter.
fn param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap()
        .1
}

fn assert_refused(page: &Page, what: &str) {
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "{what}: {}",
        page.text()
    );
    assert!(
        page.text().contains("Sign-in did not complete"),
        "{what}: {}",
        page.text()
    );
    assert!(
        !page
            .set_cookies
            .iter()
            .any(|c| c.starts_with("trm_session=")),
        "{what}: no session"
    );
}

#[tokio::test]
async fn a_user_signs_in_at_the_identity_provider_and_no_token_shows_anywhere() {
    let (s, idp) = start().await;
    let mut b = Browser::new(&s);
    let page = b.get("/sign-in").await;
    assert!(
        page.text().contains("Sign in with Test IdP"),
        "{}",
        page.text()
    );
    assert!(page.body.contains("href=\"/sign-in/oidc\""));

    let begun = b.get("/sign-in/oidc").await;
    assert_eq!(begun.status, StatusCode::SEE_OTHER);
    let to_provider = begun.location.clone().unwrap();
    assert!(to_provider.starts_with(&format!("{}/authorize?", idp.issuer)));
    assert_eq!(param(&to_provider, "response_type"), "code");
    assert_eq!(param(&to_provider, "client_id"), idp::CLIENT_ID);
    assert_eq!(param(&to_provider, "code_challenge_method"), "S256");
    assert_eq!(
        param(&to_provider, "redirect_uri"),
        format!("{PUBLIC_URL}{CALLBACK_PATH}")
    );
    assert!(param(&to_provider, "state").len() >= 40);
    let line = begun
        .set_cookies
        .iter()
        .find(|c| c.starts_with("trm_oidc="))
        .unwrap()
        .clone();
    for flag in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/sign-in/oidc",
        "Max-Age=600",
    ] {
        assert!(line.contains(flag), "{line}");
    }

    let back = b.get(&to_provider).await;
    let callback = back.location.clone().unwrap();
    assert!(callback.starts_with(&format!("{PUBLIC_URL}{CALLBACK_PATH}?code=")));
    let done = b.get(&callback).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.text().contains("You are signed in"));
    // The page goes on to `/` by itself (same-site, so the Strict session cookie is sent).
    assert!(
        done.body
            .contains("<meta http-equiv=\"refresh\" content=\"0; url=/\">")
    );
    let session = done
        .set_cookies
        .iter()
        .find(|c| c.starts_with("trm_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(flag), "{session}");
    }
    assert!(
        done.set_cookies
            .iter()
            .any(|c| c.starts_with("trm_oidc=;") && c.contains("Max-Age=0")),
        "the sign-in cookie is deleted"
    );
    assert_eq!(b.cookie("trm_oidc"), None);

    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text());
    let text = home.text();
    assert!(text.contains("Maria Rossi"), "{text}");
    assert!(text.contains("Demo Casa Rifugio (NGO shelter)"), "{text}");
    // The console's user is the provider's subject, as for a bearer token of the API.
    let user = trm::store::directory::user_by_username(s.app.store.conn(), "maria.rossi")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user.id,
        trm::service::oidc::user_id(&idp.issuer, idp::SUBJECT)
    );

    // No token in any URL the browser was sent to, nor in any answer of the service.
    let tokens = idp.issued();
    assert_eq!(tokens.len(), 1);
    for (url, page) in &b.history {
        for secret in tokens
            .iter()
            .map(String::as_str)
            .chain(["access_token", "id_token"])
        {
            assert!(!url.contains(secret), "{url}");
            let location = page.location.as_deref().unwrap_or_default();
            assert!(!location.contains(secret), "{location}");
            if !url.starts_with(&idp.issuer) {
                assert!(!page.body.contains(secret), "{url}");
            }
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn a_missing_wrong_reused_expired_or_other_browser_s_state_is_refused() {
    let (s, _idp) = start().await;

    // No state, or one the service never made: refused, and the browser's own still works.
    let mut b = Browser::new(&s);
    let callback = b.through_provider().await;
    let kept = b.cookie("trm_oidc").unwrap();
    let code = param(&callback, "code");
    let state = param(&callback, "state");
    let bare = format!("{PUBLIC_URL}{CALLBACK_PATH}");
    assert_refused(b.get(&format!("{bare}?code={code}")).await, "no state");
    assert_refused(
        b.get(&format!("{bare}?code={code}&state=not-{state}"))
            .await,
        "wrong state",
    );
    // (A refusal deletes the sign-in cookie; the browser that began the sign-in still has it.)
    b.cookies
        .push(("trm_oidc".into(), kept.clone(), "/sign-in/oidc".into()));
    let done = b.get(&callback).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());

    // The same callback again, with the same sign-in cookie: a state is used once.
    b.cookies
        .push(("trm_oidc".into(), kept, "/sign-in/oidc".into()));
    assert_refused(b.get(&callback).await, "reused state");

    // Another browser presenting this browser's callback: refused, and the state is spent.
    let mut victim = Browser::new(&s);
    let callback = victim.through_provider().await;
    let mut other = Browser::new(&s);
    assert_refused(other.get(&callback).await, "another browser");
    assert_refused(victim.get(&callback).await, "spent by the other browser");
    assert_eq!(other.get("/").await.location.as_deref(), Some("/sign-in"));

    // Ten minutes at the provider is too long.
    let mut slow = Browser::new(&s);
    let callback = slow.through_provider().await;
    s.clock.advance(chrono::Duration::minutes(11));
    assert_refused(slow.get(&callback).await, "expired");

    // The provider answered with an error (the user cancelled).
    let mut cancelled = Browser::new(&s);
    let begun = cancelled.get("/sign-in/oidc").await;
    let state = param(begun.location.as_deref().unwrap(), "state");
    let url = format!("{bare}?error=access_denied&state={state}");
    assert_refused(cancelled.get(&url).await, "error at the provider");
    s.stop().await;
}

#[tokio::test]
async fn a_code_exchanged_with_another_sign_in_s_verifier_is_refused_by_the_provider() {
    let (s, idp) = start().await;
    // A code the provider issued for browser A's PKCE challenge...
    let mut a = Browser::new(&s);
    let callback_a = a.through_provider().await;
    // ...presented by browser B with B's own state and cookie: the service exchanges it with
    // B's verifier, which does not match A's challenge.
    let mut b = Browser::new(&s);
    let callback_b = b.through_provider().await;
    let forged = format!(
        "{PUBLIC_URL}{CALLBACK_PATH}?code={}&state={}",
        param(&callback_a, "code"),
        param(&callback_b, "state")
    );
    assert_refused(b.get(&forged).await, "another verifier");
    assert_eq!(
        idp.refusals(),
        ["invalid_grant: the PKCE verifier does not match the challenge"]
    );
    assert!(idp.issued().is_empty(), "no token was issued");
    // The code is spent at the provider: A's own callback fails too.
    assert_refused(a.get(&callback_a).await, "spent code");
    assert_eq!(idp.refusals()[1], "invalid_grant: unknown or used code");
    s.stop().await;
}

#[tokio::test]
async fn a_token_of_an_unknown_agency_or_of_a_revoked_user_is_refused() {
    let (s, idp) = start().await;
    let shelter = trm::store::directory::user_by_username(s.app.store.conn(), "it.shelter")
        .await
        .unwrap()
        .unwrap()
        .agency_id;
    idp.set_agency(uuid::Uuid::now_v7());
    assert_refused(Browser::new(&s).sign_in().await, "unknown agency");

    idp.set_agency(shelter);
    let mut b = Browser::new(&s);
    assert_eq!(b.sign_in().await.status, StatusCode::OK);
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    // The provider's subject is revoked: signed out of the console at once, and refused.
    trm::service::auth::revoke_jwt(
        &s.app,
        None,
        &JwtRevocation::Subject {
            subject: idp::SUBJECT.into(),
            issued_before: chrono::Utc::now(),
        },
    )
    .await
    .unwrap();
    assert_eq!(b.get("/").await.location.as_deref(), Some("/sign-in"));
    assert_refused(Browser::new(&s).sign_in().await, "revoked subject");
    s.stop().await;
}

#[tokio::test]
async fn the_provider_s_discovery_document_is_checked_at_start() {
    let idp = IdentityProvider::start(&format!("{PUBLIC_URL}{CALLBACK_PATH}")).await;
    // Endpoints over plain HTTP are refused in production.
    let production = SignInClient::discover(&idp.issuer, settings(), true).await;
    assert!(production.is_err());
    // A document that names another issuer is refused.
    let other = format!("{}/", idp.issuer);
    assert!(
        SignInClient::discover(&other, settings(), false)
            .await
            .is_err()
    );
    // Without the console's sign-in, the page offers none and its routes are not there.
    let s = TestServer::start().await;
    let mut b = Browser::new(&s);
    assert!(!b.get("/sign-in").await.body.contains("/sign-in/oidc"));
    assert_eq!(b.get("/sign-in/oidc").await.status, StatusCode::NOT_FOUND);
    s.stop().await;
}
