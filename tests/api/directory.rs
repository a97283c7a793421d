//! The directory: countries (ISO 3166-1) with their focal points, agencies and users. Managed
//! by administrators over GraphQL and by operators on the command line; read by everyone
//! authenticated. A refused change changes nothing.

use crate::harness::{TestDatabase, TestServer, error_code};
use serde_json::{Value, json};
use std::process::Command;

const CREATE_AGENCY: &str = "mutation($input: CreateAgencyInput!) {
    createAgency(input: $input) { agency { id name kind country representedCountry } } }";
const UPDATE_AGENCY: &str = "mutation($input: UpdateAgencyInput!) {
    updateAgency(input: $input) { agency { id name kind country representedCountry } } }";
const SET_FOCAL_POINT: &str = "mutation($input: SetFocalPointInput!) {
    setFocalPoint(input: $input) { country { code name focalPoint { id name } } } }";
const CREATE_USER: &str = "mutation($input: CreateUserInput!) {
    createUser(input: $input) { user { id username displayName roles } agency { id country } } }";
const DIRECTORY: &str = "{ countries { code name focalPoint { id } agencies { id } }
    agencies { id name kind country representedCountry } }";

/// The whole directory as `user` reads it (to show that a refused change changed nothing).
async fn directory(s: &TestServer, user: &str) -> Value {
    s.data(user, DIRECTORY, json!({})).await
}

/// The global ID of the demo agency called `name`.
pub(crate) async fn agency_id(s: &TestServer, name: &str) -> String {
    let data = s.data("admin", "{ agencies { id name } }", json!({})).await;
    data["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no agency {name}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_administrator_creates_an_agency_and_sets_the_focal_point_and_everyone_reads_it() {
    let s = TestServer::start().await;
    let before = s
        .data(
            "it.shelter",
            "{ country(code: \"PT\") { code } }",
            json!({}),
        )
        .await;
    assert_eq!(before["country"], Value::Null, "no agency in Portugal yet");

    let shelter = s
        .data(
            "admin",
            CREATE_AGENCY,
            json!({"input": {"name": "Demo Lisbon Shelter", "kind": "NGO", "country": "PT"}}),
        )
        .await["createAgency"]["agency"]
        .clone();
    assert_eq!(shelter["country"], "PT");
    assert_eq!(shelter["kind"], "NGO");
    assert_eq!(shelter["representedCountry"], Value::Null);
    let focal = s
        .data(
            "admin",
            CREATE_AGENCY,
            json!({"input": {"name": "Demo Rapporteur (Portugal)", "kind": "NATIONAL_FOCAL_POINT", "country": "PT"}}),
        )
        .await["createAgency"]["agency"]
        .clone();

    // The country exists from its first agency on, without a focal point until one is set.
    let country = s
        .data(
            "it.shelter",
            "{ country(code: \"PT\") { code name focalPoint { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        country["country"],
        json!({"code": "PT", "name": "Portugal", "focalPoint": null})
    );

    let set = s
        .data(
            "admin",
            SET_FOCAL_POINT,
            json!({"input": {"country": "PT", "agencyId": focal["id"]}}),
        )
        .await;
    assert_eq!(
        set["setFocalPoint"]["country"],
        json!({"code": "PT", "name": "Portugal", "focalPoint": {"id": focal["id"], "name": "Demo Rapporteur (Portugal)"}})
    );

    // Everyone authenticated reads it: a case worker of another country, an auditor.
    for reader in ["ng.shelter", "auditor", "it.embassy.ng"] {
        let data = s
            .data(
                reader,
                "{ country(code: \"PT\") { code focalPoint { id kind country } agencies { id name } }
                   countries { code }
                   agencies(country: \"PT\", kind: NATIONAL_FOCAL_POINT) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(
            data["country"]["focalPoint"],
            json!({"id": focal["id"], "kind": "NATIONAL_FOCAL_POINT", "country": "PT"}),
            "{reader}"
        );
        let names: Vec<&str> = data["country"]["agencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Demo Lisbon Shelter", "Demo Rapporteur (Portugal)"],
            "by name"
        );
        assert!(
            data["countries"]
                .as_array()
                .unwrap()
                .contains(&json!({"code": "PT"}))
        );
        assert_eq!(data["agencies"], json!([{"id": focal["id"]}]));
    }

    // The agency can be renamed; its country stays.
    let renamed = s
        .data(
            "admin",
            UPDATE_AGENCY,
            json!({"input": {"agencyId": shelter["id"], "name": "Demo Lisbon Shelter (renamed)"}}),
        )
        .await;
    assert_eq!(
        renamed["updateAgency"]["agency"]["name"],
        "Demo Lisbon Shelter (renamed)"
    );
    assert_eq!(renamed["updateAgency"]["agency"]["kind"], "NGO");
    assert_eq!(renamed["updateAgency"]["agency"]["country"], "PT");

    // A user of the new focal point, who can then sign in with an issued token.
    let created = s
        .data(
            "admin",
            CREATE_USER,
            json!({"input": {"username": "pt.focal", "displayName": "Demo Focal Point (PT)",
                   "agencyId": focal["id"], "roles": ["FOCAL_POINT", "CASE_WORKER", "FOCAL_POINT"]}}),
        )
        .await["createUser"]
        .clone();
    assert_eq!(created["user"]["username"], "pt.focal");
    assert_eq!(
        created["user"]["roles"],
        json!(["CASE_WORKER", "FOCAL_POINT"])
    );
    assert_eq!(
        created["agency"],
        json!({"id": focal["id"], "country": "PT"})
    );
    let token = trm::service::auth::issue_token(&s.app, "pt.focal")
        .await
        .unwrap();
    let (_, me) = s
        .post(
            Some(&format!("Bearer {token}")),
            "{ me { user { username } agency { id country representedCountry } roles } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({"user": {"username": "pt.focal"},
               "agency": {"id": focal["id"], "country": "PT", "representedCountry": null},
               "roles": ["CASE_WORKER", "FOCAL_POINT"]})
    );
    s.stop().await;
}

#[tokio::test]
async fn only_administrators_change_the_directory_and_a_refusal_changes_nothing() {
    let s = TestServer::start().await;
    let it_shelter = agency_id(&s, "Demo Casa Rifugio (NGO shelter)").await;
    let before = directory(&s, "admin").await;
    for user in ["it.shelter", "it.focal", "auditor", "it.shelter.supervisor"] {
        let attempts = [
            (
                CREATE_AGENCY,
                json!({"input": {"name": "Demo Rogue Agency", "kind": "NGO", "country": "IT"}}),
            ),
            (
                UPDATE_AGENCY,
                json!({"input": {"agencyId": it_shelter, "name": "Demo Renamed"}}),
            ),
            (
                SET_FOCAL_POINT,
                json!({"input": {"country": "IT", "agencyId": it_shelter}}),
            ),
            (
                CREATE_USER,
                json!({"input": {"username": "it.rogue", "displayName": "Demo Rogue",
                       "agencyId": it_shelter, "roles": ["ADMINISTRATOR"]}}),
            ),
        ];
        for (mutation, variables) in attempts {
            let body = s.gql(user, mutation, variables).await;
            assert_eq!(error_code(&body), "FORBIDDEN", "{user}: {body}");
            assert!(body["data"].is_null(), "{body}");
        }
    }
    assert_eq!(directory(&s, "admin").await, before, "nothing changed");
    assert!(
        trm::store::directory::user_by_username(s.app.store.conn(), "it.rogue")
            .await
            .unwrap()
            .is_none()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_country_that_is_not_an_iso_3166_1_alpha_2_code_is_refused_and_nothing_changes() {
    let s = TestServer::start().await;
    let before = directory(&s, "admin").await;
    for code in ["XX", "it", "ITA", "", "I"] {
        let body = s
            .gql(
                "admin",
                CREATE_AGENCY,
                json!({"input": {"name": "Demo Nowhere Shelter", "kind": "NGO", "country": code}}),
            )
            .await;
        assert_eq!(error_code(&body), "VALIDATION", "{code}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("ISO 3166-1 alpha-2"),
            "{body}"
        );
        let body = s
            .gql(
                "admin",
                CREATE_AGENCY,
                json!({"input": {"name": "Demo Embassy", "kind": "EMBASSY_CONSULATE", "country": "IT", "representedCountry": code}}),
            )
            .await;
        assert_eq!(error_code(&body), "VALIDATION", "{code}: {body}");
        for query in [
            "query($c: String!) { country(code: $c) { code } }",
            "query($c: String!) { agencies(country: $c) { id } }",
        ] {
            let body = s.gql("it.shelter", query, json!({"c": code})).await;
            assert_eq!(error_code(&body), "VALIDATION", "{code}: {body}");
        }
    }
    let it_focal = agency_id(&s, "Demo National Anti-Trafficking Focal Point (Italy)").await;
    let body = s
        .gql(
            "admin",
            SET_FOCAL_POINT,
            json!({"input": {"country": "it", "agencyId": it_focal}}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    assert_eq!(directory(&s, "admin").await, before, "nothing changed");
    s.stop().await;
}

#[tokio::test]
async fn an_embassy_represents_another_country_and_only_an_embassy_does() {
    let s = TestServer::start().await;
    let before = directory(&s, "admin").await;
    let refused = [
        // An embassy without the country it represents.
        json!({"name": "Demo Embassy", "kind": "EMBASSY_CONSULATE", "country": "IT"}),
        json!({"name": "Demo Embassy", "kind": "EMBASSY_CONSULATE", "country": "IT", "representedCountry": null}),
        // An embassy of the country it is in.
        json!({"name": "Demo Embassy", "kind": "EMBASSY_CONSULATE", "country": "IT", "representedCountry": "IT"}),
        // Another kind with a represented country.
        json!({"name": "Demo Shelter", "kind": "NGO", "country": "IT", "representedCountry": "NG"}),
        // An empty name.
        json!({"name": "  ", "kind": "NGO", "country": "IT"}),
    ];
    for input in refused {
        let body = s.gql("admin", CREATE_AGENCY, json!({"input": input})).await;
        assert_eq!(error_code(&body), "VALIDATION", "{input}: {body}");
    }
    let body = s
        .gql(
            "admin",
            CREATE_AGENCY,
            json!({"input": {"name": "Demo Embassy", "kind": "EMBASSY_CONSULATE", "country": "IT"}}),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("representedCountry"),
        "says what is missing: {body}"
    );
    assert_eq!(directory(&s, "admin").await, before, "nothing changed");

    // The demo embassy of Nigeria in Italy, and its case worker.
    let embassies = s
        .data(
            "it.shelter",
            "{ agencies(kind: EMBASSY_CONSULATE) { name country representedCountry } }",
            json!({}),
        )
        .await;
    assert_eq!(
        embassies["agencies"],
        json!([{"name": "Demo Embassy of Nigeria (Rome)", "country": "IT", "representedCountry": "NG"}])
    );
    let me = s
        .data(
            "it.embassy.ng",
            "{ me { agency { kind country representedCountry } roles } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["me"],
        json!({"agency": {"kind": "EMBASSY_CONSULATE", "country": "IT", "representedCountry": "NG"},
               "roles": ["CASE_WORKER"]})
    );

    // A consulate of Senegal in France; turning it into another kind needs the represented
    // country cleared, in the same change.
    let consulate = s
        .data(
            "admin",
            CREATE_AGENCY,
            json!({"input": {"name": "Demo Consulate of Senegal (Lyon)", "kind": "EMBASSY_CONSULATE",
                   "country": "FR", "representedCountry": "SN"}}),
        )
        .await["createAgency"]["agency"]
        .clone();
    assert_eq!(consulate["representedCountry"], "SN");
    let body = s
        .gql(
            "admin",
            UPDATE_AGENCY,
            json!({"input": {"agencyId": consulate["id"], "kind": "NGO"}}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let body = s
        .gql(
            "admin",
            UPDATE_AGENCY,
            json!({"input": {"agencyId": consulate["id"], "representedCountry": null}}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let changed = s
        .data(
            "admin",
            UPDATE_AGENCY,
            json!({"input": {"agencyId": consulate["id"], "kind": "NGO", "representedCountry": null}}),
        )
        .await;
    assert_eq!(
        changed["updateAgency"]["agency"],
        json!({"id": consulate["id"], "name": "Demo Consulate of Senegal (Lyon)", "kind": "NGO",
               "country": "FR", "representedCountry": null})
    );
    s.stop().await;
}

#[tokio::test]
async fn the_focal_point_of_a_country_is_an_agency_of_that_country() {
    let s = TestServer::start().await;
    let before = directory(&s, "admin").await;
    let it_shelter = agency_id(&s, "Demo Casa Rifugio (NGO shelter)").await;
    let ng_focal = agency_id(&s, "Demo National Agency against Trafficking (Nigeria)").await;
    let body = s
        .gql(
            "admin",
            SET_FOCAL_POINT,
            json!({"input": {"country": "NG", "agencyId": it_shelter}}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let body = s
        .gql(
            "admin",
            SET_FOCAL_POINT,
            json!({"input": {"country": "IT", "agencyId": ng_focal}}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let unknown = trm::api::ids::encode("Agency", &uuid::Uuid::now_v7().to_string());
    for (mutation, input) in [
        (
            SET_FOCAL_POINT,
            json!({"country": "IT", "agencyId": unknown}),
        ),
        (
            UPDATE_AGENCY,
            json!({"agencyId": unknown, "name": "Demo Ghost"}),
        ),
        (
            CREATE_USER,
            json!({"username": "it.ghost", "displayName": "Demo Ghost", "agencyId": unknown, "roles": ["CASE_WORKER"]}),
        ),
    ] {
        let body = s.gql("admin", mutation, json!({"input": input})).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
    assert_eq!(directory(&s, "admin").await, before, "nothing changed");

    // Another agency of Italy may become its focal point.
    let set = s
        .data(
            "admin",
            SET_FOCAL_POINT,
            json!({"input": {"country": "IT", "agencyId": it_shelter}}),
        )
        .await;
    assert_eq!(
        set["setFocalPoint"]["country"]["focalPoint"]["id"],
        it_shelter.as_str()
    );
    let focal = trm::store::directory::focal_point(s.app.store.conn(), "IT")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(focal.name, "Demo Casa Rifugio (NGO shelter)");
    s.stop().await;
}

#[tokio::test]
async fn users_have_unique_usernames_known_roles_and_an_agency() {
    let s = TestServer::start().await;
    let it_shelter = agency_id(&s, "Demo Casa Rifugio (NGO shelter)").await;
    let before = directory(&s, "admin").await;
    let refused = [
        json!({"username": "it.shelter", "displayName": "Demo Twin", "agencyId": it_shelter, "roles": ["CASE_WORKER"]}),
        json!({"username": "it.new", "displayName": "Demo New", "agencyId": it_shelter, "roles": []}),
        json!({"username": "Not A Username", "displayName": "Demo New", "agencyId": it_shelter, "roles": ["CASE_WORKER"]}),
        json!({"username": "it.new", "displayName": "", "agencyId": it_shelter, "roles": ["CASE_WORKER"]}),
        json!({"username": "it.new", "displayName": "Demo New", "agencyId": "not-an-id", "roles": ["CASE_WORKER"]}),
    ];
    for input in refused {
        let body = s.gql("admin", CREATE_USER, json!({"input": input})).await;
        assert_eq!(error_code(&body), "VALIDATION", "{input}: {body}");
        assert!(
            !body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("it.shelter"),
            "no personal data in errors: {body}"
        );
    }
    let body = s
        .gql(
            "admin",
            CREATE_USER,
            json!({"input": {"username": "it.new", "displayName": "Demo New", "agencyId": it_shelter, "roles": ["NOT_A_ROLE"]}}),
        )
        .await;
    assert!(body["errors"].is_array(), "unknown role refused: {body}");
    assert_eq!(directory(&s, "admin").await, before);
    let users = trm::store::directory::users_of_agency(
        s.app.store.conn(),
        trm::api::ids::decode_uuid(&it_shelter, "Agency").unwrap(),
    )
    .await
    .unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["it.shelter", "it.shelter.supervisor"]);
    s.stop().await;
}

#[tokio::test]
async fn every_demo_country_has_its_national_focal_point_with_a_focal_point_user() {
    let s = TestServer::start().await;
    let data = s
        .data(
            "it.shelter",
            "{ countries { code name focalPoint { id kind country } } }",
            json!({}),
        )
        .await;
    let countries = data["countries"].as_array().unwrap();
    let codes: Vec<&str> = countries
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "AT", "BG", "FR", "GB", "IT", "MA", "ML", "NE", "NG", "RO", "SN"
        ]
    );
    let conn = s.app.store.conn();
    for c in countries {
        let focal = &c["focalPoint"];
        assert_eq!(focal["kind"], "NATIONAL_FOCAL_POINT", "{c}");
        assert_eq!(focal["country"], c["code"], "{c}");
        let id = trm::api::ids::decode_uuid(focal["id"].as_str().unwrap(), "Agency").unwrap();
        let users = trm::store::directory::users_of_agency(conn, id)
            .await
            .unwrap();
        assert!(
            users
                .iter()
                .any(|u| u.roles.contains(&trm::domain::Role::FocalPoint)),
            "{c}: a FOCAL_POINT user"
        );
    }
    assert_eq!(
        countries.iter().find(|c| c["code"] == "GB").unwrap()["name"],
        "United Kingdom of Great Britain and Northern Ireland"
    );

    // Seeding again adds nothing and keeps a focal point an administrator chose.
    let it_shelter = agency_id(&s, "Demo Casa Rifugio (NGO shelter)").await;
    s.data(
        "admin",
        SET_FOCAL_POINT,
        json!({"input": {"country": "IT", "agencyId": it_shelter}}),
    )
    .await;
    let before = directory(&s, "admin").await;
    trm::service::demo::seed(&s.app).await.unwrap();
    assert_eq!(directory(&s, "admin").await, before);
    s.stop().await;
}

fn trm() -> Command {
    crate::harness::trm_command()
}

/// Runs `trm directory ARGS --database-url DB`; returns (success, stdout, stderr). Awaited,
/// not blocked on: a test's server on the same runtime may hold a lock the command waits for.
async fn directory_cli(db: &str, args: &[&str]) -> (bool, String, String) {
    let mut cmd = tokio::process::Command::from(trm());
    let out = cmd
        .arg("directory")
        .args(args)
        .args(["--database-url", db])
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn the_cli_adds_agencies_sets_the_focal_point_and_lists_countries() {
    let db = TestDatabase::new().await;
    let (ok, shelter, err) = directory_cli(
        &db.url,
        &[
            "add-agency",
            "--name",
            "Demo Lisbon Shelter",
            "--kind",
            "ngo",
            "--country",
            "PT",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let shelter = shelter.trim().to_string();
    uuid::Uuid::parse_str(&shelter).expect("prints the new agency's id");
    let (ok, focal, err) = directory_cli(
        &db.url,
        &[
            "add-agency",
            "--name",
            "Demo Rapporteur (Portugal)",
            "--kind",
            "NATIONAL_FOCAL_POINT",
            "--country",
            "PT",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let focal = focal.trim().to_string();
    let (ok, embassy, err) = directory_cli(
        &db.url,
        &[
            "add-agency",
            "--name",
            "Demo Embassy of Portugal (Dakar)",
            "--kind",
            "EMBASSY_CONSULATE",
            "--country",
            "SN",
            "--represents",
            "PT",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let embassy = embassy.trim().to_string();

    // Refused: unknown country, an embassy without the country it represents, an unknown kind,
    // a focal point from another country.
    for args in [
        &[
            "add-agency",
            "--name",
            "Demo X",
            "--kind",
            "NGO",
            "--country",
            "XX",
        ][..],
        &[
            "add-agency",
            "--name",
            "Demo X",
            "--kind",
            "EMBASSY_CONSULATE",
            "--country",
            "PT",
        ],
        &[
            "add-agency",
            "--name",
            "Demo X",
            "--kind",
            "SHELTER",
            "--country",
            "PT",
        ],
        &["set-focal-point", "--country", "PT", "--agency", &embassy],
    ] {
        let (ok, out, err) = directory_cli(&db.url, args).await;
        assert!(!ok, "{args:?} refused: {out}");
        assert!(!err.is_empty(), "{args:?} says why");
    }

    let (ok, out, err) = directory_cli(
        &db.url,
        &["set-focal-point", "--country", "PT", "--agency", &focal],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("PT") && out.contains(&focal), "{out}");

    let (ok, out, err) = directory_cli(&db.url, &["countries"]).await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0],
        format!("PT  Portugal  focal point: Demo Rapporteur (Portugal) [{focal}]")
    );
    assert_eq!(lines[1], "SN  Senegal  no focal point");

    let (ok, out, err) = directory_cli(&db.url, &["agencies", "--country", "PT"]).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        format!(
            "{shelter}  PT  NGO  Demo Lisbon Shelter\n{focal}  PT  NATIONAL_FOCAL_POINT  Demo Rapporteur (Portugal)\n"
        )
    );
    let (ok, out, _) = directory_cli(&db.url, &["agencies"]).await;
    assert!(ok);
    assert!(
        out.contains(&format!(
            "{embassy}  SN  EMBASSY_CONSULATE  Demo Embassy of Portugal (Dakar)  (represents PT)"
        )),
        "{out}"
    );

    // A user of the focal point, who can then get a token.
    let (ok, user, err) = directory_cli(
        &db.url,
        &[
            "add-user",
            "--username",
            "pt.focal",
            "--display-name",
            "Demo Focal Point (PT)",
            "--agency",
            &focal,
            "--role",
            "FOCAL_POINT",
            "--role",
            "case-worker",
        ],
    )
    .await;
    assert!(ok, "{err}");
    uuid::Uuid::parse_str(user.trim()).expect("prints the new user's id");
    let (ok, _, err) = directory_cli(
        &db.url,
        &[
            "add-user",
            "--username",
            "pt.focal",
            "--display-name",
            "Demo Twin",
            "--agency",
            &focal,
            "--role",
            "CASE_WORKER",
        ],
    )
    .await;
    assert!(!ok && err.contains("already taken"), "{err}");
    let out = trm()
        .args([
            "token",
            "issue",
            "--user",
            "pt.focal",
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("trm_"));
}

#[tokio::test]
async fn upgrading_a_database_lists_the_countries_of_its_existing_agencies() {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Query};
    use trm_migration::{Migrator, MigratorTrait};
    let db = TestDatabase::new().await;
    let store = trm::store::Store::connect(&trm::store::StoreOptions {
        url: db.url.clone(),
        max_connections: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    // A database from before countries existed, with agencies in two countries.
    Migrator::up(store.conn(), Some(4)).await.unwrap();
    let ids = [
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
    ];
    for (id, country) in ids.iter().zip(["IT", "NG", "IT"]) {
        let insert = Query::insert()
            .into_table(Alias::new("agencies"))
            .columns(["id", "name", "kind", "country", "created_at"].map(Alias::new))
            .values_panic([
                (*id).into(),
                "Demo Agency".into(),
                "NGO".into(),
                country.into(),
                chrono::Utc::now().into(),
            ])
            .to_owned();
        let conn = store.conn();
        conn.execute_raw(conn.get_database_backend().build(&insert))
            .await
            .unwrap();
    }
    store.migrate().await.unwrap();
    let countries = trm::store::directory::countries(store.conn())
        .await
        .unwrap();
    let listed: Vec<(&str, &str, bool)> = countries
        .iter()
        .map(|c| {
            (
                c.code.as_str(),
                c.name.as_str(),
                c.focal_point_agency_id.is_some(),
            )
        })
        .collect();
    assert_eq!(listed, [("IT", "Italy", false), ("NG", "Nigeria", false)]);
    let agency = trm::store::directory::agency_by_id(store.conn(), ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(agency.represented_country, None);
    store.close().await.unwrap();
}

#[tokio::test]
async fn an_agency_s_users_are_listed_to_administrators_only() {
    let s = TestServer::start().await;
    let it_shelter = agency_id(&s, "Demo Casa Rifugio (NGO shelter)").await;
    let query =
        "query($id: ID!) { node(id: $id) { ... on Agency { name users { username roles } } } }";
    let data = s.data("admin", query, json!({"id": it_shelter})).await;
    let users: Vec<&Value> = data["node"]["users"].as_array().unwrap().iter().collect();
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["it.shelter", "it.shelter.supervisor"]);
    assert_eq!(users[0]["roles"], json!(["CASE_WORKER"]));
    // Everyone else reads the agency, not who works there.
    for user in ["it.shelter", "it.shelter.supervisor", "it.focal", "auditor"] {
        let body = s.gql(user, query, json!({"id": it_shelter})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{user}: {body}");
    }
    s.stop().await;
}
