//! The GraphQL API: types, queries, mutations and subscriptions. Resolvers stay thin: parse
//! input, call one use case, map the result. Domain errors become GraphQL errors with
//! `extensions.code`.

mod audit;
mod case;
mod directory;
pub mod error;
pub mod ids;
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

/// The schema's builder, with the application state when there is one (`None` only for
/// exporting the SDL). The server applies its query limits and exposure settings to it.
pub fn schema(app: Option<App>) -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    let builder = Schema::build(Query::default(), Mutation::default(), Subscription);
    match app {
        Some(app) => builder.data(app),
        None => builder,
    }
}

/// The schema as SDL, sorted so that the committed file is stable.
pub fn sdl() -> String {
    schema(None).finish().sdl_with_options(
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
