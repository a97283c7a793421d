//! The web console's sessions: a random secret in an HttpOnly cookie, stored only as its
//! SHA-256 with the user it signs in; ended by sign-out, by an idle timeout and by an absolute
//! one. The principal is read from the directory at every request (a removed user is signed
//! out at once).

use super::auth::{generate_token, token_hash};
use super::{App, ServiceError};
use crate::access::Principal;
use crate::store::console_sessions::{self, SessionRow};
use crate::store::directory;
use chrono::{DateTime, Utc};
use std::time::Duration;
use uuid::Uuid;

/// How long a session lasts.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

/// A session found for a cookie, with its principal.
#[derive(Debug, Clone)]
pub struct Resumed {
    pub principal: Principal,
    pub id_hash: String,
    pub csrf_token: String,
    pub language: Option<String>,
}

/// Activity is written at most this often per session (the idle timeout counts from it).
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Starts a session for `user_id`: the cookie's value (shown once, never stored).
pub async fn start(
    app: &App,
    user_id: Uuid,
    language: Option<&str>,
    lifetimes: Lifetimes,
) -> Result<String, ServiceError> {
    let now = app.now();
    let secret = generate_token();
    let row = SessionRow {
        user_id,
        csrf_token: token_hash(&generate_token()),
        language: language.map(str::to_string),
        created_at: now,
        last_seen_at: now,
        expires_at: now + chrono(lifetimes.absolute),
    };
    let txn = app.store.begin_write().await?;
    // Ended sessions go when new ones begin: the table holds only live ones and a few more.
    console_sessions::delete_ended(&txn, now, now - chrono(lifetimes.idle)).await?;
    console_sessions::insert(&txn, &token_hash(&secret), &row).await?;
    txn.commit().await?;
    Ok(secret)
}

/// The live session behind a cookie's value, or `None` (unknown, ended by time, or its user
/// gone). An ended session is deleted.
pub async fn resume(
    app: &App,
    secret: &str,
    lifetimes: Lifetimes,
) -> Result<Option<Resumed>, ServiceError> {
    if secret.len() > 200 {
        return Ok(None);
    }
    let id_hash = token_hash(secret);
    let conn = app.store.conn();
    let Some(row) = console_sessions::get(conn, &id_hash).await? else {
        return Ok(None);
    };
    let now = app.now();
    if ended(&row, now, lifetimes) {
        end(app, &id_hash).await?;
        return Ok(None);
    }
    let Some(principal) = directory::principal_of_user(conn, row.user_id).await? else {
        end(app, &id_hash).await?;
        return Ok(None);
    };
    if now - row.last_seen_at >= TOUCH_EVERY {
        let txn = app.store.begin_write().await?;
        console_sessions::touch(&txn, &id_hash, now).await?;
        txn.commit().await?;
    }
    Ok(Some(Resumed {
        principal,
        id_hash,
        csrf_token: row.csrf_token,
        language: row.language,
    }))
}

fn ended(row: &SessionRow, now: DateTime<Utc>, lifetimes: Lifetimes) -> bool {
    now >= row.expires_at || now - row.last_seen_at >= chrono(lifetimes.idle)
}

/// Ends a session (sign-out).
pub async fn end(app: &App, id_hash: &str) -> Result<(), ServiceError> {
    let txn = app.store.begin_write().await?;
    console_sessions::delete(&txn, id_hash).await?;
    Ok(txn.commit().await?)
}

/// Records the language the user chose for this session.
pub async fn set_language(app: &App, id_hash: &str, language: &str) -> Result<(), ServiceError> {
    let txn = app.store.begin_write().await?;
    console_sessions::set_language(&txn, id_hash, language).await?;
    Ok(txn.commit().await?)
}
