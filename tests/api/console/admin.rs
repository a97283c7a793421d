//! The directory pages of the console (`/admin`): an administrator adds an agency, its users and
//! a focal point through the API's mutations; a refused form comes back with the API's reason
//! and what was typed; anyone else gets the API's refusal.

use super::{Session, input_value};
use crate::directory::agency_id;
use crate::harness::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The whole directory as the API shows it to the administrator.
async fn directory(s: &TestServer) -> Value {
    s.data(
        "admin",
        "{ countries { code focalPoint { id } agencies { id name kind representedCountry users { username roles } } } }",
        json!({}),
    )
    .await
}

#[tokio::test]
async fn an_administrator_adds_an_agency_its_users_and_the_focal_point_in_the_console() {
    let s = TestServer::start_console().await;
    let admin = Session::sign_in(&s, "admin").await;
    let page = admin.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = page.text();
    assert!(text.contains("Italy (IT)"), "{text}");
    assert!(text.contains("Demo Casa Rifugio (NGO shelter)"));
    assert!(text.contains("Demo National Anti-Trafficking Focal Point (Italy)"));

    // A new agency (the country typed in lower case is the country all the same).
    let added = admin
        .post(
            "/admin/agencies",
            &[
                ("name", "Demo Sportello Antitratta (Catania)"),
                ("kind", "NGO"),
                ("country", "it"),
                ("represented", ""),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let agency_page = added.location.unwrap();
    let id = agency_id(&s, "Demo Sportello Antitratta (Catania)").await;
    assert_eq!(
        agency_page,
        format!("/admin/agencies/{id}?done=agency-created")
    );
    let page = admin.get(&agency_page).await;
    assert!(page.text().contains("The agency was added"));
    assert!(page.text().contains("This agency has no user yet"));

    // Its first user, with two roles.
    let created = admin
        .post(
            &format!("/admin/agencies/{id}/users"),
            &[
                ("username", "it.catania"),
                ("display_name", "Demo Operatrice (Catania)"),
                ("roles", "CASE_WORKER"),
                ("roles", "SUPERVISOR"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text());
    let page = admin.get(created.location.as_deref().unwrap()).await;
    let text = page.text();
    assert!(text.contains("The user was added"), "{text}");
    assert!(
        text.contains("it.catania Demo Operatrice (Catania)"),
        "{text}"
    );
    assert!(text.contains("Case worker") && text.contains("Supervisor"));
    let dir = directory(&s).await;
    let italy = dir["countries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "IT")
        .unwrap();
    let agency = italy["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .unwrap();
    assert_eq!(agency["users"][0]["username"], "it.catania");
    assert_eq!(
        agency["users"][0]["roles"].as_array().unwrap().len(),
        2,
        "{agency}"
    );

    // Renamed, and made Italy's focal point.
    let renamed = admin
        .post(
            &format!("/admin/agencies/{id}"),
            &[
                ("name", "Demo Sportello Antitratta (Sicilia)"),
                ("kind", "NATIONAL_FOCAL_POINT"),
                ("represented", ""),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.text());
    assert!(
        admin
            .get(renamed.location.as_deref().unwrap())
            .await
            .text()
            .contains("The changes were saved")
    );
    let focal = admin
        .post("/admin/focal-points", &[("country", "IT"), ("agency", &id)])
        .await;
    assert_eq!(focal.status, StatusCode::SEE_OTHER, "{}", focal.text());
    assert_eq!(
        focal.location.as_deref(),
        Some("/admin?done=focal-point-set#country-IT")
    );
    let country = s
        .data(
            "it.shelter",
            "{ country(code: \"IT\") { focalPoint { id name kind } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        country["country"]["focalPoint"],
        json!({"id": id, "name": "Demo Sportello Antitratta (Sicilia)", "kind": "NATIONAL_FOCAL_POINT"})
    );
    let page = admin.get("/admin?done=focal-point-set").await;
    assert!(page.text().contains("The national focal point was set"));
    assert!(
        page.text()
            .contains("National focal point: Demo Sportello Antitratta (Sicilia)"),
        "{}",
        page.text()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_refused_form_comes_back_with_the_reason_and_what_was_typed() {
    let s = TestServer::start_console().await;
    let admin = Session::sign_in(&s, "admin").await;
    let before = directory(&s).await;

    // Only an embassy represents a country: refused by the API, explained beside the form.
    let refused = admin
        .post(
            "/admin/agencies",
            &[
                ("name", "Demo Centro Nuovo"),
                ("kind", "NGO"),
                ("country", "IT"),
                ("represented", "FR"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text();
    assert!(
        text.contains("Some of what was entered is not valid"),
        "{text}"
    );
    assert!(text.contains("only an embassy or consulate represents a country"));
    assert!(refused.body.contains("id=\"new-agency-error\""));
    assert_eq!(
        input_value(&refused.body, "name").as_deref(),
        Some("Demo Centro Nuovo")
    );
    assert_eq!(
        input_value(&refused.body, "represented").as_deref(),
        Some("FR")
    );
    assert!(refused.body.contains("<option value=\"NGO\" selected>"));

    // A country code that is not one.
    let refused = admin
        .post(
            "/admin/agencies",
            &[
                ("name", "Demo Centro Nuovo"),
                ("kind", "NGO"),
                ("country", "XX"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("ISO 3166-1 alpha-2"));

    // A username that is taken, and a user without a role.
    let shelter = agency_id(&s, "Demo Casa Rifugio (NGO shelter)").await;
    let users = format!("/admin/agencies/{shelter}/users");
    let taken = admin
        .post(
            &users,
            &[
                ("username", "it.shelter"),
                ("display_name", "Demo Twin"),
                ("roles", "SUPERVISOR"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.text().contains("this username is already taken"));
    assert!(taken.body.contains("id=\"new-user-error\""));
    assert_eq!(
        input_value(&taken.body, "display_name").as_deref(),
        Some("Demo Twin")
    );
    assert!(
        taken
            .body
            .contains("name=\"roles\" value=\"SUPERVISOR\" checked"),
        "the chosen role stays chosen"
    );
    let no_role = admin
        .post(
            &users,
            &[("username", "it.new"), ("display_name", "Demo New")],
        )
        .await;
    assert_eq!(no_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_role.text().contains("a user needs at least one role"));

    // A focal point from another country: the reason is shown in that country's section.
    let lyon = agency_id(&s, "Demo Préfecture – Service des étrangers (Lyon)").await;
    let focal = admin
        .post(
            "/admin/focal-points",
            &[("country", "IT"), ("agency", &lyon)],
        )
        .await;
    assert_eq!(focal.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(focal.body.contains("id=\"focal-IT-error\""));
    assert!(
        focal
            .text()
            .contains("the focal point of a country must be an agency in that country")
    );

    // An agency renamed to nothing keeps its name, and the form keeps the empty field.
    let renamed = admin
        .post(
            &format!("/admin/agencies/{shelter}"),
            &[("name", " "), ("kind", "NGO")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(renamed.text().contains("name must not be empty"));
    assert!(renamed.body.contains("id=\"edit-error\""));

    assert_eq!(directory(&s).await, before, "nothing changed");
    s.stop().await;
}

#[tokio::test]
async fn anyone_but_an_administrator_gets_the_api_s_refusal() {
    let s = TestServer::start_console().await;
    let before = directory(&s).await;
    let shelter = agency_id(&s, "Demo Casa Rifugio (NGO shelter)").await;
    for user in ["it.shelter.supervisor", "it.focal", "auditor"] {
        let session = Session::sign_in(&s, user).await;
        assert!(
            !session.get("/").await.body.contains("href=\"/admin\""),
            "{user}: no directory in the menu"
        );
        for path in ["/admin".to_string(), format!("/admin/agencies/{shelter}")] {
            let page = session.get(&path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{user} {path}");
            assert!(
                page.text()
                    .contains("only administrators manage the directory"),
                "{user} {path}: {}",
                page.text()
            );
        }
        let posts: [(String, Vec<(&str, &str)>); 3] = [
            (
                "/admin/agencies".into(),
                vec![("name", "Demo Rogue"), ("kind", "NGO"), ("country", "IT")],
            ),
            (
                format!("/admin/agencies/{shelter}/users"),
                vec![
                    ("username", "it.rogue"),
                    ("display_name", "Demo Rogue"),
                    ("roles", "ADMINISTRATOR"),
                ],
            ),
            (
                "/admin/focal-points".into(),
                vec![("country", "IT"), ("agency", shelter.as_str())],
            ),
        ];
        for (path, fields) in &posts {
            let answer = session.post(path, fields).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{user} {path}");
        }
    }
    // An administrator's form without the session's token changes nothing either.
    let admin = Session::sign_in(&s, "admin").await;
    let forged = admin
        .post_raw(
            "/admin/agencies",
            &[("name", "Demo Rogue"), ("kind", "NGO"), ("country", "IT")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Something that is not an agency is not found.
    let case = admin.get("/admin/agencies/not-an-id").await;
    assert_eq!(case.status, StatusCode::BAD_REQUEST, "{}", case.text());
    assert_eq!(directory(&s).await, before, "nothing changed");
    s.stop().await;
}
