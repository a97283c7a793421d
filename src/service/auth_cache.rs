//! Token → principal, remembered for a moment: authentication without a database round trip on
//! every request.
//!
//! An entry is good while the *authentication epoch* it was read under is still the current
//! one. The epoch is a number in the database that triggers move on every change that could
//! change who a token is (a token revoked, a user or agency changed or deleted, a JWT revoked:
//! migration `m20261205_000020_auth_epoch`), whoever makes it — this instance, another one,
//! `trm token revoke` in another process. An instance reads the epoch at most once per
//! `recheck` (one request reads it, the others wait for that read), so **a revoked token stops
//! working on every instance within `recheck`** of the revocation's commit (default 1 s,
//! `--auth-recheck-ms`; `0` reads the directory on every request, as before). Entries also
//! expire after [`MAX_AGE`] whatever the epoch, and the cache holds at most [`CAPACITY`]
//! tokens (it is emptied when full: tokens are few and cheap to read again).
//!
//! TRM tokens are remembered by their hash. A JWT access token is verified on every request
//! (its signature and expiry: no database needed), and what the database says of it (not
//! revoked, its agency in the directory, its user's row) is remembered by the token's hash.

use super::App;
use crate::access::Principal;
use crate::store::StoreError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an entry lives whatever the epoch says.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// The most tokens remembered at once.
pub const CAPACITY: usize = 10_000;

/// See the module documentation.
#[derive(Debug)]
pub struct AuthCache {
    recheck: Duration,
    entries: Mutex<HashMap<String, Entry>>,
    epoch: Mutex<Epoch>,
    /// One epoch read at a time: the others wait for it and use its answer.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone)]
struct Entry {
    principal: Principal,
    epoch: i64,
    at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Epoch {
    value: i64,
    read_at: Option<Instant>,
}

impl AuthCache {
    /// A cache whose entries are checked against the epoch at least every `recheck` (zero: no
    /// cache).
    pub fn new(recheck: Duration) -> AuthCache {
        AuthCache {
            recheck,
            entries: Mutex::new(HashMap::new()),
            epoch: Mutex::new(Epoch {
                value: 0,
                read_at: None,
            }),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The longest a revoked token keeps working on this instance.
    pub fn recheck(&self) -> Duration {
        self.recheck
    }

    /// The principal of the token stored under `hash`: remembered, or read by `read` (and then
    /// remembered when `read` found one).
    pub async fn principal<F, Fut, E>(
        &self,
        app: &App,
        hash: &str,
        read: F,
    ) -> Result<Option<Principal>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<Principal>, E>>,
        E: From<StoreError>,
    {
        if self.recheck.is_zero() {
            return read().await;
        }
        let epoch = self.epoch(app).await?;
        if let Some(hit) = self.lookup(hash, epoch) {
            return Ok(Some(hit));
        }
        let found = read().await?;
        if let Some(principal) = &found
            && let Ok(mut entries) = self.entries.lock()
        {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(
                hash.to_string(),
                Entry {
                    principal: principal.clone(),
                    epoch,
                    at: Instant::now(),
                },
            );
        }
        Ok(found)
    }

    /// Forgets everything and reads the epoch again on the next request (after a change made
    /// by this instance, so that it applies here at once).
    pub fn forget(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
        if let Ok(mut epoch) = self.epoch.lock() {
            epoch.read_at = None;
        }
    }

    fn lookup(&self, hash: &str, epoch: i64) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(hash)?;
        (entry.epoch == epoch && entry.at.elapsed() < MAX_AGE).then(|| entry.principal.clone())
    }

    /// The epoch, read again when the last read is older than `recheck`.
    async fn epoch(&self, app: &App) -> Result<i64, StoreError> {
        if let Some(value) = self.fresh_epoch() {
            return Ok(value);
        }
        let _reading = self.reading.lock().await;
        // Another request may have read it while this one waited.
        if let Some(value) = self.fresh_epoch() {
            return Ok(value);
        }
        let value = crate::store::identity::auth_epoch(app.store.conn()).await?;
        if let Ok(mut epoch) = self.epoch.lock() {
            *epoch = Epoch {
                value,
                read_at: Some(Instant::now()),
            };
        }
        Ok(value)
    }

    fn fresh_epoch(&self) -> Option<i64> {
        let epoch = *self.epoch.lock().ok()?;
        epoch
            .read_at
            .filter(|at| at.elapsed() < self.recheck)
            .map(|_| epoch.value)
    }
}
