//! Every console page answers with the Content-Security-Policy (no inline script or style, no
//! other host) and the security headers; session cookies are `Secure` when secure cookies are
//! on (production, or the flag); assets are named by their content.

use super::{Page, Session};
use crate::harness::TestServer;
use reqwest::StatusCode;
use serde_json::json;

fn assert_secure(what: &str, page: &Page) {
    let csp = page
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{what}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains('*'),
        "{what}: {csp}"
    );
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        assert_eq!(page.header(name), Some(value), "{what}: {name}");
    }
    if page
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
    {
        // What the policy would block anyway: no page relies on it.
        assert!(!page.body.contains("<script>"), "{what}: an inline script");
        assert!(!page.body.contains(" style=\""), "{what}: an inline style");
        assert!(
            !page.body.contains(" onclick="),
            "{what}: an inline handler"
        );
    }
}

#[tokio::test]
async fn every_console_page_answers_with_the_content_security_policy_and_the_security_headers() {
    let s = TestServer::start_console().await;
    let (case_id, _) = s.open_workflow("it.shelter", "trm-adult", None).await;
    let ngo = s.agency_id("ng.shelter").await;
    let consent = s
        .consent_for("it.shelter", &case_id, "ng.shelter", &["IDENTITY"])
        .await;
    let referral = s
        .data("it.shelter", "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": {"caseId": case_id, "toAgencyId": ngo, "service": "OTHER",
                "purpose": "synthetic", "sharedGroups": ["IDENTITY"], "consentId": consent}}))
        .await["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Before sign-in.
    let anonymous = crate::harness::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/sign-in", "/", "/cases/nothing"] {
        let page = super::answer(
            anonymous
                .get(format!("{}{path}", s.url))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_secure(path, &page);
    }

    let pages: Vec<(&str, Vec<String>)> = vec![
        (
            "it.shelter",
            vec![
                "/".into(),
                "/inbox".into(),
                "/cases".into(),
                format!("/cases/{case_id}"),
                format!("/cases/{case_id}/refer"),
                format!("/cases/{case_id}/consent"),
                "/referrals".into(),
                format!("/referrals/{referral}"),
                "/cases/not-a-case".into(),
                "/transfers/not-a-transfer".into(),
            ],
        ),
        (
            "ng.shelter",
            vec![
                format!("/referrals/{referral}"),
                format!("/cases/{case_id}"),
            ],
        ),
        (
            "auditor",
            vec!["/audit".into(), format!("/audit/cases/{case_id}")],
        ),
        ("it.focal", vec!["/focal-point".into()]),
        ("admin", vec!["/admin".into()]),
    ];
    for (user, paths) in pages {
        let session = Session::sign_in(&s, user).await;
        for path in paths {
            let page = session.get(&path).await;
            assert!(
                [
                    StatusCode::OK,
                    StatusCode::NOT_FOUND,
                    StatusCode::BAD_REQUEST
                ]
                .contains(&page.status),
                "{user} {path}: {}",
                page.status
            );
            assert_secure(&format!("{user} {path}"), &page);
        }
        // A form answered with a page (the referral preview) and one refused for its token.
        if user == "it.shelter" {
            let preview = session
                .post(
                    &format!("/cases/{case_id}/refer"),
                    &[
                        ("to", ngo.as_str()),
                        ("groups", "IDENTITY"),
                        ("action", "preview"),
                    ],
                )
                .await;
            assert_secure("the referral preview", &preview);
            let refused = session
                .post_raw("/cases", &[("csrf", "forged"), ("workflow", "trm-adult")])
                .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
            assert_secure("a refused form", &refused);
        }
    }

    // The assets the pages load: named by content, cached for good, revalidated under their
    // plain names; the ETag is the content's hash.
    let session = Session::sign_in(&s, "it.shelter").await;
    let page = session.get("/").await;
    let assets: Vec<&str> = page
        .body
        .split('"')
        .filter(|p| p.starts_with("/assets/"))
        .collect();
    assert_eq!(assets.len(), 5, "{assets:?}");
    for asset in assets {
        let file = asset.trim_start_matches("/assets/");
        let parts: Vec<&str> = file.split('.').collect();
        let hash = parts[parts.len() - 2];
        assert!(
            hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{asset}"
        );
        let hashed = session.get(asset).await;
        assert_eq!(hashed.status, StatusCode::OK, "{asset}");
        assert_secure(asset, &hashed);
        let cache = hashed.header("cache-control").unwrap();
        assert!(cache.contains("immutable") && cache.contains("max-age=31536000"));
        let etag = hashed.header("etag").unwrap().to_string();
        assert_eq!(etag, format!("\"{hash}\""), "{asset}");
        assert!(
            !etag.contains("trm-"),
            "not the version of the build: {etag}"
        );
        let plain = asset.replacen(&format!(".{}", etag.trim_matches('"')), "", 1);
        let unhashed = session.get(&plain).await;
        assert_eq!(unhashed.status, StatusCode::OK, "{plain}");
        assert_eq!(unhashed.header("cache-control"), Some("no-cache"));
        assert_eq!(unhashed.header("etag"), Some(etag.as_str()));
        assert_eq!(unhashed.body, hashed.body);
        let again = crate::harness::http()
            .get(format!("{}{plain}", s.url))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{plain}");
    }
}

#[tokio::test]
async fn with_secure_cookies_on_the_session_and_sign_in_cookies_are_secure() {
    let mut options = trm::server::HttpOptions::default();
    options.console.demo_sign_in = true;
    options.console.secure_cookies = true;
    let s = TestServer::start_with(options).await;
    let session = Session::sign_in(&s, "it.shelter").await;
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            session.cookie_line.contains(flag),
            "{}",
            session.cookie_line
        );
    }
    let sign_in = super::answer(
        crate::harness::http()
            .get(format!("{}/sign-in", s.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let pre = sign_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("trm_sign_in="))
        .expect("sign-in cookie");
    assert!(pre.contains("Secure"), "{pre}");
    let out = session.post("/sign-out", &[]).await;
    assert!(
        out.set_cookies
            .iter()
            .any(|c| c.starts_with("trm_session=;") && c.contains("Secure")),
        "{:?}",
        out.set_cookies
    );
}
