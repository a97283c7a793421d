//! A real TRM server on a free port with its own database (a fresh SQLite file, or a fresh
//! PostgreSQL database when `TRM_TEST_DATABASE_URL` is set), a movable clock and demo users.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use trm::clock::ManualClock;
use trm::server::{self, HttpOptions};
use trm::service::{App, demo};
use trm::startup;
use trm::store::StoreOptions;

/// The longest a test waits for one answer over HTTP. The server answers every request within
/// its own 30-second limit, so a test waiting longer than this has found a hang: it fails,
/// naming the request, instead of holding the whole suite until CI gives up.
pub const HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// An HTTP client for the tests (see [`HTTP_TIMEOUT`]).
pub fn http() -> reqwest::Client {
    http_builder().build().expect("an HTTP client")
}

/// [`http`]'s builder, for clients with more settings (cookies, redirects).
pub fn http_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(HTTP_TIMEOUT)
}

/// Whether the tests run on PostgreSQL (`TRM_TEST_DATABASE_URL` set) rather than SQLite.
pub fn on_postgres() -> bool {
    std::env::var("TRM_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// Where the test's database lives; dropped (PostgreSQL) or deleted (SQLite) at the end.
pub struct TestDatabase {
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A database nobody else uses.
    pub async fn new() -> TestDatabase {
        match std::env::var("TRM_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("trm_test_{}", uuid::Uuid::now_v7().simple());
                let admin = trm::store::Store::connect(&StoreOptions {
                    url: admin_url.clone(),
                    max_connections: 1,
                    ..Default::default()
                })
                .await
                .expect("connect to TRM_TEST_DATABASE_URL");
                static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
                SWEPT.get_or_init(|| drop_leftover_databases(&admin)).await;
                trm::store::execute_sql(admin.conn(), &format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                admin.close().await.ok();
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("TRM_TEST_DATABASE_URL ends in /dbname");
                TestDatabase {
                    url: format!("{base}/{name}"),
                    admin_url: Some(admin_url),
                    name,
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("trm.db");
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    admin_url: None,
                    name: String::new(),
                    _dir: Some(dir),
                }
            }
        }
    }
}

/// Drops the test databases that earlier test runs left behind: those whose name (a UUIDv7)
/// is older than an hour. A test run drops its databases as its tests end, but not in the
/// background threads the process's exit cuts short (see [`TestDatabase`]'s `Drop`); no test
/// run lasts an hour, so a database that old is nobody's.
async fn drop_leftover_databases(admin: &trm::store::Store) {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
    let Ok(rows) = admin
        .conn()
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'trm\\_test\\_%'",
        ))
        .await
    else {
        return;
    };
    let hour_ago = Utc::now() - Duration::hours(1);
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let made = uuid::Uuid::parse_str(name.trim_start_matches("trm_test_"))
            .ok()
            .and_then(|id| id.get_timestamp())
            .map(|t| t.to_unix().0);
        if made.is_some_and(|secs| (secs as i64) < hour_ago.timestamp()) {
            drop_database(admin, &name).await;
        }
    }
}

/// Drops test database `name`, whoever is still connected to it; a failure is left alone (the
/// next run's sweep finds what is left).
async fn drop_database(admin: &trm::store::Store, name: &str) {
    let _ = trm::store::execute_sql(
        admin.conn(),
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin_url) = self.admin_url.clone() else {
            return;
        };
        let name = self.name.clone();
        // Drop runs outside any runtime we can block on: use a short-lived one on a thread.
        // Not waited for: PostgreSQL (before 16) makes a `DROP DATABASE` wait for a whole
        // checkpoint, a second or so while the other tests write, and the test is over. The
        // databases of the last tests, whose drop the process's exit cuts short, are dropped
        // by a later run (`drop_leftover_databases`).
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = trm::store::Store::connect(&StoreOptions {
                    url: admin_url,
                    max_connections: 1,
                    ..Default::default()
                })
                .await
                {
                    drop_database(&admin, &name).await;
                    let _ = admin.close().await;
                }
            });
        });
    }
}

/// The path of the repository's workflows directory.
pub fn workflows_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("workflows")
}

/// The data directory every `trm` process of the tests is given (`TRM_DATA_DIR`): the default
/// audit keys of the tests' databases go there, under the target directory, never into the
/// home directory of whoever runs the tests.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("trm-data")
}

/// The `trm` binary with nothing from the environment steering it (no `DATABASE_URL`, no
/// `TRM_AUDIT_KEY_FILE`, no `TRM_MATCH_KEY_FILE`), the tests' [`data_dir`], and `TRM_LOG=warn`.
pub fn trm_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_trm"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("TRM_AUDIT_KEY_FILE")
        .env_remove("TRM_MATCH_KEY_FILE")
        .env("TRM_DATA_DIR", data_dir())
        .env("TRM_LOG", "warn");
    cmd
}

/// A running server.
pub struct TestServer {
    pub url: String,
    pub tokens: BTreeMap<String, String>,
    pub clock: Arc<ManualClock>,
    pub app: App,
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    /// Kept so the database lives as long as the server (and any other instance on it).
    _db: Arc<TestDatabase>,
}

impl TestServer {
    /// Starts a server with the repository's workflows and the demo network.
    pub async fn start() -> TestServer {
        TestServer::start_with(HttpOptions::default()).await
    }

    /// Starts a server whose web console offers the demo sign-in (as `serve --demo`).
    pub async fn start_console() -> TestServer {
        let mut options = HttpOptions::default();
        options.console.demo_sign_in = true;
        TestServer::start_with(options).await
    }

    /// Starts a server with the given HTTP options.
    pub async fn start_with(options: HttpOptions) -> TestServer {
        TestServer::start_full(options, &workflows_dir(), None).await
    }

    /// Starts a server that also accepts JWT access tokens of the identity provider `config`
    /// describes (its keys are loaded as `trm serve --oidc-...` would).
    pub async fn start_with_oidc(config: trm::service::oidc::OidcConfig) -> TestServer {
        TestServer::start_full(HttpOptions::default(), &workflows_dir(), Some(config)).await
    }

    /// Starts a server with the given HTTP options (e.g. the console's sign-in at an identity
    /// provider) that accepts the JWT access tokens of the provider `config` describes.
    pub async fn start_with_oidc_options(
        options: HttpOptions,
        config: trm::service::oidc::OidcConfig,
    ) -> TestServer {
        TestServer::start_full(options, &workflows_dir(), Some(config)).await
    }

    /// Starts a server with the workflows of `dir` (e.g. a test fixture directory).
    pub async fn start_with_workflows(dir: &std::path::Path) -> TestServer {
        TestServer::start_full(HttpOptions::default(), dir, None).await
    }

    async fn start_full(
        options: HttpOptions,
        workflows: &std::path::Path,
        oidc: Option<trm::service::oidc::OidcConfig>,
    ) -> TestServer {
        let db = TestDatabase::new().await;
        let clock = Arc::new(ManualClock::new(Utc::now() - Duration::days(1)));
        let registry = startup::load_workflows(workflows).expect("workflows load");
        let app = startup::open(
            &StoreOptions {
                url: db.url.clone(),
                max_connections: 8,
                ..Default::default()
            },
            registry,
            clock.clone(),
        )
        .await
        .expect("start-up");
        let oidc = match oidc {
            Some(config) => Some(
                trm::service::oidc::Oidc::start(config, false)
                    .await
                    .expect("OIDC start-up"),
            ),
            None => None,
        };
        let app = app
            .test_clock(Some(clock.clone()))
            .audit_key(Some(trm::audit::AuditKey::generate()))
            .match_key(Some(trm::domain::person_match::MatchSecret::generate()))
            .oidc(oidc)
            .build();
        let tokens = demo::seed(&app)
            .await
            .expect("demo seed")
            .into_iter()
            .collect();
        TestServer::serve(app, options, tokens, clock, Arc::new(db)).await
    }

    /// Serves `app` on a free port.
    async fn serve(
        app: App,
        options: HttpOptions,
        tokens: BTreeMap<String, String>,
        clock: Arc<ManualClock>,
        db: Arc<TestDatabase>,
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        let handle = tokio::spawn(async move {
            let _ = server::serve(listener, served, &options, async {
                let _ = rx.await;
            })
            .await;
        });
        TestServer {
            url,
            tokens,
            clock,
            app,
            client: http(),
            shutdown: Some(tx),
            handle: Some(handle),
            _db: db,
        }
    }

    /// Starts another instance of the service on this server's database (same workflows,
    /// clock and demo users; tokens work on both), as several instances share one PostgreSQL.
    pub async fn start_instance(&self) -> TestServer {
        let registry = startup::load_workflows(&workflows_dir()).expect("workflows load");
        let app = startup::open(
            &StoreOptions {
                url: self._db.url.clone(),
                max_connections: 8,
                ..Default::default()
            },
            registry,
            self.clock.clone(),
        )
        .await
        .expect("start-up of a second instance")
        .test_clock(Some(self.clock.clone()))
        .oidc(self.app.oidc().cloned())
        .audit_key(self.app.audit_key().cloned())
        .match_key(self.app.match_secret().cloned())
        .build();
        TestServer::serve(
            app,
            HttpOptions::default(),
            self.tokens.clone(),
            self.clock.clone(),
            self._db.clone(),
        )
        .await
    }

    /// The database URL (to connect a second "instance").
    pub fn db_url(&self) -> String {
        self._db.url.clone()
    }

    /// Stops the server and waits for it, after recording which transitions the test fired and
    /// checking that the audit trail it left verifies (chains, log, checkpoints, and every case
    /// equal to the replay of its events) and that every case's protections hold: every test
    /// is also an audit test and an invariant test.
    pub async fn stop(self) {
        let report = trm::service::audit_verify::verify(&self.app.store, &self.app.workflows, &[])
            .await
            .expect("audit verification runs");
        assert_eq!(
            report.first_problem, None,
            "the test left an audit trail that does not verify"
        );
        let (_, violation) = trm::service::protections::check_all(&self.app)
            .await
            .expect("the invariant checker runs");
        if let Some(v) = violation {
            panic!("the test left a case whose protections do not hold: {v}");
        }
        self.stop_tampered().await;
    }

    /// [`TestServer::stop`] for tests that edit the database behind the service's back.
    pub async fn stop_tampered(mut self) {
        record_coverage(&self.app).await;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        self.app.store.clone().close().await.ok();
    }

    /// The bearer token of a demo user.
    pub fn token(&self, user: &str) -> &str {
        self.tokens
            .get(user)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no demo user {user}"))
    }

    /// POSTs a GraphQL request as `user` (or with a raw Authorization header when `user` starts
    /// with "raw:"); returns the HTTP status and the JSON body.
    pub async fn post(
        &self,
        authorization: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.url))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        (status, res.json().await.expect("json body"))
    }

    /// Runs a GraphQL request as a demo user and returns the whole response body.
    pub async fn gql(&self, user: &str, query: &str, variables: Value) -> Value {
        let auth = format!("Bearer {}", self.token(user));
        let (status, body) = self.post(Some(&auth), query, variables).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Like [`gql`] but asserts there were no errors and returns `data`.
    pub async fn data(&self, user: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(user, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Opens an adult case (workflow `trm-adult`, version 1) as `user`; returns (case id, reference).
    pub async fn open_case(&self, user: &str) -> (String, String) {
        self.open_workflow(user, "trm-adult", Some(1)).await
    }

    /// Opens a case under any workflow (latest version when `version` is `None`).
    pub async fn open_workflow(
        &self,
        user: &str,
        workflow: &str,
        version: Option<u32>,
    ) -> (String, String) {
        let data = self
            .data(
                user,
                "mutation($w: String!, $v: Int) { openCase(input: {workflowId: $w, workflowVersion: $v}) { case { id reference } } }",
                json!({"w": workflow, "v": version}),
            )
            .await;
        let case = &data["openCase"]["case"];
        (
            case["id"].as_str().unwrap().to_string(),
            case["reference"].as_str().unwrap().to_string(),
        )
    }

    /// Fires a transition and returns the whole response body.
    pub async fn fire(
        &self,
        user: &str,
        case_id: &str,
        transition: &str,
        version: i64,
        data: Value,
    ) -> Value {
        self.fire_input(user, json!({"caseId": case_id, "transition": transition, "expectedVersion": version, "data": data}))
            .await
    }

    /// Fires a transition with a full input object.
    pub async fn fire_input(&self, user: &str, input: Value) -> Value {
        self.gql(
            user,
            "mutation($input: FireTransitionInput!) { fireTransition(input: $input) {
                replayed
                case { id version status states { track state stage } }
                event { id sequence transition fromState toState reason data actor { username } agency { name } }
            } }",
            json!({"input": input}),
        )
        .await
    }

    /// The global id of `user`'s agency.
    pub async fn agency_id(&self, user: &str) -> String {
        self.data(user, "{ me { agency { id } } }", json!({})).await["me"]["agency"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// As `lead`, records the person's consent to share `groups` with `to`'s agency for a
    /// return (and for services); returns the consent's id.
    pub async fn consent_for(
        &self,
        lead: &str,
        case_id: &str,
        to: &str,
        groups: &[&str],
    ) -> String {
        self.consent_given(lead, case_id, to, groups, json!({"givenBy": "PERSON"}))
            .await
    }

    /// [`TestServer::consent_for`], given by a child's guardian with the child's assent (for a
    /// child, the only consent that grounds sharing).
    pub async fn guardian_consent_for(
        &self,
        lead: &str,
        case_id: &str,
        to: &str,
        groups: &[&str],
    ) -> String {
        let giver = json!({"givenBy": "GUARDIAN", "childAssent": true});
        self.consent_given(lead, case_id, to, groups, giver).await
    }

    async fn consent_given(
        &self,
        lead: &str,
        case_id: &str,
        to: &str,
        groups: &[&str],
        giver: Value,
    ) -> String {
        let agency = self.agency_id(to).await;
        let mut input = json!({"caseId": case_id, "purposes": ["RETURN", "SERVICES"],
            "agencyIds": [agency], "dataGroups": groups});
        if let (Some(i), Some(g)) = (input.as_object_mut(), giver.as_object()) {
            i.extend(g.clone());
        }
        let body = self
            .gql(
                lead,
                "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { consent { id } } }",
                json!({"input": input}),
            )
            .await;
        assert!(body.get("errors").is_none(), "recordConsent: {body}");
        body["data"]["recordConsent"]["consent"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// As `lead`, offers the lead of `case_id` to `to`'s agency sharing `groups`, with `data`
    /// for the workflow's transfer step; returns the whole body.
    pub async fn offer_transfer(
        &self,
        lead: &str,
        case_id: &str,
        to: &str,
        groups: &[&str],
        data: Value,
    ) -> Value {
        let agency = self.agency_id(to).await;
        self.gql(
            lead,
            "mutation($input: OfferTransferInput!) { offerTransfer(input: $input) {
                transfer { id status transition sharedGroups ground { consentId overrideBasis } }
                case { id version }
            } }",
            json!({"input": {"caseId": case_id, "toAgencyId": agency, "sharedGroups": groups, "data": data}}),
        )
        .await
    }

    /// As `to`, accepts transfer `transfer_id`; returns the whole body.
    pub async fn accept_transfer(&self, to: &str, transfer_id: &str) -> Value {
        self.gql(
            to,
            "mutation($input: AcceptTransferInput!) { acceptTransfer(input: $input) {
                transfer { id status decidedAt }
                case { id version access states { track state stage } leadAgency { name } }
            } }",
            json!({"input": {"transferId": transfer_id}}),
        )
        .await
    }

    /// The whole return transfer as it usually goes: consent (identity and legal status), offer by
    /// `lead`, acceptance by `to`. Returns the case's version afterwards.
    pub async fn transfer_lead(&self, lead: &str, case_id: &str, to: &str, data: Value) -> i64 {
        let groups = ["IDENTITY", "LEGAL_STATUS"];
        self.consent_for(lead, case_id, to, &groups).await;
        let body = self.offer_transfer(lead, case_id, to, &groups, data).await;
        assert!(body.get("errors").is_none(), "offerTransfer: {body}");
        let id = body["data"]["offerTransfer"]["transfer"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let body = self.accept_transfer(to, &id).await;
        assert!(body.get("errors").is_none(), "acceptTransfer: {body}");
        assert_eq!(body["data"]["acceptTransfer"]["case"]["access"], "LEAD");
        body["data"]["acceptTransfer"]["case"]["version"]
            .as_i64()
            .unwrap()
    }

    /// As `lead`, involves `to`'s agency in `case_id` for a decision: the person's consent to
    /// share `groups` with it, then a referral for a decision (service `DECISION`). Returns the
    /// referral's id. From then on `to`'s agency takes the steps the workflow gives its kind.
    pub async fn involve(&self, lead: &str, case_id: &str, to: &str, groups: &[&str]) -> String {
        self.refer_for(lead, case_id, to, "DECISION", groups).await
    }

    /// [`TestServer::involve`] on a child's case: the guardian consents, with the child's assent.
    pub async fn involve_for_child(
        &self,
        lead: &str,
        case_id: &str,
        to: &str,
        groups: &[&str],
    ) -> String {
        self.guardian_consent_for(lead, case_id, to, groups).await;
        self.referral(lead, case_id, to, "DECISION", groups).await
    }

    /// As `lead`, refers `case_id` to `to`'s agency for `service`, sharing `groups` on the
    /// person's consent; returns the referral's id.
    pub async fn refer_for(
        &self,
        lead: &str,
        case_id: &str,
        to: &str,
        service: &str,
        groups: &[&str],
    ) -> String {
        self.consent_for(lead, case_id, to, groups).await;
        self.referral(lead, case_id, to, service, groups).await
    }

    /// As `lead`, refers `case_id` to `to`'s agency for `service`, sharing `groups` under a
    /// consent already recorded; returns the referral's id.
    pub async fn referral(
        &self,
        lead: &str,
        case_id: &str,
        to: &str,
        service: &str,
        groups: &[&str],
    ) -> String {
        let body = self
            .gql(
                lead,
                "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
                json!({"input": {"caseId": case_id, "toAgencyId": self.agency_id(to).await,
                    "service": service, "purpose": "the lead's request",
                    "sharedGroups": groups}}),
            )
            .await;
        assert!(body.get("errors").is_none(), "makeReferral: {body}");
        body["data"]["makeReferral"]["referral"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The current version and history length of a case, as `user` sees it.
    pub async fn version_and_history(&self, user: &str, case_id: &str) -> (i64, usize) {
        let data = self
            .data(
                user,
                "query($id: ID!) { case(id: $id) { version history(first: 100) { edges { node { sequence } } } } }",
                json!({"id": case_id}),
            )
            .await;
        let case = &data["case"];
        (
            case["version"].as_i64().unwrap(),
            case["history"]["edges"].as_array().unwrap().len(),
        )
    }
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// The presumed-victim data with everything in order.
pub fn presumed_victim_data() -> Value {
    json!({"indicators_found": true, "informed_of_rights": true, "consent_to_referral": true})
}

/// Takes a fresh case through screening to crisis intervention as `user`; returns its version.
pub async fn to_crisis_intervention(s: &TestServer, user: &str, case_id: &str) -> i64 {
    let steps = [
        ("start_screening", json!({"signal_source": "self_report"})),
        ("record_presumed_victim", presumed_victim_data()),
        (
            "record_assessment",
            json!({"risk_level": "low", "immediate_needs_assessed": true}),
        ),
        ("adopt_safety_plan", json!({"safety_plan_adopted": true})),
    ];
    let mut version = 1;
    for (t, d) in steps {
        let body = s.fire(user, case_id, t, version, d).await;
        assert!(body.get("errors").is_none(), "{t}: {body}");
        version = body["data"]["fireTransition"]["case"]["version"]
            .as_i64()
            .unwrap();
    }
    version
}

/// The adult steps from crisis intervention to the origin country contacted (a voluntary,
/// low-risk return; the workflow's transfer step is next).
pub fn steps_to_origin_contact() -> Vec<(&'static str, Value)> {
    vec![
        (
            "move_to_return",
            json!({"return_requested_by_person": true}),
        ),
        (
            "record_return_decision",
            json!({"informed_of_return_options": true, "return_voluntary": true}),
        ),
        (
            "record_joint_risk_assessment",
            json!({"return_risk_level": "low", "joint_assessment_with_origin": true}),
        ),
        ("contact_origin_focal_point", json!({})),
    ]
}

/// Where tests record the transitions they fired (`trm workflows check --coverage <dir>`).
pub fn coverage_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("transition-coverage")
}

/// Appends the (workflow, version, transition) triples fired in this test's database.
async fn record_coverage(app: &App) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    use trm::store::entities::case_event;
    let rows: Vec<(String, i32, Option<String>)> = case_event::Entity::find()
        .select_only()
        .column(case_event::Column::WorkflowId)
        .column(case_event::Column::WorkflowVersion)
        .column(case_event::Column::Transition)
        .filter(case_event::Column::Kind.is_in(["TRANSITION", "TRANSFER_ACCEPTED"]))
        .distinct()
        .into_tuple()
        .all(app.store.conn())
        .await
        .unwrap_or_default();
    let lines: String = rows
        .into_iter()
        .filter_map(|(w, v, t)| Some(format!("{w} {v} {}\n", t?)))
        .collect();
    if lines.is_empty() {
        return;
    }
    let dir = coverage_dir();
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join(format!("{}.txt", uuid::Uuid::now_v7().simple())),
        lines,
    );
}

/// The current state of `track` in a case JSON with `states { track state }`.
pub fn track_state<'v>(case: &'v Value, track: &str) -> Option<&'v str> {
    case["states"]
        .as_array()?
        .iter()
        .find(|s| s["track"] == track)
        .and_then(|s| s["state"].as_str())
}

/// The timer `name` in a case JSON with `timers { timer ... }` (panics when it has not started).
pub fn case_timer<'v>(case: &'v Value, name: &str) -> &'v Value {
    case["timers"]
        .as_array()
        .and_then(|timers| timers.iter().find(|t| t["timer"] == name))
        .unwrap_or_else(|| panic!("no timer {name} in {case}"))
}

/// An RFC 3339 instant from a JSON string.
pub fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not an instant: {v}: {e}"))
        .with_timezone(&chrono::Utc)
}
