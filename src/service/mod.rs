//! Use cases: plain async functions over the store and the engine, one database transaction
//! each. Tested through the API; usable without GraphQL (CLI, benchmarks).

pub mod auth;
pub mod cases;
pub mod demo;
pub mod directory;
mod error;
pub mod migration;
pub mod timers;
pub mod worklist;

pub use error::ServiceError;

use crate::clock::{Clock, MovableClock};
use crate::store::Store;
use crate::workflow::Registry;
use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Arc;

/// Everything a use case needs: the database, the loaded workflows and the clock.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub workflows: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    /// Set only on instances started with `--test-clock`: lets `advanceTestClock` move time.
    pub test_clock: Option<Arc<dyn MovableClock>>,
}

impl App {
    /// Now, to the microsecond (what both databases store), so that recorded times and the
    /// hashes computed over them agree after a round trip.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }
}
