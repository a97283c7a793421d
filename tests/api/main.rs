//! Integration tests: a real server on a free port, spoken to over GraphQL/HTTP, on SQLite or
//! (with `TRM_TEST_DATABASE_URL=postgres://...`) PostgreSQL, each test with its own database.

// Tests and their helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Plays each named story (an `async fn(version: u32)` of the module) once per workflow version,
/// as a test `<module>::<version>::<story>`.
macro_rules! on_versions {
    ($($module:ident => $version:expr),+; $($story:ident),+ $(,)?) => {
        on_versions!(@each [$($story),+] $($module => $version),+);
    };
    (@each $stories:tt $module:ident => $version:expr $(, $($rest:tt)+)?) => {
        on_versions!(@module $module, $version, $stories);
        $( on_versions!(@each $stories $($rest)+); )?
    };
    (@module $module:ident, $version:expr, [$($story:ident),+]) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $story() {
                    super::$story($version).await
                }
            )+
        }
    };
}

mod access;
mod access_model;
mod audit;
mod audit_changes;
mod audit_keys;
mod audit_search;
mod audit_views;
mod auth;
mod binary;
mod cases;
mod children_on_the_move;
mod concurrency;
mod configuration;
mod console;
mod cross_border;
mod decisions;
mod decisions_by_their_bodies;
mod decisions_uk;
mod directory;
mod docs;
mod drills;
mod driver;
mod escalation;
mod exports;
mod free_text;
mod fuzz_inputs;
mod graphiql;
mod hardening;
mod harness;
mod history;
mod introspection;
mod jwt;
mod procedure_switch;
mod process;
mod protections;
mod protections_properties;
mod same_person;
mod scenarios_adult;
mod scenarios_child;
mod scenarios_uk;
mod schema;
mod service_level;
mod sharing_preview;
mod storage;
mod subscriptions;
mod telemetry;
mod timers;
mod transitions;
