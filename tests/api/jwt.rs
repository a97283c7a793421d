//! JWT access tokens of an agency identity provider (OIDC), and revocation of every kind of
//! token. A refused token gets HTTP 401 `UNAUTHENTICATED` (WebSocket: close 4401) with the same
//! message whatever the reason, and nothing runs. The keys are synthetic test keys
//! (`tests/fixtures/jwt`).

use crate::harness::{TestServer, error_code};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use trm::service::oidc::{JwksSource, OidcConfig, Rejection};
use trm::store::identity::JwtRevocation;
use uuid::Uuid;

const ISSUER: &str = "https://idp.example.test/realms/trm";
const AUDIENCE: &str = "trm-api";
/// The key id of the provider's RSA key (`rsa-a`) in the JWKS.
const KID: &str = "key-a";
/// The key id of the provider's Ed25519 key in the JWKS.
const KID_ED: &str = "key-ed";

const OPEN: &str = "mutation { openCase(input: {workflowId: \"trm-adult\"}) { case { id } } }";
const ME: &str = "{ me { user { id username displayName } agency { name country } roles } }";

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jwt")
        .join(name)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

/// The DER inside a PEM file.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// A public JWK of a fixture with a key id (and an algorithm, when given).
fn jwk(name: &str, kid: &str, alg: Option<&str>) -> Value {
    let mut key: Value = serde_json::from_str(&fixture(name)).unwrap();
    key["kid"] = json!(kid);
    key["use"] = json!("sig");
    if let Some(alg) = alg {
        key["alg"] = json!(alg);
    }
    key
}

/// The provider's JWKS: its RSA key (RS256) and its Ed25519 key.
pub(crate) fn provider_jwks() -> Value {
    json!({"keys": [
        jwk("rsa-a.jwk.json", KID, Some("RS256")),
        jwk("ed25519.jwk.json", KID_ED, None),
    ]})
}

/// The provider's signing keys and where its JWKS file lives.
pub(crate) struct Provider {
    rsa: EncodingKey,
    rogue: EncodingKey,
    ed25519: EncodingKey,
    _dir: tempfile::TempDir,
    jwks_file: PathBuf,
}

impl Provider {
    pub(crate) fn new() -> Provider {
        let dir = tempfile::tempdir().unwrap();
        let jwks_file = dir.path().join("jwks.json");
        std::fs::write(&jwks_file, provider_jwks().to_string()).unwrap();
        Provider {
            rsa: EncodingKey::from_rsa_der(&pem_der(&fixture("rsa-a.key.pem"))),
            rogue: EncodingKey::from_rsa_der(&pem_der(&fixture("rsa-b.key.pem"))),
            ed25519: EncodingKey::from_ed_der(&pem_der(&fixture("ed25519.key.pem"))),
            _dir: dir,
            jwks_file,
        }
    }

    /// The settings of `trm serve --oidc-issuer ... --oidc-jwks-file ...
    /// --oidc-algorithms RS256,EdDSA`.
    fn config(&self) -> OidcConfig {
        let mut config =
            OidcConfig::new(ISSUER, AUDIENCE, JwksSource::File(self.jwks_file.clone()));
        config.algorithms = vec![Algorithm::RS256, Algorithm::EdDSA];
        config
    }

    /// `claims` signed with the provider's RSA key under `KID`.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        sign_with(Algorithm::RS256, Some(KID), claims, &self.rsa)
    }
}

fn sign_with(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// A token with a hand-written header and no signature check by this code (`alg: none`,
/// HS256, ...): `header.payload.signature`.
fn hand_crafted(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a valid access token of a case worker of `agency`.
pub(crate) fn claims(agency: Uuid) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "f3b1c2d4-idp-subject-0001",
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now - 10,
        "jti": Uuid::now_v7().to_string(),
        "preferred_username": "maria.rossi",
        "name": "Maria Rossi",
        "trm_agency": agency.to_string(),
        "trm_roles": ["CASE_WORKER"],
    })
}

/// The directory id of a demo user's agency.
async fn agency_of(s: &TestServer, user: &str) -> Uuid {
    trm::store::directory::user_by_username(s.app.store.conn(), user)
        .await
        .unwrap()
        .unwrap()
        .agency_id
}

/// Waits past the bound on how long a token revoked by another process may still be used by
/// this server (`--auth-recheck-ms`).
pub(crate) async fn past_the_recheck_bound(s: &TestServer) {
    tokio::time::sleep(s.app.auth_cache().recheck() + std::time::Duration::from_millis(100)).await;
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The cases the auditor (who sees every case) sees.
async fn case_count(s: &TestServer) -> usize {
    let data = s
        .data("auditor", "{ cases { edges { node { id } } } }", json!({}))
        .await;
    data["cases"]["edges"].as_array().unwrap().len()
}

/// The answer to a request without any valid token: what every refusal must look like.
async fn generic_refusal(s: &TestServer) -> Value {
    let (status, body) = s.post(Some("Bearer not-a-token"), OPEN, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    body
}

/// Asserts that `token` is refused exactly like any other bad token and that the mutation it
/// carried did not run.
async fn assert_refused(s: &TestServer, what: &str, token: &str) {
    let before = case_count(s).await;
    let (status, body) = s.post(Some(&bearer(token)), OPEN, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}");
    assert_eq!(
        body,
        generic_refusal(s).await,
        "{what}: same answer whatever the reason"
    );
    assert!(body.get("data").is_none(), "{what}: {body}");
    assert_eq!(case_count(s).await, before, "{what}: nothing was opened");
}

#[tokio::test]
async fn a_valid_jwt_maps_to_user_agency_and_roles_and_can_open_a_case() {
    let idp = Provider::new();
    let s = TestServer::start_with_oidc(idp.config()).await;
    let agency = agency_of(&s, "it.shelter").await;
    let token = idp.sign(&claims(agency));

    let (status, body) = s.post(Some(&bearer(&token)), ME, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me = &body["data"]["me"];
    assert_eq!(me["user"]["username"], "maria.rossi");
    assert_eq!(me["user"]["displayName"], "Maria Rossi");
    assert_eq!(me["roles"], json!(["CASE_WORKER"]));
    let shelter = s.data("it.shelter", ME, json!({})).await;
    assert_eq!(me["agency"], shelter["me"]["agency"]);

    // The user id is stable: another token of the same subject (Ed25519 this time) is the
    // same user, and it is derived from (issuer, subject).
    let mut other = claims(agency);
    other["jti"] = json!("another");
    let ed = sign_with(Algorithm::EdDSA, Some(KID_ED), &other, &idp.ed25519);
    let (status, again) = s.post(Some(&bearer(&ed)), ME, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["data"]["me"]["user"]["id"], me["user"]["id"]);
    let row = trm::store::directory::user_by_username(s.app.store.conn(), "maria.rossi")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.id,
        trm::service::oidc::user_id(ISSUER, "f3b1c2d4-idp-subject-0001")
    );

    // It can open a case, recorded under its name and its agency.
    let (status, body) = s.post(Some(&bearer(&token)), OPEN, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let case_id = body["data"]["openCase"]["case"]["id"].as_str().unwrap();
    let (_, body) = s
        .post(
            Some(&bearer(&token)),
            "query($id: ID!) { case(id: $id) { leadAgency { name } history { edges { node { actor { username } } } } } }",
            json!({"id": case_id}),
        )
        .await;
    let case = &body["data"]["case"];
    assert_eq!(case["leadAgency"]["name"], shelter["me"]["agency"]["name"]);
    assert_eq!(
        case["history"]["edges"][0]["node"]["actor"]["username"],
        "maria.rossi"
    );
    // The case belongs to the shelter: its directory users see it too.
    let seen = s
        .data(
            "it.shelter",
            "query($id: ID!) { case(id: $id) { id } }",
            json!({"id": case_id}),
        )
        .await;
    assert_eq!(seen["case"]["id"], case_id);

    // Unknown role names and roles a JWT may not grant (ADMINISTRATOR by default) are ignored.
    let mut mixed = claims(agency);
    mixed["trm_roles"] = json!(["ADMINISTRATOR", "ROOT", "SUPERVISOR", "CASE_WORKER"]);
    let (_, body) = s
        .post(Some(&bearer(&idp.sign(&mixed))), ME, json!({}))
        .await;
    assert_eq!(
        body["data"]["me"]["roles"],
        json!(["SUPERVISOR", "CASE_WORKER"])
    );
    s.stop().await;
}

#[tokio::test]
async fn the_jwt_negative_suite_is_refused_before_anything_runs() {
    let idp = Provider::new();
    let s = TestServer::start_with_oidc(idp.config()).await;
    let agency = agency_of(&s, "it.shelter").await;
    let valid = claims(agency);
    let with = |changes: Value| {
        let mut c = valid.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let now = now();
    let public_pem = fixture("rsa-a.pub.pem");
    let hs256 = |secret: &[u8]| {
        sign_with(
            Algorithm::HS256,
            Some(KID),
            &valid,
            &EncodingKey::from_secret(secret),
        )
    };
    use Rejection::*;
    let missing = |claim: &str| Some(MissingClaim(claim.to_string()));
    // (what, token, why `verify` refuses it; `None`: the database checks refuse it).
    let cases: Vec<(&str, String, Option<Rejection>)> = vec![
        (
            "expired",
            idp.sign(&with(
                json!({"exp": now - 120, "iat": now - 900, "nbf": now - 900}),
            )),
            Some(Expired),
        ),
        (
            "not yet valid (nbf)",
            idp.sign(&with(json!({"nbf": now + 300}))),
            Some(NotYetValid),
        ),
        (
            "wrong audience",
            idp.sign(&with(json!({"aud": "another-api"}))),
            Some(WrongAudience),
        ),
        (
            "wrong issuer",
            idp.sign(&with(json!({"iss": "https://evil.example.test"}))),
            Some(WrongIssuer),
        ),
        (
            "missing sub",
            idp.sign(&with(json!({"sub": null}))),
            missing("sub"),
        ),
        (
            "empty sub",
            idp.sign(&with(json!({"sub": ""}))),
            missing("sub"),
        ),
        (
            "missing exp",
            idp.sign(&with(json!({"exp": null}))),
            missing("exp"),
        ),
        (
            "missing nbf",
            idp.sign(&with(json!({"nbf": null}))),
            missing("nbf"),
        ),
        (
            "missing aud",
            idp.sign(&with(json!({"aud": null}))),
            missing("aud"),
        ),
        (
            "issued in the future",
            idp.sign(&with(json!({"iat": now + 600}))),
            Some(IssuedInFuture),
        ),
        (
            "alg: none",
            hand_crafted(
                &json!({"alg": "none", "typ": "JWT", "kid": KID}),
                &valid,
                b"",
            ),
            Some(AlgorithmNone),
        ),
        (
            "alg: none without kid",
            hand_crafted(&json!({"alg": "none"}), &valid, b""),
            Some(AlgorithmNone),
        ),
        (
            "key confusion (HS256, public key PEM as secret)",
            hs256(public_pem.as_bytes()),
            Some(AlgorithmNotAllowed),
        ),
        (
            "key confusion (HS256, public key DER as secret)",
            hs256(&pem_der(&public_pem)),
            Some(AlgorithmNotAllowed),
        ),
        (
            "algorithm not fitting the key (EdDSA on the RSA key)",
            sign_with(Algorithm::EdDSA, Some(KID), &valid, &idp.ed25519),
            Some(KeyMismatch),
        ),
        (
            "algorithm not fitting the key (RS256 on the Ed25519 key)",
            sign_with(Algorithm::RS256, Some(KID_ED), &valid, &idp.rsa),
            Some(KeyMismatch),
        ),
        (
            "algorithm not configured (PS256)",
            sign_with(Algorithm::PS256, Some(KID), &valid, &idp.rsa),
            Some(AlgorithmNotAllowed),
        ),
        (
            "unknown kid",
            sign_with(Algorithm::RS256, Some("key-unknown"), &valid, &idp.rogue),
            Some(UnknownKey),
        ),
        (
            "no kid",
            sign_with(Algorithm::RS256, None, &valid, &idp.rsa),
            Some(MissingKeyId),
        ),
        (
            "signed by another key under the provider's kid",
            sign_with(Algorithm::RS256, Some(KID), &valid, &idp.rogue),
            Some(BadSignature),
        ),
        (
            "tampered payload",
            {
                let token = idp.sign(&valid);
                let parts: Vec<&str> = token.split('.').collect();
                let forged =
                    URL_SAFE_NO_PAD.encode(with(json!({"trm_roles": ["AUDITOR"]})).to_string());
                format!("{}.{forged}.{}", parts[0], parts[2])
            },
            Some(BadSignature),
        ),
        (
            "not an access token (typ)",
            {
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some(KID.to_string());
                header.typ = Some("dpop+jwt".to_string());
                jsonwebtoken::encode(&header, &valid, &idp.rsa).unwrap()
            },
            Some(TokenType),
        ),
        (
            "agency not in the directory",
            idp.sign(&with(json!({"trm_agency": Uuid::now_v7().to_string()}))),
            None,
        ),
        (
            "agency not a UUID",
            idp.sign(&with(json!({"trm_agency": "it.shelter"}))),
            Some(InvalidClaim("trm_agency".to_string())),
        ),
        (
            "no agency",
            idp.sign(&with(json!({"trm_agency": null}))),
            missing("trm_agency"),
        ),
        (
            "no roles",
            idp.sign(&with(json!({"trm_roles": []}))),
            Some(NoRole),
        ),
        (
            "only unknown roles",
            idp.sign(&with(json!({"trm_roles": ["ROOT"]}))),
            Some(NoRole),
        ),
        (
            "only ADMINISTRATOR",
            idp.sign(&with(json!({"trm_roles": ["ADMINISTRATOR"]}))),
            Some(NoRole),
        ),
        (
            "not a JWT",
            "eyJhbGciOiJSUzI1NiJ9.e30".to_string(),
            Some(Malformed),
        ),
    ];
    let oidc = s.app.oidc().cloned().unwrap();
    for (what, token, why) in &cases {
        assert_eq!(&oidc.verify(token).await.err(), why, "{what}");
        assert_refused(&s, what, token).await;
    }
    // The valid token itself works (the suite fails for the stated reasons only).
    let (status, body) = s
        .post(Some(&bearer(&idp.sign(&valid))), ME, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Over WebSocket, `connection_init` with the same tokens is refused (4401).
    for (what, token, _) in &cases {
        assert_eq!(ws_init(&s, &bearer(token)).await, Err(4401), "{what}");
    }
    assert_eq!(ws_init(&s, &bearer(&idp.sign(&valid))).await, Ok(()));
    assert_eq!(case_count(&s).await, 0);
    s.stop().await;
}

#[tokio::test]
async fn revoked_jwts_are_refused_by_jti_or_by_subject_here_at_once_elsewhere_within_the_bound() {
    let idp = Provider::new();
    let s = TestServer::start_with_oidc(idp.config()).await;
    let other = s.start_instance().await;
    let agency = agency_of(&s, "it.shelter").await;
    let valid = claims(agency);
    let token = idp.sign(&valid);
    for server in [&s, &other] {
        let (status, _) = server.post(Some(&bearer(&token)), ME, json!({})).await;
        assert_eq!(status, StatusCode::OK);
    }

    // By jti: that token only, on every instance; over WebSocket too.
    let jti = valid["jti"].as_str().unwrap().to_string();
    trm::service::auth::revoke_jwt(&s.app, Some(ISSUER), &JwtRevocation::Token { jti })
        .await
        .unwrap();
    assert_refused(&s, "revoked jti", &token).await;
    // The other instance remembered the token's principal: refused within the stated bound.
    past_the_recheck_bound(&other).await;
    assert_refused(&other, "revoked jti (other instance)", &token).await;
    assert_eq!(ws_init(&s, &bearer(&token)).await, Err(4401));
    let mut fresh = claims(agency);
    fresh["jti"] = json!("fresh");
    let (status, _) = s
        .post(Some(&bearer(&idp.sign(&fresh))), ME, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // By subject: every token issued before the revocation, whatever its jti (or without one);
    // tokens issued afterwards work again.
    let subject = valid["sub"].as_str().unwrap().to_string();
    trm::service::auth::revoke_jwt(
        &s.app,
        None,
        &JwtRevocation::Subject {
            subject,
            issued_before: chrono::Utc::now(),
        },
    )
    .await
    .unwrap();
    assert_refused(&other, "revoked subject", &idp.sign(&fresh)).await;
    let mut no_jti = claims(agency);
    no_jti.as_object_mut().unwrap().remove("jti");
    assert_refused(&s, "revoked subject, no jti", &idp.sign(&no_jti)).await;
    let mut later = claims(agency);
    later["iat"] = json!(now() + 2);
    let (status, body) = s
        .post(Some(&bearer(&idp.sign(&later))), ME, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    other.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn jwks_from_a_url_is_refreshed_on_unknown_keys_at_a_limited_rate() {
    // The provider's JWKS endpoint, counting its fetches.
    let published = Arc::new(Mutex::new(provider_jwks()));
    let fetches = Arc::new(Mutex::new(0u32));
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get({
            let published = published.clone();
            let fetches = fetches.clone();
            move || {
                *fetches.lock().unwrap() += 1;
                let body = published.lock().unwrap().clone();
                async move { axum::Json(body) }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let endpoint = tokio::spawn(async move { axum::serve(listener, app).await });

    let idp = Provider::new();
    let mut config = idp.config();
    config.jwks = JwksSource::Url(url);
    config.min_refresh_interval = Duration::from_secs(60);
    let s = TestServer::start_with_oidc(config).await;
    assert_eq!(*fetches.lock().unwrap(), 1, "fetched at start");
    let agency = agency_of(&s, "it.shelter").await;
    let valid = claims(agency);

    // The provider rotates in a new key: the first token naming it makes the service fetch.
    published.lock().unwrap()["keys"]
        .as_array_mut()
        .unwrap()
        .push(jwk("rsa-b.jwk.json", "key-b", Some("RS256")));
    let rotated = sign_with(Algorithm::RS256, Some("key-b"), &valid, &idp.rogue);
    let (status, body) = s.post(Some(&bearer(&rotated)), ME, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(*fetches.lock().unwrap(), 2);

    // Unknown key ids do not make it fetch again within the minimum interval.
    for _ in 0..3 {
        let unknown = sign_with(Algorithm::RS256, Some("key-c"), &valid, &idp.rogue);
        assert_refused(&s, "unknown kid", &unknown).await;
    }
    assert_eq!(*fetches.lock().unwrap(), 2, "rate-limited");

    // A refresh (as the periodic one does) drops the keys the provider withdrew.
    published.lock().unwrap()["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|k| k["kid"] != KID);
    s.app.oidc().unwrap().refresh().await.unwrap();
    assert_refused(&s, "withdrawn key", &idp.sign(&valid)).await;
    let (status, _) = s.post(Some(&bearer(&rotated)), ME, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
    endpoint.abort();
}

/// `trm token ...` as an operator runs it, on the server's database.
fn trm_cli(db_url: &str, args: &[&str]) -> std::process::Output {
    crate::harness::trm_command()
        .args(args)
        .args(["--database-url", db_url])
        .output()
        .unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[tokio::test]
async fn jwt_and_trm_tokens_revoked_with_the_cli_are_refused() {
    let idp = Provider::new();
    let s = TestServer::start_with_oidc(idp.config()).await;
    let db = s.db_url();
    let shelter = s.token("it.shelter").to_string();
    let (status, _) = s.post(Some(&bearer(&shelter)), ME, json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // One TRM token.
    let out = trm_cli(&db, &["token", "revoke", "--token", &shelter]);
    assert_eq!(stdout(&out), "token revoked");
    // Revoked by another process: refused here within the stated bound.
    past_the_recheck_bound(&s).await;
    assert_refused(&s, "revoked TRM token", &shelter).await;
    let again = trm_cli(&db, &["token", "revoke", "--token", &shelter]);
    assert!(!again.status.success(), "already revoked: reported");

    // Every token of a user (the demo one and two more), and only theirs.
    let issued: Vec<String> = (0..2)
        .map(|_| stdout(&trm_cli(&db, &["token", "issue", "--user", "it.police"])))
        .collect();
    for token in &issued {
        let (status, _) = s.post(Some(&bearer(token)), ME, json!({})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let out = trm_cli(&db, &["token", "revoke", "--user", "it.police"]);
    assert_eq!(stdout(&out), "3 token(s) of it.police revoked");
    past_the_recheck_bound(&s).await;
    for token in issued.iter().chain([&s.token("it.police").to_string()]) {
        assert_refused(&s, "revoked user's token", token).await;
    }
    s.data("it.shelter.supervisor", ME, json!({})).await;

    // A JWT, by jti and by subject.
    let agency = agency_of(&s, "it.shelter").await;
    let valid = claims(agency);
    let token = idp.sign(&valid);
    let (status, _) = s.post(Some(&bearer(&token)), ME, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let jti = valid["jti"].as_str().unwrap();
    let out = trm_cli(
        &db,
        &["token", "revoke-jwt", "--jti", jti, "--issuer", ISSUER],
    );
    assert_eq!(stdout(&out), "JWT revoked");
    // A JWT's principal is remembered too: refused here within the same bound.
    past_the_recheck_bound(&s).await;
    assert_refused(&s, "JWT revoked with the CLI", &token).await;
    let mut other = claims(agency);
    other["sub"] = json!("another-subject");
    let other_token = idp.sign(&other);
    let (status, _) = s.post(Some(&bearer(&other_token)), ME, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let out = trm_cli(
        &db,
        &["token", "revoke-jwt", "--subject", "another-subject"],
    );
    assert!(out.status.success());
    past_the_recheck_bound(&s).await;
    assert_refused(&s, "subject revoked with the CLI", &other_token).await;
    s.stop().await;
}

/// Opens `/graphql/ws` and sends `connection_init` with `authorization`: `Ok` on
/// `connection_ack`, else the close code.
async fn ws_init(s: &TestServer, authorization: &str) -> Result<(), u16> {
    let url = format!("{}/graphql/ws", s.url.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({"type": "connection_init", "payload": {"authorization": authorization}});
    ws.send(Message::text(init.to_string())).await.unwrap();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("an answer in time");
        match message {
            Some(Ok(Message::Text(text))) => {
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["type"], "connection_ack", "{v}");
                return Ok(());
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map_or(1005, |f| u16::from(f.code)));
            }
            Some(Ok(_)) => {}
            other => panic!("unexpected WebSocket answer: {other:?}"),
        }
    }
}

#[tokio::test]
async fn serve_with_oidc_options_accepts_jwts_and_refuses_unsafe_settings() {
    use std::io::{BufRead, BufReader};
    let idp = Provider::new();
    let db = crate::harness::TestDatabase::new().await;
    let jwks = idp.jwks_file.to_str().unwrap().to_string();
    let serve = |extra: &[&str]| {
        let mut cmd = crate::harness::trm_command();
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url])
            .arg("--workflows")
            .arg(crate::harness::workflows_dir())
            .args(extra);
        cmd
    };
    let oidc = ["--oidc-issuer", ISSUER, "--oidc-audience", AUDIENCE];
    for (extra, expected) in [
        (vec!["--oidc-algorithms", "HS256"], "HS256"),
        (vec!["--oidc-algorithms", "RS256,none"], "none"),
        (
            vec!["--oidc-jwks-url", "https://idp.example.test/jwks"],
            "exactly one",
        ),
    ] {
        let mut args = oidc.to_vec();
        args.extend(["--oidc-jwks-file", jwks.as_str()]);
        args.extend(extra);
        let out = serve(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let out = serve(&["--oidc-issuer", ISSUER, "--oidc-jwks-file", &jwks])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--oidc-audience"));
    let out = serve(&[
        "--production",
        "--oidc-issuer",
        ISSUER,
        "--oidc-audience",
        AUDIENCE,
        "--oidc-jwks-url",
        "http://idp.example.test/jwks",
    ])
    .output()
    .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("https"));

    // Configured through the environment, it starts and accepts the provider's tokens.
    let mut child = serve(&["--demo", "--scheduler-interval-secs", "0"])
        .env("TRM_OIDC_ISSUER", ISSUER)
        .env("TRM_OIDC_AUDIENCE", AUDIENCE)
        .env("TRM_OIDC_JWKS_FILE", &jwks)
        .env("TRM_OIDC_ALGORITHMS", "RS256,EdDSA")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines.next().expect("trm serve exited early").unwrap();
        if let Some(url) = line.strip_prefix("TRM listening on ") {
            break url.trim().to_string();
        }
        printed.push(line);
    };
    assert!(
        printed
            .iter()
            .any(|l| l.contains("OIDC: accepting JWT access tokens")),
        "{printed:?}"
    );
    let store = trm::store::Store::connect(&trm::store::StoreOptions {
        url: db.url.clone(),
        max_connections: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let agency = trm::store::directory::user_by_username(store.conn(), "it.shelter")
        .await
        .unwrap()
        .unwrap()
        .agency_id;
    store.close().await.unwrap();
    let token = sign_with(
        Algorithm::EdDSA,
        Some(KID_ED),
        &claims(agency),
        &idp.ed25519,
    );
    let client = crate::harness::http();
    let me: Value = client
        .post(format!("{url}/graphql"))
        .bearer_auth(&token)
        .json(&json!({"query": ME}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["me"]["user"]["username"], "maria.rossi", "{me}");
    let refused = client
        .post(format!("{url}/graphql"))
        .bearer_auth(idp.sign(&json!({"iss": ISSUER})))
        .json(&json!({"query": ME}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let _ = child.kill();
    let _ = child.wait();
}
