//! The `trm` binary as a newcomer runs it: demo start, CLI commands, refusal to start.

use crate::harness::{TestDatabase, workflows_dir};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn trm() -> Command {
    crate::harness::trm_command()
}

/// Starts `trm serve --demo` on a free port; returns the child and its base URL.
fn serve_demo(db: &str, tokens: &std::path::Path) -> (Child, String) {
    let mut child = trm()
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            db,
            "--demo-tokens",
        ])
        .arg(tokens)
        .arg("--workflows")
        .arg(workflows_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn trm serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("trm serve exited before listening")
            .expect("read stdout");
        if let Some(url) = line.strip_prefix("TRM listening on ") {
            break url.trim().to_string();
        }
        printed.push(line);
    };
    assert!(
        printed
            .iter()
            .any(|l| l.contains("it.shelter") && l.contains("trm_")),
        "prints a token per demo user"
    );
    assert!(
        printed.iter().any(|l| l.starts_with("GraphiQL: http://")),
        "prints the GraphiQL URL"
    );
    (child, url)
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    #[cfg(unix)]
    {
        // Graceful shutdown on SIGTERM.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
    }
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    child.wait().expect("wait")
}

async fn me(url: &str, token: &str) -> Value {
    crate::harness::http()
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": "{ me { user { username } agency { country } } }"}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn serve_demo_starts_seeds_once_and_shuts_down_gracefully() {
    let db = TestDatabase::new().await;
    let dir = tempfile::tempdir().unwrap();
    let tokens_file = dir.path().join("tokens.json");
    let (child, url) = serve_demo(&db.url, &tokens_file);
    let tokens: BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(&tokens_file).unwrap()).unwrap();
    assert!(tokens.len() >= 10);
    let body = me(&url, &tokens["ng.focal"]).await;
    assert_eq!(
        body["data"]["me"],
        json!({"user": {"username": "ng.focal"}, "agency": {"country": "NG"}})
    );
    let client = crate::harness::http();
    assert_eq!(
        client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let graphiql = client
        .get(format!("{url}/graphql"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(graphiql.to_lowercase().contains("graphiql"));
    let agencies = client
        .post(format!("{url}/graphql"))
        .bearer_auth(&tokens["it.shelter"])
        .json(&json!({"query": "{ agencies { country } }"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let countries: std::collections::BTreeSet<_> = agencies["data"]["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["country"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ["AT", "BG", "GB", "IT", "NE", "NG"]
            .iter()
            .all(|c| countries.contains(*c)),
        "{countries:?}"
    );
    let status = stop(child);
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");

    // A second start seeds nothing new; earlier tokens keep working.
    let (child, url) = serve_demo(&db.url, &tokens_file);
    let again = client
        .post(format!("{url}/graphql"))
        .bearer_auth(&tokens["it.shelter"])
        .json(&json!({"query": "{ agencies { country } }"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        again["data"]["agencies"].as_array().unwrap().len(),
        agencies["data"]["agencies"].as_array().unwrap().len()
    );
    assert!(stop(child).success());
}

#[test]
fn an_invalid_workflow_file_is_refused_at_start_naming_file_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(workflows_dir().join("trm-adult.v1.toml")).unwrap();
    let broken = source.replacen("to = \"safety_planning\"", "to = \"safety_plannin\"", 1);
    std::fs::write(dir.path().join("trm-adult.v1.toml"), broken).unwrap();
    let db = dir.path().join("refused.db");

    let out = trm()
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
        .arg(&db)
        .arg("--workflows")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("trm-adult.v1.toml:"), "{stderr}");
    assert!(
        stderr.contains("unknown state `safety_plannin`"),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing was created before the refusal");

    let out = trm()
        .args(["workflows", "check", "--workflows"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("safety_plannin"));

    let out = trm()
        .args(["workflows", "check", "--workflows"])
        .arg(workflows_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = trm()
        .args(["workflows", "diagram", "trm-adult", "--workflows"])
        .arg(workflows_dir())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("stateDiagram-v2"));
}

#[test]
fn workflows_check_refuses_a_declaration_that_nothing_carries_out_in_a_latest_version() {
    // A new version of the adult procedure whose floor "escalates": no floor ever does.
    let dir = tempfile::tempdir().unwrap();
    let v3 = std::fs::read_to_string(workflows_dir().join("trm-adult.v3.toml")).unwrap();
    let floor = "blocks = [\"enforce_removal\"]\n";
    assert!(v3.contains(floor));
    let v4 = v3.replacen("version = 3", "version = 4", 1).replacen(
        floor,
        &format!("{floor}escalate_to = [\"SUPERVISOR\"]\n"),
        1,
    );
    let line = v4
        .lines()
        .position(|l| l == "escalate_to = [\"SUPERVISOR\"]")
        .unwrap()
        + 1;
    std::fs::write(dir.path().join("trm-adult.v4.toml"), v4).unwrap();
    let out = trm()
        .args(["workflows", "check", "--workflows"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "trm-adult.v4.toml:{line}: timer `reflection_period`: `escalate_to` on a floor is never carried out"
        )),
        "{stderr}"
    );

    // The shipped superseded versions still load, each such declaration named as a warning.
    let out = trm()
        .args(["workflows", "check", "--workflows"])
        .arg(workflows_dir())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with("warn  ")
            && l.contains("trm-adult.v2.toml:")
            && l.contains("transition `report_not_received`: its label announces an alert")),
        "{stdout}"
    );
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("warn  ") && l.contains("trm-adult.v3.toml:")),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_definition_changed_under_the_same_version_is_refused() {
    let db = TestDatabase::new().await;
    let out = trm()
        .args(["migrate", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // First start registers the definition.
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("t.json");
    let (child, _) = serve_demo(&db.url, &tokens);
    assert!(stop(child).success());
    // Same id and version, different text.
    let wf = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(workflows_dir().join("trm-adult.v1.toml")).unwrap();
    std::fs::write(
        wf.path().join("trm-adult.v1.toml"),
        source.replace("Signal received", "Signal recorded"),
    )
    .unwrap();
    let out = trm()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
            "--workflows",
        ])
        .arg(wf.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("new version"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn token_issue_prints_a_working_token_for_an_existing_user() {
    let db = TestDatabase::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = serve_demo(&db.url, &dir.path().join("t.json"));
    let out = trm()
        .args([
            "token",
            "issue",
            "--user",
            "bg.focal",
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(
        me(&url, &token).await["data"]["me"]["user"]["username"],
        "bg.focal"
    );
    let out = trm()
        .args([
            "token",
            "issue",
            "--user",
            "nobody",
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stop(child).success());
    let out = trm().arg("schema").output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), trm::api::sdl());
}

#[test]
fn the_test_clock_is_refused_in_production_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("prod.db");
    let out = trm()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--test-clock",
            "--production",
            "--database-url",
        ])
        .arg(&db)
        .arg("--workflows")
        .arg(workflows_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--test-clock is refused in production"));
    assert!(!db.exists(), "refused before opening the database");
}
