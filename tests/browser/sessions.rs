//! Signing in and out, the session cookie, forms from elsewhere, languages, the keyboard.

use crate::browser::{Browser, sign_in, skipped};
use crate::harness::TestServer;
use fantoccini::key::Key;

#[tokio::test]
async fn sign_in_and_sign_out_with_a_session_cookie_no_script_can_read() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let mut b = Browser::start(&s.url, "en").await;
    b.go("/").await;
    assert_eq!(b.client.current_url().await.unwrap().path(), "/sign-in");
    b.screenshot("sign-in").await;
    sign_in(&mut b, "it.shelter").await;
    let header = b.find("header").await.text().await.unwrap();
    assert!(header.contains("Demo Case Worker (IT shelter)"), "{header}");
    let cookie = b.client.get_named_cookie("trm_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(
        cookie.same_site().map(|s| s.to_string()).as_deref(),
        Some("Strict")
    );
    let visible = b
        .client
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    assert!(
        !visible.as_str().unwrap_or_default().contains("trm_session"),
        "scripts cannot read the session"
    );
    // Browser storage holds no token (htmx keeps the current path there, nothing else).
    let stored = b
        .client
        .execute(
            "return JSON.stringify(localStorage) + JSON.stringify(sessionStorage)",
            vec![],
        )
        .await
        .unwrap();
    let stored = stored.as_str().unwrap_or_default();
    assert!(
        !stored.contains(cookie.value()),
        "the session is not in browser storage"
    );
    assert!(
        !stored.contains("trm_"),
        "no token in browser storage: {stored}"
    );
    b.screenshot("work").await;
    b.click("header form[action='/sign-out'] button").await;
    assert_eq!(b.client.current_url().await.unwrap().path(), "/sign-in");
    b.go("/cases").await;
    assert_eq!(
        b.client.current_url().await.unwrap().path(),
        "/sign-in",
        "after sign-out no page opens"
    );
    b.close().await;
}

#[tokio::test]
async fn a_form_whose_token_was_tampered_with_changes_nothing() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let mut b = Browser::start(&s.url, "en").await;
    sign_in(&mut b, "it.shelter").await;
    b.go("/cases").await;
    b.client
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged');",
            vec![],
        )
        .await
        .unwrap();
    b.click("#open button[type=submit]").await;
    let text = b.main_text().await;
    assert!(text.contains("Nothing was changed"), "{text}");
    let cases = s
        .data(
            "it.shelter",
            "{ cases(first: 5) { nodes { id } } }",
            serde_json::json!({}),
        )
        .await;
    assert!(cases["cases"]["nodes"].as_array().unwrap().is_empty());
    b.close().await;
}

#[tokio::test]
async fn the_console_speaks_french_when_the_browser_or_the_user_asks() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    // The browser's language decides before sign-in and after.
    let mut b = Browser::start(&s.url, "fr-FR").await;
    b.go("/sign-in").await;
    assert_eq!(b.html_lang().await, "fr");
    assert!(
        b.main_text()
            .await
            .contains("Utilisateurs de démonstration")
    );
    sign_in(&mut b, "ml.childprotection").await;
    assert!(b.main_text().await.contains("Mon travail"));
    b.go("/cases").await;
    b.find("#open input[value='trm-child']")
        .await
        .click()
        .await
        .unwrap();
    b.click("#open button[type=submit]").await;
    let text = b.main_text().await;
    assert!(text.contains("Où en est le dossier"), "{text}");
    assert!(text.contains("Prochaines étapes"), "{text}");
    b.screenshot("case-fr").await;
    b.assert_urls_free_of(&[]);
    b.close().await;
    // An English browser switches to French, and the choice stays for the session.
    let mut b = Browser::start(&s.url, "en").await;
    sign_in(&mut b, "it.shelter").await;
    assert_eq!(b.html_lang().await, "en");
    b.select("#lang-select", "fr").await;
    b.click("header form.lang button").await;
    assert_eq!(b.html_lang().await, "fr");
    b.go("/inbox").await;
    assert_eq!(b.html_lang().await, "fr");
    assert!(b.main_text().await.contains("Messages"));
    b.close().await;
}

#[tokio::test]
async fn a_case_worker_signs_in_opens_a_case_and_takes_a_step_with_the_keyboard_only() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let mut b = Browser::start(&s.url, "en").await;
    b.go("/sign-in").await;
    // The first Tab reaches the skip link.
    b.tab_to("a.skip", 1).await;
    b.tab_to("#as-it\\.shelter", 60).await;
    b.press(Key::Enter).await;
    b.settle().await;
    assert_eq!(b.client.current_url().await.unwrap().path(), "/");
    b.tab_to("a[href='/cases']", 30).await;
    b.press(Key::Enter).await;
    b.settle().await;
    b.tab_to("#open button[type=submit]", 60).await;
    b.press(Key::Enter).await;
    b.settle().await;
    assert!(
        b.client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/cases/")
    );
    // Open the step, choose the source of the signal, send.
    b.tab_to("#step-start_screening > summary", 80).await;
    b.press(Key::Enter).await;
    b.tab_to("#start_screening-signal_source", 5).await;
    // A closed select takes arrow keys.
    b.press(Key::Down).await;
    b.tab_to("#step-start_screening button[type=submit]", 20)
        .await;
    b.press(Key::Enter).await;
    b.settle().await;
    let text = b.main_text().await;
    assert!(text.contains("Recorded: Start screening"), "{text}");
    // The message of the result has the focus (a screen reader reads it).
    let focused = b
        .client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(focused.as_str(), Some("flash"));
    b.assert_urls_free_of(&[]);
    b.close().await;
}
