//! Driving load: N concurrent clients for a fixed time, each timing every operation into an
//! HDR histogram; and a GraphQL client that checks every response body.

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::future::Future;
use std::time::{Duration, Instant};

/// What one workload measured (over one or more rounds).
#[derive(Debug, Clone)]
pub struct Stats {
    pub ops: u64,
    pub seconds: f64,
    /// Latencies in microseconds.
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
    /// Every latency, to merge rounds.
    hist: Histogram<u64>,
    /// Operations per second of each round merged into this.
    pub rounds: Vec<f64>,
}

/// A histogram of latencies in microseconds, up to ten minutes.
pub fn histogram() -> Result<Histogram<u64>, String> {
    Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).map_err(|e| e.to_string())
}

impl Stats {
    /// `hist.len()` operations in `seconds`.
    pub fn new(hist: Histogram<u64>, seconds: f64) -> Stats {
        let ops = hist.len();
        Stats {
            ops,
            seconds,
            p50: hist.value_at_quantile(0.5),
            p99: hist.value_at_quantile(0.99),
            max: hist.max(),
            hist,
            rounds: vec![ops as f64 / seconds],
        }
    }

    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.seconds
    }

    /// Adds another round of the same workload: operations and time add up, percentiles are
    /// over every latency of both.
    pub fn merge(&mut self, other: Stats) -> Result<(), String> {
        self.hist.add(&other.hist).map_err(|e| e.to_string())?;
        self.ops += other.ops;
        self.seconds += other.seconds;
        self.p50 = self.hist.value_at_quantile(0.5);
        self.p99 = self.hist.value_at_quantile(0.99);
        self.max = self.hist.max();
        self.rounds.extend(other.rounds);
        Ok(())
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
            let mut hist = histogram()?;
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
    let mut all = histogram()?;
    for t in tasks {
        let hist = t.await.map_err(|e| e.to_string())??;
        all.add(&hist).map_err(|e| e.to_string())?;
    }
    Ok(Stats::new(all, start.elapsed().as_secs_f64()))
}

/// Runs one OS thread per element of `clients` (each thread owns its state, say a database
/// connection, opened before the clock starts), looping `op(state, iteration)` for `duration`:
/// for blocking clients such as SQLite's C API. Any failed operation stops every thread and
/// fails the workload with its error.
pub fn drive_threads<S, F>(clients: Vec<S>, duration: Duration, op: F) -> Result<Stats, String>
where
    S: Send,
    F: Fn(&mut S, u64) -> Result<(), String> + Sync,
{
    let failed = std::sync::atomic::AtomicBool::new(false);
    let start = Instant::now();
    let deadline = start + duration;
    let results: Vec<Result<Histogram<u64>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .into_iter()
            .map(|mut state| {
                let (op, failed) = (&op, &failed);
                scope.spawn(move || {
                    let mut hist = histogram()?;
                    let mut i = 0u64;
                    while Instant::now() < deadline
                        && !failed.load(std::sync::atomic::Ordering::Relaxed)
                    {
                        let t = Instant::now();
                        if let Err(e) = op(&mut state, i) {
                            failed.store(true, std::sync::atomic::Ordering::Relaxed);
                            return Err(e);
                        }
                        let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                        hist.saturating_record(us.max(1));
                        i += 1;
                    }
                    Ok(hist)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a client thread panicked".into()))
            })
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let mut all = histogram()?;
    for hist in results {
        all.add(&hist?).map_err(|e| e.to_string())?;
    }
    Ok(Stats::new(all, seconds))
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
