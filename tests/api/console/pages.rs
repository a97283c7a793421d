//! The console's pages over HTTP: sessions, CSRF, and a case worked through its first steps.

use super::{Session, input_value};
use crate::harness::TestServer;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_page_without_a_session_goes_to_sign_in_and_sign_out_ends_the_session() {
    let s = TestServer::start_console().await;
    let anonymous = crate::harness::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/", "/cases", "/inbox", "/referrals"] {
        let r = anonymous
            .get(format!("{}{path}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], "/sign-in");
    }
    let session = Session::sign_in(&s, "it.shelter").await;
    let home = session.get("/").await;
    assert!(home.text().contains("Demo Case Worker (IT shelter)"));
    let out = session.post("/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.set_cookies
            .iter()
            .any(|c| c.starts_with("trm_session=;") && c.contains("Max-Age=0"))
    );
    // The old cookie no longer signs anyone in.
    assert_eq!(session.get("/").await.location.as_deref(), Some("/sign-in"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_strict_and_forms_need_the_token() {
    let s = TestServer::start_console().await;
    let session = Session::sign_in(&s, "it.shelter").await;
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            session.cookie_line.contains(flag),
            "{}",
            session.cookie_line
        );
    }
    assert!(
        !session.cookie_line.contains("Secure"),
        "plain HTTP in tests: not Secure"
    );
    // A form without the session's token, or with another one, changes nothing.
    for token in ["", "forged"] {
        let r = session
            .post_raw("/cases", &[("csrf", token), ("workflow", "trm-adult")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let cases = s
        .data(
            "it.shelter",
            "{ cases(first: 5) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(cases["cases"]["nodes"].as_array().unwrap().len(), 0);
    // With it, the case is opened.
    let opened = session
        .post(
            "/cases",
            &[("workflow", "trm-adult"), ("idempotency", "k1")],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    // The same form sent twice opens one case.
    let again = session
        .post(
            "/cases",
            &[("workflow", "trm-adult"), ("idempotency", "k1")],
        )
        .await;
    assert_eq!(again.location, opened.location);
    let cases = s
        .data(
            "it.shelter",
            "{ cases(first: 5) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(cases["cases"]["nodes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_case_worker_takes_a_case_through_its_first_steps_in_the_console() {
    let s = TestServer::start_console().await;
    let session = Session::sign_in(&s, "it.shelter").await;
    let opened = session
        .post(
            "/cases",
            &[("workflow", "trm-adult"), ("idempotency", "first")],
        )
        .await;
    let case_path = opened.location.expect("case page");
    let page = session.get(&case_path).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("Signal received"), "{text}");
    assert!(
        page.body.contains("class=\"state current\""),
        "the current state is marked"
    );
    let version = input_value(&page.body, "version").unwrap();
    assert_eq!(version, "1");
    let fired = session
        .post(
            &format!("{case_path}/fire"),
            &[
                ("transition", "start_screening"),
                ("version", "1"),
                ("idempotency", "a"),
                ("f.signal_source", "front_line_indicators"),
                ("reason", "Indicators at intake"),
            ],
        )
        .await;
    assert_eq!(fired.status, StatusCode::SEE_OTHER, "{}", fired.text());
    let after = session.get(fired.location.as_deref().unwrap()).await;
    assert!(
        after.text().contains("Recorded: Start screening"),
        "{}",
        after.text()
    );
    assert!(
        after.text().contains("Indicators at intake"),
        "the reason is in the history"
    );
    // Without consent the guard refuses, with its reason; nothing changes.
    let refused = session
        .post(
            &format!("{case_path}/fire"),
            &[
                ("transition", "record_presumed_victim"),
                ("version", "2"),
                ("idempotency", "b"),
                ("f.indicators_found", "true"),
                ("f.informed_of_rights", "true"),
                ("f.consent_to_referral", "false"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().contains("conditions are not met"),
        "{}",
        refused.text()
    );
    assert!(
        refused.text().contains("informed consent"),
        "the guard's reason is shown"
    );
    // A stale version is explained, with a way to reload.
    let stale = session
        .post(
            &format!("{case_path}/fire"),
            &[
                ("transition", "record_presumed_victim"),
                ("version", "1"),
                ("idempotency", "c"),
                ("f.indicators_found", "true"),
                ("f.informed_of_rights", "true"),
                ("f.consent_to_referral", "true"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.text().contains("Reload the case"));
    let (version, _) = s
        .version_and_history("it.shelter", &case_id(&case_path))
        .await;
    assert_eq!(version, 2, "neither refusal changed the case");
}

/// The API id of a case page's path.
pub fn case_id(path: &str) -> String {
    path.trim_start_matches("/cases/")
        .split(['/', '?', '#'])
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_case_page_and_everything_it_loads_weigh_under_100_kb_compressed() {
    let s = TestServer::start_console().await;
    let session = Session::sign_in(&s, "it.shelter").await;
    let opened = session
        .post("/cases", &[("workflow", "trm-adult"), ("idempotency", "w")])
        .await;
    let path = opened.location.unwrap();
    let client = crate::harness::http();
    let fetch = |url: String| {
        let client = client.clone();
        let cookie = session.cookie_header();
        async move {
            let r = client
                .get(url)
                .header("cookie", cookie)
                .header("accept-encoding", "gzip")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.bytes().await.unwrap().len()
        }
    };
    let html = session.get(&path).await.body;
    let mut total = fetch(format!("{}{path}", s.url)).await;
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|p| p.starts_with("/assets/"))
        .collect();
    assert!(
        assets.len() >= 4,
        "the page loads its stylesheet and scripts: {assets:?}"
    );
    for asset in assets {
        total += fetch(format!("{}{asset}", s.url)).await;
    }
    assert!(
        total < 100 * 1024,
        "first load of a case page: {total} bytes"
    );
}

#[tokio::test]
async fn a_session_ends_after_its_idle_time_and_at_its_absolute_end() {
    let s = TestServer::start_console().await;
    // Idle: 30 minutes without a request.
    let session = Session::sign_in(&s, "it.shelter").await;
    s.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(
        session.get("/").await.status,
        StatusCode::OK,
        "still active"
    );
    s.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(session.get("/").await.location.as_deref(), Some("/sign-in"));
    // Absolute: 12 hours after sign-in, however active.
    let session = Session::sign_in(&s, "it.shelter").await;
    for _ in 0..24 {
        s.clock.advance(chrono::Duration::minutes(29));
        assert_eq!(session.get("/").await.status, StatusCode::OK);
    }
    s.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(session.get("/").await.location.as_deref(), Some("/sign-in"));
}

/// Before anything is sent, a step whose conditions are not met says so, with the workflow's
/// own reasons, in the user's language: here the person's future is not decided during her
/// reflection period (adult procedure, crisis intervention).
#[tokio::test]
async fn a_step_whose_conditions_are_not_met_shows_its_reasons_before_anything_is_sent() {
    let s = TestServer::start_console().await;
    let (id, _) = s.open_workflow("it.shelter", "trm-adult", None).await;
    crate::harness::to_crisis_intervention(&s, "it.shelter", &id).await;
    let session = Session::sign_in(&s, "it.shelter").await;
    let step = |body: &str| {
        let start = body
            .find("id=\"step-move_to_long_term_assistance\"")
            .expect("the step is on the page");
        let end = body[start..]
            .find("</details>")
            .map_or(body.len(), |e| start + e);
        super::text(&body[start..end])
    };
    let page = session.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let english = step(&page.body);
    assert!(english.contains("Not possible yet"), "{english}");
    assert!(
        english.contains("The person's future is not decided during the reflection period"),
        "the guard's own reason: {english}"
    );
    let lang = session.post("/language", &[("lang", "fr")]).await;
    assert_eq!(lang.status, StatusCode::SEE_OTHER, "{}", lang.text());
    let french = step(&session.get(&format!("/cases/{id}")).await.body);
    assert!(french.contains("Pas encore possible"), "{french}");
    assert!(
        french.contains("L'avenir de la personne n'est pas décidé pendant le délai de réflexion"),
        "{french}"
    );
}

/// A step's form offers an enum's values by their labels, in the reader's language (chosen, or
/// from the browser), not by their raw names.
#[tokio::test]
async fn a_step_form_offers_the_enum_values_by_their_labels_in_the_readers_language() {
    let s = TestServer::start_console().await;
    let english = Session::sign_in(&s, "it.shelter").await;
    let opened = english
        .post(
            "/cases",
            &[("workflow", "trm-adult"), ("idempotency", "labels")],
        )
        .await;
    let case_path = opened.location.expect("case page");
    let data = s
        .data(
            "it.shelter",
            "query($id: ID!) { node(id: $id) { ... on Case { workflow { key version } } } }",
            json!({"id": case_id(&case_path)}),
        )
        .await;
    assert_eq!(
        data["node"]["workflow"],
        json!({"key": "trm-adult", "version": 5}),
        "a new case opens on the newest version, which labels its values"
    );
    let option = |label: &str| format!("<option value=\"front_line_indicators\">{label}</option>");

    // In English: the first step's source of the signal, each value by its label.
    let page = english.get(&case_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&option("Indicators seen by front-line staff")),
        "{}",
        page.body
    );
    assert!(page.text().contains("Hotline call"), "{}", page.text());
    assert!(
        !page.text().contains("front line indicators"),
        "no raw value"
    );

    // In French, chosen by the user for the session.
    let french = Session::sign_in(&s, "it.shelter").await;
    let lang = french.post("/language", &[("lang", "fr")]).await;
    assert!(lang.status.is_redirection(), "{}", lang.body);
    let page = french.get(&case_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("Source du signalement"),
        "{}",
        page.text()
    );
    assert!(
        page.body.contains(&option(
            "Indicateurs repérés par un intervenant de première ligne"
        )),
        "{}",
        page.body
    );
    assert!(
        page.text().contains("Appel à la ligne d'écoute"),
        "{}",
        page.text()
    );
    assert!(!page.text().contains("Hotline call"));

    // In French from the browser's language, for a session without a choice.
    let browser = super::answer(
        english
            .client
            .get(format!("{}{case_path}", english.base))
            .header(reqwest::header::COOKIE, english.cookie_header())
            .header(reqwest::header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9,en;q=0.8")
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(browser.status, StatusCode::OK);
    assert!(
        browser.body.contains(&option(
            "Indicateurs repérés par un intervenant de première ligne"
        )),
        "{}",
        browser.body
    );
    s.stop().await;
}

/// Reads the event stream until `wanted` appears in it (or it ends, or 20 s pass): what was read.
async fn read_until(stream: &mut reqwest::Response, wanted: &str) -> String {
    let mut read = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !read.contains(wanted) {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(bytes))) => read.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    read
}

/// The live part of the pages: a case worker's open page hears that its agency's inbox changed
/// (and nothing else: the event names no case, no person), and the stream ends when the server
/// shuts down, so that a page left open in a browser does not hold a shutdown.
#[tokio::test]
async fn an_open_page_hears_its_inbox_change_and_lets_the_server_shut_down() {
    let s = TestServer::start_console().await;
    let session = Session::sign_in(&s, "ng.shelter").await;
    let mut stream = session
        .client
        .get(format!("{}/events", s.url))
        .header(reqwest::header::COOKIE, &session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(
        stream.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let lead = "it.shelter";
    let (case_id, _) = s.open_case(lead).await;
    s.refer_for(
        lead,
        &case_id,
        "ng.shelter",
        "FAMILY_TRACING",
        &["IDENTITY"],
    )
    .await;
    let heard = read_until(&mut stream, "event: changed").await;
    assert!(heard.contains("event: changed"), "{heard:?}");
    assert!(
        !heard.contains(&case_id),
        "the event names no case: {heard:?}"
    );

    let stopped = tokio::time::timeout(std::time::Duration::from_secs(30), s.stop()).await;
    assert!(
        stopped.is_ok(),
        "the server did not shut down while a page listened"
    );
    let rest = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the event stream did not end at shutdown");
}
