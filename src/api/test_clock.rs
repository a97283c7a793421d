//! The test clock: on an instance started with `--test-clock`, `advanceTestClock` moves its time
//! forward and records the timers that fall due (never in production).

use super::context::{app, principal};
use super::error::{IntoGql, invalid};
use crate::service::ServiceError;
use async_graphql::{Context, ErrorExtensions, InputObject, Object, Result, SimpleObject};

/// Input of `advanceTestClock`.
#[derive(InputObject)]
pub struct AdvanceTestClockInput {
    #[graphql(default = 0)]
    pub days: u32,
    #[graphql(default = 0)]
    pub hours: u32,
    #[graphql(default = 0)]
    pub minutes: u32,
}

/// Result of `advanceTestClock`.
#[derive(SimpleObject)]
pub struct AdvanceTestClockPayload {
    /// The service's time after the move.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Timers recorded as elapsed because of the move.
    pub fired_timers: u32,
}

/// Longest single move of the test clock.
const MAX_TEST_CLOCK_DAYS: u32 = 3660;

/// Moving a test instance's time (merged into the `Mutation` root).
#[derive(Default)]
pub struct TestClockMutation;

#[Object]
impl TestClockMutation {
    /// Moves the service's time forward and records the timers that fall due. Only on instances
    /// started with `--test-clock` (never in production): play a case through 30-day periods in
    /// seconds.
    async fn advance_test_clock(
        &self,
        ctx: &Context<'_>,
        input: AdvanceTestClockInput,
    ) -> Result<AdvanceTestClockPayload> {
        let app = app(ctx)?;
        app.authorize(
            principal(ctx)?,
            crate::access::policy::Action::AdvanceTestClock,
            crate::access::policy::Facts::default(),
            "your roles do not allow moving the test clock",
        )
        .gql()?;
        let Some(clock) = app.test_clock() else {
            return Err(ServiceError::Forbidden(
                "this instance has no test clock (start it with --test-clock)".into(),
            )
            .extend());
        };
        if input.days > MAX_TEST_CLOCK_DAYS
            || input.hours > 24 * MAX_TEST_CLOCK_DAYS
            || input.minutes > 24 * 60
        {
            return Err(invalid(format!(
                "move at most {MAX_TEST_CLOCK_DAYS} days at a time"
            )));
        }
        clock.advance(
            chrono::Duration::days(i64::from(input.days))
                + chrono::Duration::hours(i64::from(input.hours))
                + chrono::Duration::minutes(i64::from(input.minutes)),
        );
        let fired = crate::service::timers::fire_due(app).await.gql()?;
        Ok(AdvanceTestClockPayload {
            now: app.now(),
            fired_timers: u32::try_from(fired).unwrap_or(u32::MAX),
        })
    }
}
