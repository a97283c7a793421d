//! Every deployment signs its audit checkpoints: without `--audit-key-file` an instance signs
//! with its database's default key, generated once (mode 0600) in the data directory, never in
//! the working directory; `--production` refuses to start without the file; a key an earlier
//! TRM left next to a SQLite file is not replaced behind the operator's back.

use crate::harness::{trm_command, workflows_dir};
use crate::process::{self, spawn_listening};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `trm serve` on `db_url` with `data_dir` as its data directory, run from `cwd`.
fn serve(db_url: &str, data_dir: &Path, cwd: &Path, extra: &[&str]) -> Command {
    let mut cmd = trm_command();
    cmd.current_dir(cwd)
        .env("TRM_DATA_DIR", data_dir)
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url])
        .args(["--scheduler-interval-secs", "0", "--workflows"])
        .arg(workflows_dir())
        .args(extra)
        .stderr(Stdio::piped());
    cmd
}

async fn gql(url: &str, token: &str, query: &str) -> Value {
    crate::harness::http()
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The `*.key` files directly in `dir`.
fn keys_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "key"))
                .collect()
        })
        .unwrap_or_default()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_server_without_a_key_file_signs_with_its_databases_default_key() {
    // On PostgreSQL when the suite runs there (where a server used to sign nothing), else SQLite.
    let (db, tokens) = process::seeded_database().await;
    let home = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let data_dir = home.path().join("share").join("trm");

    let (child, printed) = spawn_listening(serve(&db.url, &data_dir, cwd.path(), &[])).unwrap();
    let url = printed.lines().next().unwrap().to_string();
    let keys = keys_in(&data_dir);
    assert_eq!(
        keys.len(),
        2,
        "the audit key and the person-match key, in the data directory: {keys:?}"
    );
    let named = |prefix: &str| {
        keys.iter()
            .find(|k| {
                k.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .unwrap_or_else(|| panic!("no {prefix}*.key in {keys:?}"))
            .clone()
    };
    let key_file = &named("audit-");
    assert_eq!(mode(key_file), 0o600, "readable by its owner only");
    let match_file = named("match-");
    assert_eq!(mode(&match_file), 0o600, "the person-match key too");
    assert!(
        printed.contains(&format!("({}, generated now)", match_file.display())),
        "{printed}"
    );
    assert_eq!(mode(&data_dir), 0o700, "the directory too");
    let key = trm::audit::AuditKey::load(key_file).unwrap();
    assert!(
        printed.contains(&format!(
            "Audit checkpoints signed with key {} ({}, generated now)",
            key.key_id(),
            key_file.display()
        )),
        "{printed}"
    );
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "nothing in the working directory"
    );
    if let Some(file) = db.url.strip_prefix("sqlite://") {
        let next_to = Path::new(file).parent().unwrap();
        assert!(keys_in(next_to).is_empty(), "no key next to the database");
    }

    // It signs checkpoints with that key.
    let opened = gql(
        &url,
        &tokens["it.shelter"],
        "mutation { openCase(input: {workflowId: \"trm-adult\"}) { case { id } } }",
    )
    .await;
    assert!(opened.get("errors").is_none(), "{opened}");
    let checkpoint = gql(
        &url,
        &tokens["auditor"],
        "mutation { createCheckpoint { treeSize keyId } }",
    )
    .await;
    assert_eq!(
        checkpoint["data"]["createCheckpoint"]["keyId"],
        key.key_id(),
        "{checkpoint}"
    );
    process::stop(child);

    // Another instance on this machine serving the same database signs with the same key.
    let (child, printed) = spawn_listening(serve(&db.url, &data_dir, cwd.path(), &[])).unwrap();
    assert!(
        printed.contains(&format!(
            "Audit checkpoints signed with key {} ({})",
            key.key_id(),
            key_file.display()
        )),
        "{printed}"
    );
    assert_eq!(keys_in(&data_dir).len(), 2, "no new key either");
    process::stop(child);

    // `trm audit verify` finds the key there and holds the checkpoints to it.
    let out = trm_command()
        .env("TRM_DATA_DIR", &data_dir)
        .args(["audit", "verify", "--database-url", &db.url, "--workflows"])
        .arg(workflows_dir())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("signed by key {}", key.key_id())) && text.contains("OK"),
        "{text}"
    );
}

#[tokio::test]
async fn production_refuses_to_start_without_an_audit_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("prod.db");
    let db_url = db.to_str().unwrap();
    let data_dir = dir.path().join("data");
    let out = serve(db_url, &data_dir, dir.path(), &["--production"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--production needs --audit-key-file"),
        "{stderr}"
    );
    assert!(!db.exists(), "refused before opening the database");
    assert!(!data_dir.exists(), "no key generated");

    // With the file the operator made, it starts and signs with it.
    let key_file = dir.path().join("audit.key");
    std::fs::write(&key_file, hex::encode([7u8; 32])).unwrap();
    let key = trm::audit::AuditKey::load(&key_file).unwrap();
    let key_arg = key_file.to_str().unwrap();
    let out = serve(
        db_url,
        &data_dir,
        dir.path(),
        &["--production", "--audit-key-file", key_arg],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--production needs --match-key-file"),
        "the person-match secret is the operator's file too: {stderr}"
    );
    let match_file = dir.path().join("match.key");
    std::fs::write(&match_file, hex::encode([8u8; 32])).unwrap();
    let (child, printed) = spawn_listening(serve(
        db_url,
        &data_dir,
        dir.path(),
        &[
            "--production",
            "--audit-key-file",
            key_arg,
            "--match-key-file",
            match_file.to_str().unwrap(),
        ],
    ))
    .unwrap();
    assert!(printed.contains(&key.key_id()), "{printed}");
    process::stop(child);
    assert!(!data_dir.exists(), "no default key either");
}

#[tokio::test]
async fn a_key_an_earlier_trm_left_next_to_the_database_is_moved_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("trm.db");
    let db_url = db.to_str().unwrap();
    let data_dir = dir.path().join("data");
    let legacy = dir.path().join("trm-audit.key");
    std::fs::write(&legacy, hex::encode([9u8; 32])).unwrap();
    let key = trm::audit::AuditKey::load(&legacy).unwrap();

    let out = serve(db_url, &data_dir, dir.path(), &[]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let Err(trm::config::ConfigError::LegacyAuditKey { new: new_place, .. }) =
        trm::config::default_audit_key(Some(&data_dir), db_url)
    else {
        panic!("the earlier key is named");
    };
    assert!(
        stderr.contains(&format!("mv {} {}", legacy.display(), new_place.display())),
        "{stderr}"
    );
    assert!(!db.exists() && !new_place.exists(), "nothing done");

    // Moved as the message says, it is the instance's key.
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::rename(&legacy, &new_place).unwrap();
    let (child, printed) = spawn_listening(serve(db_url, &data_dir, dir.path(), &[])).unwrap();
    assert!(
        printed.contains(&format!("signed with key {}", key.key_id())),
        "{printed}"
    );
    process::stop(child);
}
