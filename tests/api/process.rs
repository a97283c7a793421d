//! The `trm` binary as a separate process, for the drills that kill it, stop it and start it
//! again: a database seeded with the demo network, `trm serve` on a free port, signals.

use crate::harness::{TestDatabase, trm_command, workflows_dir};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A database with the demo network, and the demo users' tokens (seeded in this process; the
/// binary then serves it without `--demo`).
pub async fn seeded_database() -> (TestDatabase, BTreeMap<String, String>) {
    seeded_database_with(&workflows_dir()).await
}

/// [`seeded_database`] with the workflows of `dir`.
pub async fn seeded_database_with(dir: &Path) -> (TestDatabase, BTreeMap<String, String>) {
    let db = TestDatabase::new().await;
    let tokens = seed(&db.url, dir).await;
    (db, tokens)
}

/// Seeds the demo network into the database at `url` with the workflows of `dir`; the demo
/// users' tokens.
pub async fn seed(url: &str, dir: &Path) -> BTreeMap<String, String> {
    let registry = trm::startup::load_workflows(dir).unwrap();
    let app = trm::startup::prepare(
        &trm::store::StoreOptions {
            url: url.to_string(),
            max_connections: 2,
            ..Default::default()
        },
        registry,
        Arc::new(trm::clock::SystemClock),
    )
    .await
    .unwrap();
    let tokens = trm::service::demo::seed(&app)
        .await
        .unwrap()
        .into_iter()
        .collect();
    app.store.clone().close().await.unwrap();
    tokens
}

/// `trm serve` on a free port with `args`; with `log`, its logs (stderr, at `TRM_LOG=trace`, the
/// most the service ever logs) go to that file. Returns the child and its base URL followed by
/// what it printed before listening.
pub fn serve(db: &TestDatabase, args: &[&str], log: Option<&Path>) -> (Child, String) {
    serve_url(&db.url, args, log)
}

/// [`serve`] on a database URL.
pub fn serve_url(db_url: &str, args: &[&str], log: Option<&Path>) -> (Child, String) {
    match try_serve_url(db_url, args, log) {
        Ok(served) => served,
        Err(printed) => panic!("trm serve exited before listening:\n{printed}"),
    }
}

/// [`serve_url`], or what the process printed (stdout and stderr) when it exited before listening.
pub fn try_serve_url(
    db_url: &str,
    args: &[&str],
    log: Option<&Path>,
) -> Result<(Child, String), String> {
    let mut cmd = trm_command();
    // Whatever the service might write next to itself stays out of the repository.
    cmd.current_dir(std::env::temp_dir())
        .env("TRM_LOG", if log.is_some() { "trace" } else { "warn" })
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url]);
    if !args.contains(&"--workflows") {
        cmd.arg("--workflows").arg(workflows_dir());
    }
    cmd.args(args);
    match log {
        Some(path) => cmd.stderr(std::fs::File::create(path).unwrap()),
        None => cmd.stderr(Stdio::piped()),
    };
    spawn_listening(cmd)
}

/// Spawns `cmd` (a `trm serve`, its stderr piped or sent to a file) and waits until it
/// listens: the child and its base URL followed by what it printed before listening, or what
/// the process printed (stdout and a piped stderr) when it exited before listening.
pub fn spawn_listening(mut cmd: Command) -> Result<(Child, String), String> {
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn trm serve");
    let stdout = child.stdout.take().unwrap();
    // Stderr is drained from the start (kept, up to a limit, for the failure message): a server
    // logging more than a pipe holds before it listens must not block on it.
    let stderr = child.stderr.take().map(|err| {
        let kept = Arc::new(std::sync::Mutex::new(String::new()));
        let sink = kept.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut kept = sink.lock().unwrap();
                if kept.len() < 64 * 1024 {
                    kept.push_str(&line);
                    kept.push('\n');
                }
            }
        });
        (kept, reader)
    });
    // Read on a thread, so that a server that neither listens nor exits (a hang at start-up)
    // fails the test after `STARTUP_LIMIT` instead of holding the suite. The thread keeps
    // draining stdout afterwards, so the child never blocks on a full pipe.
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + STARTUP_LIMIT;
    let mut printed = String::new();
    let url = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines_rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("TRM listening on ") {
                    break url.trim().to_string();
                }
                printed.push_str(&line);
                printed.push('\n');
            }
            Err(timeout_or_exit) => {
                if matches!(timeout_or_exit, std::sync::mpsc::RecvTimeoutError::Timeout) {
                    let _ = child.kill();
                    printed.push_str(&format!(
                        "(trm serve did not listen within {} s: killed)\n",
                        STARTUP_LIMIT.as_secs()
                    ));
                }
                let _ = child.wait();
                if let Some((kept, reader)) = stderr {
                    let _ = reader.join();
                    printed.push_str(&kept.lock().unwrap());
                }
                return Err(printed);
            }
        }
    };
    Ok((child, url + "\n" + &printed))
}

/// The longest `trm serve` may take to listen in a test (it takes well under a second; a
/// migration of a large database is not something the tests do).
const STARTUP_LIMIT: Duration = Duration::from_secs(120);

/// A new audit key file, as an operator makes one for `--production` (which requires
/// `--audit-key-file`): its path, under the tests' data directory.
pub fn production_key() -> String {
    let dir = crate::harness::data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("production-{}.key", uuid::Uuid::now_v7().simple()));
    std::fs::write(&path, hex::encode(rand::random::<[u8; 32]>())).unwrap();
    path.to_str().unwrap().to_string()
}

/// Sends `signal` (e.g. "TERM", "KILL") to the child.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// Waits up to `within` for the child to exit; its exit status, or `None` if it still runs.
pub fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops the child with SIGTERM (graceful shutdown), or kills it after 10 s.
pub fn stop(mut child: Child) {
    signal(&child, "TERM");
    if wait_exit(&mut child, Duration::from_secs(10)).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Kills the child with SIGKILL and reaps it.
pub fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}
