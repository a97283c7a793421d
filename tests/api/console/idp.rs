//! A small, real OpenID Connect provider for the console's sign-in tests, served on a free port:
//! its discovery document, its JWKS (the test keys of `jwt.rs`), an authorization endpoint that
//! signs in one fixed test user at once and sends the browser back with a code, and a token
//! endpoint that checks what a provider checks before it issues an access token: the client's
//! id and secret (HTTP Basic), the code (once, for the redirect URI it was issued for) and the
//! PKCE verifier against the code's `S256` challenge.

use crate::jwt::{Provider, claims, provider_jwks};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

pub const CLIENT_ID: &str = "trm-console";
pub const CLIENT_SECRET: &str = "a-test-client-secret";
pub const AUDIENCE: &str = "trm-api";
/// The subject of the test user.
pub const SUBJECT: &str = "idp-subject-maria-0001";

/// A code issued and not yet exchanged.
struct Grant {
    challenge: String,
    redirect_uri: String,
}

struct Inner {
    issuer: String,
    keys: Provider,
    /// The redirect URI registered for the client.
    redirect_uri: String,
    /// The agency the test user's tokens name.
    agency: Uuid,
    codes: HashMap<String, Grant>,
    /// Why each refused token request was refused (`invalid_client`, `invalid_grant: ...`).
    refusals: Vec<String>,
    /// Every access token issued.
    issued: Vec<String>,
}

/// The running provider.
#[derive(Clone)]
pub struct IdentityProvider {
    pub issuer: String,
    inner: Arc<Mutex<Inner>>,
}

impl IdentityProvider {
    /// Serves a provider on a free port whose client may be sent back only to `redirect_uri`
    /// (its test user's agency is set with [`IdentityProvider::set_agency`]).
    pub async fn start(redirect_uri: &str) -> IdentityProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            issuer: issuer.clone(),
            keys: Provider::new(),
            redirect_uri: redirect_uri.to_string(),
            agency: Uuid::nil(),
            codes: HashMap::new(),
            refusals: Vec::new(),
            issued: Vec::new(),
        }));
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(|| async { axum::Json(provider_jwks()) }))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        IdentityProvider { issuer, inner }
    }

    /// From now on the test user's tokens name this agency.
    pub fn set_agency(&self, agency: Uuid) {
        self.inner.lock().unwrap().agency = agency;
    }

    /// Why token requests were refused, in order.
    pub fn refusals(&self) -> Vec<String> {
        self.inner.lock().unwrap().refusals.clone()
    }

    /// The access tokens issued so far.
    pub fn issued(&self) -> Vec<String> {
        self.inner.lock().unwrap().issued.clone()
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

async fn discovery(State(inner): Shared) -> axum::Json<Value> {
    let issuer = inner.lock().unwrap().issuer.clone();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    }))
}

/// Signs the test user in at once and sends the browser back with a code for this challenge.
async fn authorize(State(inner): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = inner.lock().unwrap();
    let param = |name: &str| q.get(name).map(String::as_str).unwrap_or_default();
    let redirect_uri = param("redirect_uri");
    if param("response_type") != "code"
        || param("client_id") != CLIENT_ID
        || redirect_uri != inner.redirect_uri
        || param("code_challenge_method") != "S256"
        || param("code_challenge").is_empty()
        || param("state").is_empty()
    {
        return (StatusCode::BAD_REQUEST, "invalid authorization request").into_response();
    }
    let code = Uuid::new_v4().simple().to_string();
    inner.codes.insert(
        code.clone(),
        Grant {
            challenge: param("code_challenge").to_string(),
            redirect_uri: redirect_uri.to_string(),
        },
    );
    let back =
        serde_urlencoded::to_string([("code", code.as_str()), ("state", param("state"))]).unwrap();
    Redirect::to(&format!("{redirect_uri}?{back}")).into_response()
}

/// The client's id and secret from `Authorization: Basic` (each form-urlencoded, RFC 6749 2.3.1).
fn client_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|v| v.into_iter().next())
            .map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
}

async fn token(
    State(inner): Shared,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let refuse = |inner: &mut Inner, status: StatusCode, error: &str, why: &str| {
        inner.refusals.push(format!("{error}: {why}"));
        (status, axum::Json(json!({"error": error}))).into_response()
    };
    if client_credentials(&headers) != Some((CLIENT_ID.into(), CLIENT_SECRET.into())) {
        return refuse(
            &mut inner,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let param = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if param("grant_type") != "authorization_code" {
        return refuse(
            &mut inner,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "not a code",
        );
    }
    // A code is good for one exchange, whatever its outcome.
    let Some(grant) = inner.codes.remove(param("code")) else {
        return refuse(
            &mut inner,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown or used code",
        );
    };
    if param("redirect_uri") != grant.redirect_uri {
        return refuse(
            &mut inner,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "another redirect URI",
        );
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(param("code_verifier").as_bytes()));
    if challenge != grant.challenge {
        return refuse(
            &mut inner,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the PKCE verifier does not match the challenge",
        );
    }
    // A case worker's access token (the claims `jwt.rs` tests), of this issuer and subject.
    let mut claims = claims(inner.agency);
    claims["iss"] = json!(inner.issuer);
    claims["aud"] = json!(AUDIENCE);
    claims["sub"] = json!(SUBJECT);
    let access_token = inner.keys.sign(&claims);
    inner.issued.push(access_token.clone());
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 300,
    }))
    .into_response()
}
