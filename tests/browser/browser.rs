//! A headless Chromium driven over WebDriver, and what the tests ask of every page.

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// ChromeDriver and one browser session; both end when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// The service's origin (`http://127.0.0.1:port`).
    pub base: String,
    /// Every URL the browser was on (to check none carries personal data).
    pub visited: Vec<String>,
    /// Every text typed with [`Browser::type_into`].
    typed: std::sync::Mutex<Vec<String>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether the browser tests are to be skipped on this machine (`TRM_SKIP_BROWSER_TESTS=1`).
pub fn skipped() -> bool {
    if std::env::var("TRM_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("browser tests skipped (TRM_SKIP_BROWSER_TESTS=1)");
        return true;
    }
    false
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with `language` as the browser's language.
    pub async fn start(base: &str, language: &str) -> Browser {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {driver_bin} ({e}): install the distribution's `chromium` and \
                     `chromium-driver` packages (.ci/run does), or set TRM_SKIP_BROWSER_TESTS=1"
                )
            });
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1000", format!("--lang={language}"),
                         "--no-first-run", "--disable-extensions", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--metrics-recording-only"],
                "prefs": {"intl.accept_languages": language},
            }
        });
        let caps = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let mut client = None;
        for _ in 0..50 {
            // ChromeDriver listens on plain HTTP on the loopback: no TLS.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let client = client.expect("ChromeDriver did not start a Chromium session");
        Browser {
            client,
            driver,
            base: base.to_string(),
            visited: Vec::new(),
            typed: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Goes to `path` of the service.
    pub async fn go(&mut self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("goto");
        self.after_navigation().await;
    }

    /// What every page must satisfy once loaded: recorded for the URL check, nothing fetched from
    /// any host but the service.
    pub async fn after_navigation(&mut self) {
        let url = self.client.current_url().await.expect("url").to_string();
        self.visited.push(url);
        let loaded = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)\
                 .concat([location.href]);",
                vec![],
            )
            .await
            .expect("resources");
        for url in loaded.as_array().into_iter().flatten() {
            let url = url.as_str().unwrap_or_default();
            assert!(
                url.starts_with(&self.base),
                "the page fetched {url}, which is not the service ({})",
                self.base
            );
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Clicks the element and waits for the next page.
    pub async fn click(&mut self, css: &str) {
        self.find(css).await.click().await.expect("click");
        self.settle().await;
    }

    /// Waits until the document is loaded, then checks it ([`Browser::after_navigation`]).
    pub async fn settle(&mut self) {
        for _ in 0..100 {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await
                .unwrap_or(Value::Null);
            if state == "complete" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.after_navigation().await;
    }

    /// Chooses `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Types `text` into the field `css` (remembered: no URL may carry it, see
    /// [`Browser::assert_urls_free_of`]).
    pub async fn type_into(&self, css: &str, text: &str) {
        if let Ok(mut typed) = self.typed.lock() {
            typed.push(text.to_string());
        }
        let field = self.find(css).await;
        field.clear().await.ok();
        field.send_keys(text).await.expect("type");
    }

    /// The visible text of the page's main part. If the page is replaced between finding its
    /// main part and reading it (the answer to a form arriving just then), the new page's.
    pub async fn main_text(&self) -> String {
        for _ in 0..20 {
            match self.find("main").await.text().await {
                Ok(text) => return text,
                Err(e) if e.is_stale_element_reference() => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("text: {e}"),
            }
        }
        panic!("the page's main part was replaced again and again")
    }

    pub async fn html_lang(&self) -> String {
        self.client
            .execute("return document.documentElement.lang", vec![])
            .await
            .expect("lang")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Writes a screenshot of the page to `target/console-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Presses Tab until the focused element matches `css` (at most `limit` times); the number
    /// of presses. Fails if it is never reached: then it cannot be reached by keyboard.
    pub async fn tab_to(&self, css: &str, limit: usize) -> usize {
        for n in 1..=limit {
            self.client
                .active_element()
                .await
                .expect("focused element")
                .send_keys(&Key::Tab.to_string())
                .await
                .expect("tab");
            let hit = self
                .client
                .execute(
                    "return document.activeElement && document.activeElement.matches(arguments[0]);",
                    vec![json!(css)],
                )
                .await
                .expect("active element");
            if hit == Value::Bool(true) {
                return n;
            }
        }
        panic!("{css} was not reached by {limit} presses of Tab");
    }

    /// Presses a key on the focused element.
    pub async fn press(&self, key: Key) {
        self.client
            .active_element()
            .await
            .expect("focused element")
            .send_keys(&key.to_string())
            .await
            .expect("key");
    }

    /// Visits each of `paths` and runs axe-core there: the serious and critical violations,
    /// each named by `who` and the path.
    pub async fn accessibility_of(&mut self, who: &str, paths: &[String]) -> Vec<String> {
        let mut report = Vec::new();
        for path in paths {
            self.go(path).await;
            report.extend(
                self.accessibility_violations()
                    .await
                    .into_iter()
                    .map(|v| format!("{who} {path} {v}")),
            );
        }
        report
    }

    /// Runs axe-core (vendored) on the page; the serious and critical violations, as
    /// "rule: target" lines.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        const AXE: &str = include_str!("vendor/axe.min.js");
        self.client.execute(AXE, vec![]).await.expect("axe loads");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})\
                   .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                     .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("axe runs");
        result
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// Asserts no visited URL contains any of `secrets` (personal data recorded for the test)
    /// nor any text typed with [`Browser::type_into`] that could be personal (a case reference
    /// typed into a search is vocabulary, not personal data).
    pub fn assert_urls_free_of(&self, secrets: &[&str]) {
        let typed = self.typed.lock().map(|t| t.clone()).unwrap_or_default();
        let typed = typed
            .iter()
            .map(String::as_str)
            .filter(|t| t.len() >= 4 && !is_case_reference(t));
        let secrets: Vec<&str> = secrets.iter().copied().chain(typed).collect();
        assert!(!self.visited.is_empty(), "no page was visited");
        for url in &self.visited {
            let decoded = url.replace('+', " ").replace("%20", " ");
            for secret in &secrets {
                assert!(
                    !decoded.contains(secret) && !url.contains(secret),
                    "the URL {url} carries {secret:?}"
                );
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// Whether `text` is a case reference (`IT-2026-000001`).
fn is_case_reference(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 2
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// Signs in on the demo sign-in page by clicking the user's card.
pub async fn sign_in(b: &mut Browser, user: &str) {
    b.go("/sign-in").await;
    b.click(&format!("#as-{}", user.replace('.', "\\."))).await;
    let url = b.client.current_url().await.expect("url");
    assert_eq!(url.path(), "/", "signed in, the user lands on their work");
}
