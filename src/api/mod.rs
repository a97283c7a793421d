//! The GraphQL API: types, queries, mutations and subscriptions. Resolvers stay thin: parse
//! input, call one use case, map the result. Domain errors become GraphQL errors with
//! `extensions.code`.

mod audit;
mod case;
mod directory;
pub mod echo;
pub mod error;
pub mod ids;
pub mod limits;
mod mutation;
mod query;
mod sharing;
mod subscription;
mod workflow;

use crate::access::Principal;
use crate::service::{App, ServiceError};
use async_graphql::{Context, ErrorExtensions, ID, Interface, SDLExportOptions, Schema};

/// The root of all reads.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(query::CoreQuery, sharing::SharingQuery, audit::AuditQuery);

/// The root of all changes.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    mutation::CoreMutation,
    sharing::SharingMutation,
    audit::AuditMutation,
);
pub use subscription::{SessionCredentials, Subscription};

/// The schema type served at `/graphql` (subscriptions at `/graphql/ws`).
pub type TrmSchema = Schema<Query, Mutation, Subscription>;

/// Default page size of connections.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Hard maximum page size of connections.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Query limits and exposure settings.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Deepest nesting of fields.
    pub max_depth: usize,
    /// Highest async-graphql complexity (each field 1 plus its children, aliases included).
    pub max_complexity: usize,
    /// Most fields a query may run, counting every alias, fragment spread and inline fragment,
    /// fragments expanded where they are used ([`limits::check_request`]).
    pub max_fields: usize,
    /// Longest query text, in bytes.
    pub max_query_bytes: usize,
    /// Schema introspection (`__schema`, `__type`).
    pub introspection: bool,
    /// "Did you mean …" suggestions in validation errors.
    pub suggestions: bool,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_depth: 12,
            max_complexity: 2000,
            max_fields: 500,
            max_query_bytes: 32 * 1024,
            introspection: true,
            suggestions: false,
        }
    }
}

/// Any object that can be fetched by its global ID with `node(id:)`.
// Lives for one response only; boxing the variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Case(case::CaseNode),
    CaseEvent(case::EventNode),
    Agency(directory::AgencyNode),
    User(directory::UserNode),
    Workflow(workflow::WorkflowNode),
    Referral(sharing::ReferralNode),
    Transfer(sharing::TransferNode),
    Consent(sharing::ConsentNode),
    Notification(sharing::NotificationNode),
}

/// Builds the schema; `app` is `None` only for exporting the SDL.
pub fn build_schema(app: Option<App>, limits: &ApiLimits) -> TrmSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits::MAX_DIRECTIVES_PER_FIELD)
        .limit_recursive_depth(32);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    if let Some(app) = app {
        builder = builder.data(app);
    }
    builder.finish()
}

/// The schema as SDL, sorted so that the committed file is stable.
pub fn sdl() -> String {
    build_schema(None, &ApiLimits::default()).sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_enum_items()
            .sorted_arguments(),
    )
}

fn app<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a App> {
    ctx.data::<App>()
        .map_err(|_| ServiceError::internal("schema built without application state").extend())
}

fn principal<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Principal> {
    ctx.data::<Principal>()
        .map_err(|_| ServiceError::Unauthenticated.extend())
}

fn page_size(first: Option<i32>) -> async_graphql::Result<u64> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n >= 0 && u64::try_from(n).is_ok_and(|n| n <= MAX_PAGE_SIZE) => {
            Ok(u64::try_from(n).unwrap_or(0))
        }
        Some(_) => Err(error::invalid(format!(
            "`first` must be between 0 and {MAX_PAGE_SIZE}"
        ))),
    }
}
