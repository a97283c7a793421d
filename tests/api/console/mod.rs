//! The web console over plain HTTP (no browser): sessions, forms and what each page shows to
//! whom. The browser tests (`tests/browser`) drive the same pages in Chromium.

mod admin;
mod audit;
mod decisions;
mod focal_point;
mod headers;
mod idp;
mod matrix;
mod oidc;
mod pages;
mod sharing;

use crate::harness::TestServer;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// A signed-in browser session, without a browser: its cookie and its form token.
pub struct Session {
    pub base: String,
    client: reqwest::Client,
    cookie: String,
    /// The `Set-Cookie` line the session cookie came with (its flags).
    pub cookie_line: String,
    pub csrf: String,
}

/// An answer: its status, where it redirects, its body.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The text of the page without its markup (what a reader sees), whitespace folded.
    pub fn text(&self) -> String {
        text(&self.body)
    }

    /// The value of header `name`, if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Text without markup, entities decoded for the common ones, whitespace folded.
pub fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The value of `<input name="{name}" value="...">` in a page (the first one).
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The target of the first link whose text is `label` (its `&amp;` decoded).
pub fn link(html: &str, label: &str) -> Option<String> {
    let end = html.find(&format!(">{label}</a>"))?;
    let start = html[..end].rfind("href=\"")? + 6;
    let href = &html[start..end];
    Some(href[..href.find('"')?].replace("&amp;", "&"))
}

fn client() -> reqwest::Client {
    crate::harness::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn answer(response: reqwest::Response) -> Page {
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let set_cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    let headers = response.headers().clone();
    Page {
        status,
        location,
        body: response.text().await.expect("body"),
        set_cookies,
        headers,
    }
}

impl Session {
    /// Signs in on the demo sign-in page as `user`, as a browser would.
    pub async fn sign_in(s: &TestServer, user: &str) -> Session {
        let client = client();
        let page = answer(
            client
                .get(format!("{}/sign-in", s.url))
                .send()
                .await
                .expect("sign-in page"),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let token = input_value(&page.body, "token").expect("sign-in token");
        let pre = page
            .set_cookies
            .iter()
            .find(|c| c.starts_with("trm_sign_in="))
            .and_then(|c| c.split(';').next())
            .expect("sign-in cookie")
            .to_string();
        let signed = answer(
            client
                .post(format!("{}/sign-in/demo", s.url))
                .header(COOKIE, pre)
                .form(&[("token", token.as_str()), ("username", user)])
                .send()
                .await
                .expect("sign in"),
        )
        .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
        let cookie_line = signed
            .set_cookies
            .iter()
            .find(|c| c.starts_with("trm_session="))
            .expect("session cookie")
            .clone();
        let cookie = cookie_line
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut session = Session {
            base: s.url.clone(),
            client,
            cookie,
            cookie_line,
            csrf: String::new(),
        };
        let home = session.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        session.csrf = input_value(&home.body, "csrf").expect("form token");
        session
    }

    /// The `Cookie` header value of the session.
    pub fn cookie_header(&self) -> String {
        self.cookie.clone()
    }

    /// `GET path` with the session's cookie.
    pub async fn get(&self, path: &str) -> Page {
        answer(
            self.client
                .get(format!("{}{path}", self.base))
                .header(COOKIE, &self.cookie)
                .send()
                .await
                .expect("get"),
        )
        .await
    }

    /// `POST path` with `fields` and the session's form token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    /// `POST path` with exactly `fields` (no form token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        answer(
            self.client
                .post(format!("{}{path}", self.base))
                .header(COOKIE, &self.cookie)
                .form(fields)
                .send()
                .await
                .expect("post"),
        )
        .await
    }
}
