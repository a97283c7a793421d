//! GraphiQL at `GET /graphql` works without the internet: the page and everything it loads come
//! from the server itself, under a Content-Security-Policy that allows no inline script and no
//! `eval`; `--graphiql false` serves none of it.

use crate::harness::TestServer;
use crate::process::{seeded_database, serve, stop};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use std::collections::BTreeMap;

/// The page's policy, directive by directive.
fn policy(header: &str) -> BTreeMap<String, Vec<String>> {
    header
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace().map(str::to_string);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

/// The values of every `name="..."` attribute of `html`.
fn attributes<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// `GET` of `path` on `s`.
async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    s.client
        .get(format!("{}{path}", s.url))
        .send()
        .await
        .unwrap()
}

/// Fetches the GraphiQL page of `s`; returns its policy, its text and the URLs it loads.
async fn fetch_page(s: &TestServer) -> (BTreeMap<String, Vec<String>>, String, Vec<String>) {
    let res = get(s, "/graphql").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = policy(res.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap());
    let html = res.text().await.unwrap();
    let mut urls: Vec<String> = attributes(&html, "src")
        .into_iter()
        .map(String::from)
        .collect();
    urls.extend(attributes(&html, "href").into_iter().map(String::from));
    (csp, html, urls)
}

#[tokio::test]
async fn graphiql_loads_nothing_from_elsewhere_under_a_strict_policy() {
    let s = TestServer::start().await;
    let (csp, html, urls) = fetch_page(&s).await;

    // The policy: scripts from this server only, nothing inline, no eval; styles from this
    // server, plus the nonce GraphiQL's dialogs use; requests to this server; no framing.
    assert_eq!(csp["default-src"], ["'none'"]);
    assert_eq!(csp["script-src"], ["'self'"], "no inline script, no eval");
    assert!(
        !csp.values().flatten().any(|v| v.contains("unsafe")),
        "{csp:?}"
    );
    assert_eq!(csp["connect-src"], ["'self'"]);
    assert_eq!(csp["frame-ancestors"], ["'none'"]);
    let style = &csp["style-src"];
    assert_eq!(style.len(), 2, "{style:?}");
    assert_eq!(style[0], "'self'");
    let nonce = style[1]
        .strip_prefix("'nonce-")
        .and_then(|n| n.strip_suffix('\''))
        .unwrap();
    assert_eq!(
        attributes(&html, "nonce"),
        [nonce],
        "the page hands it to init.js"
    );
    let (again, _, _) = fetch_page(&s).await;
    assert_ne!(again["style-src"], csp["style-src"], "a new nonce per page");

    // No other host anywhere in the page, no inline script or style.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    for script in html.split("<script").skip(1) {
        let (tag, rest) = script.split_once('>').unwrap();
        assert!(
            tag.contains(" src=\"") && rest.starts_with("</script>"),
            "a file: {script}"
        );
    }
    assert!(
        !html.contains("<style") && !html.contains(" style="),
        "{html}"
    );

    // Everything the page loads is on this server, named by its content and cached for good.
    let page = reqwest::Url::parse(&format!("{}/graphql", s.url)).unwrap();
    let mut loaded = Vec::new();
    for url in &urls {
        if url == "data:," {
            continue; // the empty favicon, so that the browser asks for none
        }
        assert!(!url.contains(':') && !url.starts_with("//"), "{url}");
        let url = page.join(url).unwrap();
        assert_eq!(url.origin(), page.origin(), "{url}");
        let res = s.client.get(url.clone()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let name = url
            .path_segments()
            .unwrap()
            .next_back()
            .unwrap()
            .to_string();
        let expected_type = match name.rsplit_once('.').unwrap().1 {
            "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            other => panic!("{url}: .{other}"),
        };
        assert_eq!(res.headers()[CONTENT_TYPE], expected_type, "{url}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{url}");
        let cache = res.headers()[CACHE_CONTROL].to_str().unwrap().to_string();
        assert!(
            cache.contains("max-age=31536000") && cache.contains("immutable"),
            "{url}: {cache}"
        );
        let body = res.bytes().await.unwrap();
        // `graphiql.min.<hash>.js` is `graphiql.min.js` of the repository, byte for byte.
        let (stem, extension) = name.rsplit_once('.').unwrap();
        let (stem, hash) = stem.rsplit_once('.').unwrap();
        assert_eq!(hash.len(), 16, "{name}");
        let file = format!("{stem}.{extension}");
        let source = match file.as_str() {
            "init.js" | "page.css" => format!("src/server/graphiql/{file}"),
            _ => format!("vendor/graphiql/{file}"),
        };
        let on_disk = std::fs::read(format!("{}/{source}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(body == on_disk, "{url} is not {source}");
        if file == "init.js" {
            let text = String::from_utf8(body.to_vec()).unwrap();
            assert!(
                !text.contains("http://") && !text.contains("https://"),
                "{text}"
            );
        }
        loaded.push(file);
    }
    loaded.sort();
    assert_eq!(
        loaded,
        [
            "graphiql.min.css",
            "graphiql.min.js",
            "init.js",
            "page.css",
            "react-dom.production.min.js",
            "react.production.min.js",
        ]
    );
    let res = get(&s, "/graphql/assets/graphiql.min.js").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "only hashed names");
    s.stop().await;
}

#[tokio::test]
async fn graphiql_false_serves_neither_the_page_nor_its_files() {
    let s = TestServer::start().await;
    let (_, _, urls) = fetch_page(&s).await;
    s.stop().await;

    let (db, _) = seeded_database().await;
    let (child, out) = serve(&db, &["--graphiql", "false"], None);
    let url = out.lines().next().unwrap().to_string();
    let page = reqwest::Url::parse(&format!("{url}/graphql")).unwrap();
    let http = crate::harness::http();
    let res = http.get(page.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for asset in urls.iter().filter(|u| u.starts_with("graphql/")) {
        let res = http.get(page.join(asset).unwrap()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{asset}");
    }
    stop(child);
}
