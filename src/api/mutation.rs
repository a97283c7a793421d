//! Mutations: each takes one `input` object and returns a payload.

use super::case::{CaseNode, EventNode, event_nodes};
use super::directory::{
    AgencyNode, CountryNode, CreateAgencyInput, CreateAgencyPayload, CreateUserInput,
    CreateUserPayload, SetFocalPointInput, SetFocalPointPayload, UpdateAgencyInput,
    UpdateAgencyPayload, UserNode, agency_id,
};
use super::error::{IntoGql, invalid};
use super::{app, ids, principal};
use crate::service::ServiceError;
use crate::service::cases::{self, FireTransition, OpenCase};
use crate::service::directory::{
    self as directory_service, Actor, AgencyChanges, NewAgency, NewUser,
};
use async_graphql::ErrorExtensions;
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use serde_json::{Map, Value};

/// Changes to cases and the directory (merged into the `Mutation` root).
#[derive(Default)]
pub struct CoreMutation;

/// Input of `openCase`.
#[derive(InputObject)]
pub struct OpenCaseInput {
    /// Workflow key, e.g. `trm-adult`.
    pub workflow_id: String,
    /// Workflow version; the latest loaded when omitted.
    pub workflow_version: Option<u32>,
    /// Retrying with the same key returns the first result instead of opening a second case.
    pub idempotency_key: Option<String>,
    /// An earlier case of your agency that this one continues under another procedure (e.g. a
    /// child's case continued under the adult procedure at 18). The link is kept on both.
    pub follows_case_id: Option<ID>,
    /// The person's country of origin (ISO 3166-1 alpha-2), where known. It decides, for an
    /// asylum seeker, which authorities may never be contacted.
    pub origin_country: Option<String>,
}

/// Result of `openCase`.
#[derive(SimpleObject)]
pub struct OpenCasePayload {
    pub case: CaseNode,
}

/// Input of `fireTransition`.
#[derive(InputObject)]
pub struct FireTransitionInput {
    pub case_id: ID,
    /// Transition key from the case's workflow (see `Case.availableTransitions`).
    pub transition: String,
    /// The case version you last saw; a newer version means someone else moved the case first.
    pub expected_version: i64,
    /// Why, in the actor's words (recorded in the history).
    pub reason: Option<String>,
    /// The facts the transition records, e.g. `{"risk_level": "high"}`.
    pub data: Option<Json<Value>>,
    /// Retrying with the same key and input returns the first result without doing it again.
    pub idempotency_key: Option<String>,
}

/// Result of `fireTransition`.
#[derive(SimpleObject)]
pub struct FireTransitionPayload {
    /// The case after the transition.
    pub case: CaseNode,
    /// The event recorded.
    pub event: EventNode,
    /// True when this answers an idempotent retry (nothing was done again).
    pub replayed: bool,
}

/// Input of `migrateCase`.
#[derive(InputObject)]
pub struct MigrateCaseInput {
    pub case_id: ID,
    /// The newer version of the case's workflow.
    pub to_version: u32,
    pub expected_version: i64,
    /// Why the case moves (e.g. the law that changed). Recorded in the history.
    pub reason: String,
    /// Old state → new state for states the new version renamed, e.g. `{"pending": "awaiting"}`.
    pub state_map: Option<Json<Value>>,
}

/// Result of `migrateCase`.
#[derive(SimpleObject)]
pub struct MigrateCasePayload {
    pub case: CaseNode,
    pub event: EventNode,
}

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

#[Object]
impl CoreMutation {
    /// Adds an agency to the directory (administrators only). Its country is listed from then on.
    async fn create_agency(
        &self,
        ctx: &Context<'_>,
        input: CreateAgencyInput,
    ) -> Result<CreateAgencyPayload> {
        let agency = directory_service::create_agency(
            app(ctx)?,
            Actor::User(principal(ctx)?),
            NewAgency {
                name: input.name,
                kind: input.kind,
                country: input.country,
                represented_country: input.represented_country,
            },
        )
        .await
        .gql()?;
        Ok(CreateAgencyPayload {
            agency: AgencyNode(agency),
        })
    }

    /// Changes an agency's name, kind or represented country (administrators only).
    async fn update_agency(
        &self,
        ctx: &Context<'_>,
        input: UpdateAgencyInput,
    ) -> Result<UpdateAgencyPayload> {
        let p = principal(ctx)?;
        let id = agency_id(&input.agency_id, "agencyId")?;
        let represented_country = match input.represented_country {
            async_graphql::MaybeUndefined::Undefined => None,
            async_graphql::MaybeUndefined::Null => Some(None),
            async_graphql::MaybeUndefined::Value(code) => Some(Some(code)),
        };
        let agency = directory_service::update_agency(
            app(ctx)?,
            Actor::User(p),
            id,
            AgencyChanges {
                name: input.name,
                kind: input.kind,
                represented_country,
            },
        )
        .await
        .gql()?;
        Ok(UpdateAgencyPayload {
            agency: AgencyNode(agency),
        })
    }

    /// Makes an agency of a country that country's national focal point (administrators only).
    async fn set_focal_point(
        &self,
        ctx: &Context<'_>,
        input: SetFocalPointInput,
    ) -> Result<SetFocalPointPayload> {
        let p = principal(ctx)?;
        let id = agency_id(&input.agency_id, "agencyId")?;
        let country =
            directory_service::set_focal_point(app(ctx)?, Actor::User(p), &input.country, id)
                .await
                .gql()?;
        Ok(SetFocalPointPayload {
            country: CountryNode(country),
        })
    }

    /// Adds a user to an agency with the given roles (administrators only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let app = app(ctx)?;
        let p = principal(ctx)?;
        let id = agency_id(&input.agency_id, "agencyId")?;
        let user = directory_service::create_user(
            app,
            Actor::User(p),
            NewUser {
                username: input.username,
                display_name: input.display_name,
                agency_id: id,
                roles: input.roles,
            },
        )
        .await
        .gql()?;
        let agency = directory_service::agency(app, user.agency_id)
            .await
            .gql()?
            .ok_or_else(|| ServiceError::NotFound("agency").extend())?;
        Ok(CreateUserPayload {
            user: UserNode(user),
            agency: AgencyNode(agency),
        })
    }

    /// Moves a running case to a newer version of its workflow: maps states, re-evaluates
    /// running timers against the new lengths and records it all as one event.
    async fn migrate_case(
        &self,
        ctx: &Context<'_>,
        input: MigrateCaseInput,
    ) -> Result<MigrateCasePayload> {
        let app = app(ctx)?;
        let case_id =
            ids::decode_uuid(&input.case_id, "Case").ok_or_else(|| invalid("malformed caseId"))?;
        let state_map = match input.state_map.map(|j| j.0) {
            None | Some(Value::Null) => Default::default(),
            Some(value) => serde_json::from_value(value)
                .map_err(|_| invalid("stateMap must be a JSON object of state names"))?,
        };
        let (case, event) = crate::service::migration::migrate_case(
            app,
            principal(ctx)?,
            crate::service::migration::MigrateCase {
                case_id,
                to_version: input.to_version,
                expected_version: input.expected_version,
                reason: input.reason,
                state_map,
            },
        )
        .await
        .gql()?;
        let event = event_nodes(app, vec![event])
            .await?
            .pop()
            .ok_or_else(|| invalid("event not found"))?;
        Ok(MigrateCasePayload {
            case: CaseNode::new(case),
            event,
        })
    }

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
            crate::policy::Action::AdvanceTestClock,
            crate::policy::Facts::default(),
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

    /// Opens a case under a workflow in the caller's agency and country.
    async fn open_case(&self, ctx: &Context<'_>, input: OpenCaseInput) -> Result<OpenCasePayload> {
        let follows_case_id = match &input.follows_case_id {
            None => None,
            Some(id) => Some(
                ids::decode_uuid(id, "Case").ok_or_else(|| invalid("malformed followsCaseId"))?,
            ),
        };
        let input = OpenCase {
            workflow_id: input.workflow_id,
            workflow_version: input.workflow_version,
            idempotency_key: input.idempotency_key,
            follows_case_id,
            origin_country: input.origin_country,
        };
        let case = cases::open_case(app(ctx)?, principal(ctx)?, input)
            .await
            .gql()?;
        Ok(OpenCasePayload {
            case: CaseNode::new(case),
        })
    }

    /// Moves a case through its workflow: the one way a case changes state.
    async fn fire_transition(
        &self,
        ctx: &Context<'_>,
        input: FireTransitionInput,
    ) -> Result<FireTransitionPayload> {
        let app = app(ctx)?;
        let case_id =
            ids::decode_uuid(&input.case_id, "Case").ok_or_else(|| invalid("malformed caseId"))?;
        let data: Map<String, Value> = match input.data.map(|j| j.0) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(invalid("data must be a JSON object of facts")),
        };
        let fired = cases::fire_transition(
            app,
            principal(ctx)?,
            FireTransition {
                case_id,
                transition: input.transition,
                expected_version: input.expected_version,
                reason: input.reason,
                data,
                idempotency_key: input.idempotency_key,
            },
        )
        .await
        .gql()?;
        let event = event_nodes(app, vec![fired.event])
            .await?
            .pop()
            .ok_or_else(|| invalid("event not found"))?;
        Ok(FireTransitionPayload {
            case: CaseNode::new(fired.case),
            event,
            replayed: fired.replayed,
        })
    }
}
