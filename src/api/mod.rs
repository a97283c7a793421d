//! The GraphQL API: types, queries and mutations. Resolvers stay thin: parse input, call one
//! use case, map the result. Domain errors become GraphQL errors with `extensions.code`.

mod case;
mod directory;
pub mod error;
pub mod ids;
mod mutation;
mod query;
mod workflow;

use crate::access::Principal;
use crate::service::{App, ServiceError};
use async_graphql::{
    Context, EmptySubscription, ErrorExtensions, ID, Interface, SDLExportOptions, Schema,
};

pub use mutation::Mutation;
pub use query::Query;

/// The schema type served at `/graphql`.
pub type TrmSchema = Schema<Query, Mutation, EmptySubscription>;

/// Default page size of connections.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Hard maximum page size of connections.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Query limits and exposure settings.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub introspection: bool,
    /// "Did you mean …" suggestions in validation errors.
    pub suggestions: bool,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_depth: 12,
            max_complexity: 2000,
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
}

/// Builds the schema; `app` is `None` only for exporting the SDL.
pub fn build_schema(app: Option<App>, limits: &ApiLimits) -> TrmSchema {
    let mut builder = Schema::build(Query, Mutation, EmptySubscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(10)
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
    ctx.data::<App>().map_err(|_| {
        ServiceError::Internal(sea_orm::DbErr::Custom(
            "schema built without application state".into(),
        ))
        .extend()
    })
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
