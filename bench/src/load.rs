//! Driving load: N concurrent clients for a fixed time, each timing every operation into an
//! HDR histogram; and a GraphQL client that checks every response body.

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::future::Future;
use std::time::{Duration, Instant};

/// What one workload measured.
#[derive(Debug, Clone)]
pub struct Stats {
    pub ops: u64,
    pub seconds: f64,
    /// Latencies in microseconds.
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl Stats {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.seconds
    }
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0} | {} | {} | {}",
            self.per_second(),
            ms(self.p50),
            ms(self.p99),
            ms(self.max)
        )
    }
}

/// Runs `clients` concurrent loops of `op(client, iteration)` for `duration`; any failed
/// operation aborts the workload with its error.
pub async fn drive<F, Fut>(clients: usize, duration: Duration, op: F) -> Result<Stats, String>
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(clients);
    for client in 0..clients {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist =
                Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).map_err(|e| e.to_string())?;
            let mut i = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                op(client, i).await?;
                let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                hist.saturating_record(us.max(1));
                i += 1;
            }
            Ok::<_, String>(hist)
        }));
    }
    let mut all =
        Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).map_err(|e| e.to_string())?;
    for t in tasks {
        let hist = t.await.map_err(|e| e.to_string())??;
        all.add(&hist).map_err(|e| e.to_string())?;
    }
    Ok(Stats {
        ops: all.len(),
        seconds: start.elapsed().as_secs_f64(),
        p50: all.value_at_quantile(0.5),
        p99: all.value_at_quantile(0.99),
        max: all.max(),
    })
}

/// A GraphQL client for one server.
#[derive(Clone)]
pub struct Gql {
    pub http: reqwest::Client,
    pub url: String,
}

impl Gql {
    pub fn new(base: &str) -> Result<Gql, String> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Gql {
            http,
            url: format!("{base}/graphql"),
        })
    }

    /// Posts a request and returns `data`; an HTTP error, a body with `errors` or without
    /// `data` is an error.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Result<Value, String> {
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() || body.get("errors").is_some() {
            return Err(format!("{status}: {body}"));
        }
        match body.get("data") {
            Some(data) if !data.is_null() => Ok(data.clone()),
            _ => Err(format!("no data: {body}")),
        }
    }
}

/// Signs in to the web console as demo user `user` (the server runs with `--demo`) and returns
/// the session cookie (`trm_session=...`) to send with page requests.
pub async fn console_cookie(base: &str, user: &str) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let page = http
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
    };
    let pre = cookie(&page, "trm_sign_in").ok_or("no sign-in cookie")?;
    let html = page.text().await.map_err(|e| e.to_string())?;
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no sign-in token on the page")?
        .to_string();
    let signed = http
        .post(format!("{base}/sign-in/demo"))
        .header(reqwest::header::COOKIE, pre)
        .form(&[("token", token.as_str()), ("username", user)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    cookie(&signed, "trm_session").ok_or_else(|| format!("sign-in as {user} failed"))
}

/// `GET` a console page with a session cookie; an answer other than 200 with `marker` in it
/// is an error.
pub async fn page(
    http: &reqwest::Client,
    url: &str,
    cookie: &str,
    marker: &str,
) -> Result<(), String> {
    let response = http
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if status != reqwest::StatusCode::OK || !body.contains(marker) {
        return Err(format!("{url}: {status}"));
    }
    Ok(())
}
