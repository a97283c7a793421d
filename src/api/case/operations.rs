//! Reading cases and changing them through their workflow: `case`, `caseByReference`, `cases`,
//! `openCase`, `fireTransition`, `migrateCase`.

use super::super::context::{app, page_size, principal};
use super::super::error::{IntoGql, invalid};
use super::super::ids;
use super::super::nodes::{CaseNode, EventNode};
use crate::access::{Principal, VisibleCase};
use crate::domain::{CaseFilter, CaseRecord, CaseStatus, DataGroup, DeadlineFilter, Stage};
use crate::service::cases::{self, FireTransition, OpenCase};
use crate::service::{App, ServiceError};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{
    Context, ErrorExtensions, ID, InputObject, Json, Object, Result, SimpleObject,
};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Reads of cases (merged into the `Query` root).
#[derive(Default)]
pub struct CaseQuery;

/// Changes to cases through their workflow (merged into the `Mutation` root).
#[derive(Default)]
pub struct CaseMutation;

/// `case` as its changer may now see it (the payload of a mutation that changed it).
pub async fn seen(app: &App, p: &Principal, case: CaseRecord) -> Result<CaseNode> {
    seen_after(app, p, case, None).await
}

/// [`seen`] for a case just changed, with its sharing history when the change read it.
async fn seen_after(
    app: &App,
    p: &Principal,
    case: CaseRecord,
    sharing: Option<crate::store::disclosures::Sharing>,
) -> Result<CaseNode> {
    cases::seen_after(app, p, case, sharing)
        .await
        .gql()?
        .map(CaseNode)
        .ok_or_else(|| ServiceError::NotFound("case").extend())
}

/// The groups a reason is shared as; refused without a reason to share.
fn shared_as(
    reason: &Option<String>,
    groups: Vec<DataGroup>,
) -> Result<std::collections::BTreeSet<DataGroup>> {
    if reason.is_none() && !groups.is_empty() {
        return Err(invalid("reasonSharedAs needs a reason"));
    }
    Ok(groups.into_iter().collect())
}

/// Narrows a case list; all given fields must match.
#[derive(InputObject, Default)]
pub struct CaseFilterInput {
    pub status: Option<CaseStatus>,
    /// Some track of the case is in a state of this SOP stage.
    pub stage: Option<Stage>,
    /// Some track of the case is in this state (a state key of its workflow).
    pub state: Option<String>,
    /// The workflow key, e.g. `trm-adult`.
    pub workflow: Option<String>,
    /// Some open deadline is overdue / due soon.
    pub deadline: Option<DeadlineFilter>,
}

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
    /// The personal-data groups the reason may reveal, e.g. `[LEGAL_STATUS]`: it is then shown
    /// to every agency that may read all of them (as recorded now by your agency). Empty (the
    /// default): it stays with your agency and the auditors.
    #[graphql(default)]
    pub reason_shared_as: Vec<DataGroup>,
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
    /// The personal-data groups the reason may reveal (see `FireTransitionInput.reasonSharedAs`).
    #[graphql(default)]
    pub reason_shared_as: Vec<DataGroup>,
    /// Old state → new state for states the new version renamed, e.g. `{"pending": "awaiting"}`.
    pub state_map: Option<Json<Value>>,
}

/// Result of `migrateCase`.
#[derive(SimpleObject)]
pub struct MigrateCasePayload {
    pub case: CaseNode,
    pub event: EventNode,
}

#[Object]
impl CaseQuery {
    /// A case the caller may see. A case they may not see answers like one that does not exist.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CaseNode>> {
        let case_id = ids::decode_uuid(&id, "Case").ok_or_else(|| invalid("malformed case ID"))?;
        Ok(cases::get_case(app(ctx)?, principal(ctx)?, case_id)
            .await
            .gql()?
            .map(CaseNode))
    }

    /// A case the caller may see, by its human reference (e.g. `IT-2026-000123`).
    async fn case_by_reference(
        &self,
        ctx: &Context<'_>,
        reference: String,
    ) -> Result<Option<CaseNode>> {
        if reference.len() > 64 {
            return Err(invalid("reference is too long"));
        }
        Ok(
            cases::case_by_reference(app(ctx)?, principal(ctx)?, &reference)
                .await
                .gql()?
                .map(CaseNode),
        )
    }

    /// Cases the caller may see, newest first.
    async fn cases(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, CaseNode>> {
        let limit = page_size(first)?;
        let after_id = match after {
            None => None,
            Some(c) => Some(
                ids::uncursor(&c)
                    .and_then(|v| Uuid::parse_str(&v).ok())
                    .ok_or_else(|| invalid("`after` is not a cursor of this list"))?,
            ),
        };
        let f = filter.unwrap_or_default();
        let now = app(ctx)?.now();
        let filter = CaseFilter {
            status: f.status,
            stage: f.stage,
            state: f.state,
            workflow_id: f.workflow,
            deadline: f.deadline.map(|d| (d, now)),
        };
        let mut rows = cases::list_cases(app(ctx)?, principal(ctx)?, &filter, after_id, limit + 1)
            .await
            .gql()?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(after_id.is_some(), has_next);
        connection.edges.extend(
            rows.into_iter().map(|c: VisibleCase| {
                Edge::new(ids::cursor(&c.record().id.to_string()), CaseNode(c))
            }),
        );
        Ok(connection)
    }
}

#[Object]
impl CaseMutation {
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
            case: seen(app(ctx)?, principal(ctx)?, case).await?,
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
                reason_shared_as: shared_as(&input.reason, input.reason_shared_as)?,
                reason: input.reason,
                data,
                idempotency_key: input.idempotency_key,
            },
        )
        .await
        .gql()?;
        Ok(FireTransitionPayload {
            case: seen_after(app, principal(ctx)?, fired.case, fired.sharing).await?,
            event: EventNode(fired.event),
            replayed: fired.replayed,
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
                reason_shared_as: input.reason_shared_as.into_iter().collect(),
                reason: input.reason,
                state_map,
            },
        )
        .await
        .gql()?;
        Ok(MigrateCasePayload {
            case: seen(app, principal(ctx)?, case).await?,
            event: EventNode(event),
        })
    }
}
