//! Signing in to the web console at the agency's identity provider: the OAuth 2.0 authorization
//! code flow with PKCE (RFC 7636, `S256`), as a confidential client (client id and secret).
//!
//! [`begin`] makes a `state` and a PKCE verifier, keeps them in the database (any instance may
//! see the browser come back; the row lives ten minutes and is used once) with the hash of a
//! secret that goes into the browser's sign-in cookie, and gives the provider's authorization
//! URL. [`finish`] takes that row back by the `state` the provider returned, checks that the
//! same browser came back in time, exchanges the code with the verifier at the token endpoint,
//! and reads the principal from the **access token** exactly as a bearer token of the API is
//! read ([`super::auth::authenticate_jwt`]: signature, issuer, audience, times, agency and
//! roles claims, revocation, agency in the directory).
//!
//! The client is the `oauth2` crate: it builds the authorization URL and the token request
//! (PKCE, client authentication, error responses). No ID token is used (the access token is what
//! TRM already knows how to verify), so no `nonce` is sent: a nonce protects an ID token, and
//! the code here is bound to this browser by the state and to this sign-in by PKCE.

use super::auth::{authenticate_jwt, generate_token, token_hash};
use super::oidc::{OidcConfigError, fetch_document};
use super::{App, ServiceError};
use crate::access::Principal;
use crate::store::console_sign_ins::{self, SignInRow};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde_json::Value;
use std::time::Duration;

/// How long a sign-in may stay at the identity provider.
pub const SIGN_IN_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The path of the console's redirect URI (after the public URL).
pub const CALLBACK_PATH: &str = "/sign-in/oidc/callback";

/// The console's registration at the identity provider (`trm serve --oidc-client-id ...`).
#[derive(Clone)]
pub struct SignInSettings {
    pub client_id: String,
    /// Read from `--oidc-client-secret-file`; never printed.
    pub client_secret: String,
    /// The public URL of the service followed by [`CALLBACK_PATH`].
    pub redirect_url: String,
    pub scopes: Vec<String>,
    /// The provider's name on the sign-in page.
    pub display_name: String,
}

impl std::fmt::Debug for SignInSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInSettings")
            .field("client_id", &self.client_id)
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The console's client at the identity provider: its settings and the provider's endpoints
/// (from its discovery document).
pub struct SignInClient {
    client: Client,
    http: reqwest::Client,
    scopes: Vec<String>,
    display_name: String,
}

impl std::fmt::Debug for SignInClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInClient")
            .field("display_name", &self.display_name)
            .finish_non_exhaustive()
    }
}

impl SignInClient {
    /// Reads the provider's endpoints from its discovery document
    /// (`<issuer>/.well-known/openid-configuration`), which must name `issuer` exactly and,
    /// when it lists PKCE methods, `S256`. With `production`, both endpoints must be `https`.
    pub async fn discover(
        issuer: &str,
        settings: SignInSettings,
        production: bool,
    ) -> Result<SignInClient, OidcConfigError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // The token endpoint's answer is never followed elsewhere (the code and the
            // client's secret go to that endpoint only).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OidcConfigError::Discovery(e.to_string()))?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let bytes = fetch_document(&http, &url)
            .await
            .map_err(OidcConfigError::Discovery)?;
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| OidcConfigError::Discovery(e.to_string()))?;
        let field = |name: &str| doc.get(name).and_then(Value::as_str);
        if field("issuer") != Some(issuer) {
            return Err(OidcConfigError::Discovery(
                "the discovery document names another issuer".into(),
            ));
        }
        let pkce = doc
            .get("code_challenge_methods_supported")
            .and_then(Value::as_array);
        if pkce.is_some_and(|methods| !methods.iter().any(|m| m == "S256")) {
            return Err(OidcConfigError::Discovery(
                "the provider does not support PKCE with S256".into(),
            ));
        }
        let endpoint = |name: &'static str| {
            let url = field(name).ok_or_else(|| {
                OidcConfigError::Discovery(format!("the discovery document has no {name}"))
            })?;
            if production && !url.starts_with("https://") {
                return Err(OidcConfigError::Discovery(format!("{name} must be https")));
            }
            Ok(url.to_string())
        };
        let invalid = |e: oauth2::url::ParseError| OidcConfigError::Discovery(e.to_string());
        let client = BasicClient::new(ClientId::new(settings.client_id))
            .set_client_secret(ClientSecret::new(settings.client_secret))
            .set_auth_uri(AuthUrl::new(endpoint("authorization_endpoint")?).map_err(invalid)?)
            .set_token_uri(TokenUrl::new(endpoint("token_endpoint")?).map_err(invalid)?)
            .set_redirect_uri(RedirectUrl::new(settings.redirect_url).map_err(invalid)?);
        Ok(SignInClient {
            client,
            http,
            scopes: settings.scopes,
            display_name: settings.display_name,
        })
    }

    /// The provider's name, for "Sign in with ...".
    pub fn display_name(&self) -> &str {
        &self.display_name
    }
}

/// A sign-in begun: where to send the browser, and the secret its sign-in cookie keeps.
pub struct Begun {
    pub authorization_url: String,
    pub browser_secret: String,
}

/// Begins a sign-in (see the module documentation).
pub async fn begin(app: &App, client: &SignInClient) -> Result<Begun, ServiceError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .client
        .authorize_url(|| CsrfToken::new_random_len(32))
        .add_scopes(client.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge)
        .url();
    let browser_secret = generate_token();
    let now = app.now();
    let lifetime = chrono::Duration::from_std(SIGN_IN_LIFETIME).unwrap_or(chrono::Duration::MAX);
    let txn = app.store.begin_write().await?;
    // Sign-ins that were never finished go when new ones begin.
    console_sign_ins::delete_expired(&txn, now).await?;
    console_sign_ins::insert(
        &txn,
        &token_hash(state.secret()),
        &SignInRow {
            browser_hash: token_hash(&browser_secret),
            pkce_verifier: verifier.secret().clone(),
            created_at: now,
            expires_at: now + lifetime,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Begun {
        authorization_url: url.to_string(),
        browser_secret,
    })
}

/// What the provider sent the browser back with.
pub enum Callback<'a> {
    /// `?code=...&state=...`
    Code { code: &'a str, state: &'a str },
    /// `?error=...&state=...` (the user cancelled, the provider refused, ...).
    Error { error: &'a str, state: &'a str },
}

/// Why a sign-in did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Refused (the reason is for the log; the browser is told only to start again).
    #[error("console sign-in refused: {0}")]
    Refused(&'static str),
    /// The database could not be read or written.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for SignInError {
    fn from(e: crate::store::StoreError) -> Self {
        SignInError::Service(e.into())
    }
}

/// Finishes a sign-in (see the module documentation): the principal to start a session for.
pub async fn finish(
    app: &App,
    client: &SignInClient,
    callback: Callback<'_>,
    browser_secret: Option<&str>,
) -> Result<Principal, SignInError> {
    let state = match callback {
        Callback::Code { state, .. } | Callback::Error { state, .. } => state,
    };
    if state.is_empty() || state.len() > 200 {
        return Err(SignInError::Refused("no state"));
    }
    // Taken whatever happens next: a state is good for one try.
    let txn = app.store.begin_write().await?;
    let taken = console_sign_ins::take(&txn, &token_hash(state)).await?;
    txn.commit().await?;
    let Some(row) = taken else {
        return Err(SignInError::Refused("unknown or already used state"));
    };
    let same_browser = browser_secret
        .filter(|s| s.len() <= 200)
        .is_some_and(|s| super::auth::same_secret(&token_hash(s), &row.browser_hash));
    if !same_browser {
        return Err(SignInError::Refused(
            "the state was begun by another browser",
        ));
    }
    if app.now() >= row.expires_at {
        return Err(SignInError::Refused("the sign-in expired"));
    }
    let code = match callback {
        Callback::Code { code, .. } if !code.is_empty() => code,
        Callback::Code { .. } => return Err(SignInError::Refused("no code")),
        Callback::Error { error, .. } => {
            tracing::info!(
                error,
                "console sign-in: the identity provider answered an error"
            );
            return Err(SignInError::Refused("the identity provider refused"));
        }
    };
    let token = client
        .client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(row.pkce_verifier))
        .request_async(&client.http)
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "console sign-in: the code exchange failed");
            SignInError::Refused("the token endpoint refused the code")
        })?;
    match authenticate_jwt(app, token.access_token().secret()).await {
        Ok(principal) => Ok(principal),
        Err(ServiceError::Unauthenticated) => Err(SignInError::Refused(
            "the access token is not one TRM accepts",
        )),
        Err(e) => Err(e.into()),
    }
}
