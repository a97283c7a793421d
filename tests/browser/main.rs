//! The web console in a real Chromium, driven over WebDriver (ChromeDriver) from the test
//! suite: each test starts a real TRM server (SQLite, or PostgreSQL with
//! `TRM_TEST_DATABASE_URL`), its own ChromeDriver and headless Chromium, and clicks through the
//! pages as a user would. Chromium and ChromeDriver come from the distribution's packages
//! (`chromium`, `chromium-driver`; `.ci/run` installs them). Without them the tests fail with
//! that message, unless `TRM_SKIP_BROWSER_TESTS=1` says to skip them.
//!
//! Screenshots of the main screens are written to `target/console-screenshots/`.

// Tests and their helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../api/harness.rs"]
#[allow(dead_code)]
mod harness;

mod browser;
mod case_work;
mod cross_border;
mod oversight;
mod sessions;
