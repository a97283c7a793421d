//! Time, behind a trait so that tests can move it (legal deadlines are measured in days).

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

/// The source of "now" for everything that records or compares time. Always UTC.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// A clock that can be moved forward (tests, and test instances started with `--test-clock`).
pub trait MovableClock: Clock {
    /// Moves the clock forward by `by`.
    fn advance(&self, by: Duration);
}

/// The wall clock plus an offset that only grows: what `--test-clock` runs on, so that a case
/// can be played through 30-day periods in seconds.
#[derive(Debug, Default)]
pub struct TestClock {
    offset: Mutex<Duration>,
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
            + *self
                .offset
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl MovableClock for TestClock {
    fn advance(&self, by: Duration) {
        *self
            .offset
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) += by;
    }
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move; for tests of deadlines and floors.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl MovableClock for ManualClock {
    fn advance(&self, by: Duration) {
        ManualClock::advance(self, by);
    }
}
