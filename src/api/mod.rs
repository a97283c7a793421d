//! The GraphQL API, one module per resource (case, event, referral, transfer, consent, person
//! data, same person, inbox and worklist, break-glass, directory, workflow, audit). Resolvers stay thin:
//! parse input, call one use case, map the result. They never consult roles or views: the
//! services hand out cases as [`crate::access::VisibleCase`]s and the records of a case already
//! filtered by the caller's view. Domain errors become GraphQL errors with `extensions.code`.
//!
//! Records whose fields are shown as they are (referrals, transfers, consents, agencies ...)
//! derive their plain fields from the domain types; the fields that follow a link to another
//! record are resolved here, through the request's [`Loaders`], so no list costs a query per
//! item.

mod audit;
mod audit_log;
mod break_glass;
mod case;
mod case_file;
mod children;
mod consent;
mod context;
mod directory;
pub mod error;
mod event;
pub mod ids;
mod inbox;
mod loaders;
mod node;
mod nodes;
mod person;
mod referral;
mod same_person;
mod sharing;
mod subscription;
mod test_clock;
mod transfer;
mod workflow;

pub use loaders::Loaders;
pub use subscription::{SessionCredentials, Subscription};

use crate::access::Principal;
use crate::domain::{Agency, ConsentRecord, Notification, ReferralRecord, TransferRecord, User};
use crate::service::App;
use async_graphql::{Data, Interface, SDLExportOptions, Schema};

/// The root of all reads.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    case::CaseQuery,
    workflow::WorkflowQuery,
    directory::DirectoryQuery,
    referral::ReferralQuery,
    transfer::TransferQuery,
    sharing::SharingQuery,
    inbox::InboxQuery,
    audit::AuditQuery,
    audit_log::AuditLogQuery,
    children::ChildrenQuery,
);

/// The root of all changes.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    case::CaseMutation,
    person::PersonMutation,
    consent::ConsentMutation,
    referral::ReferralMutation,
    transfer::TransferMutation,
    break_glass::BreakGlassMutation,
    inbox::InboxMutation,
    directory::DirectoryMutation,
    test_clock::TestClockMutation,
    audit_log::AuditMutation,
    case_file::CaseFileMutation,
    same_person::SamePersonMutation,
);

/// The schema type served at `/graphql` (subscriptions at `/graphql/ws`).
pub type TrmSchema = Schema<Query, Mutation, Subscription>;

pub use context::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Any object that can be fetched by its global ID with `node(id:)`.
// Lives for one response only; boxing the variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(name = "id", ty = "async_graphql::ID"))]
pub enum Node {
    Case(nodes::CaseNode),
    CaseEvent(nodes::EventNode),
    Agency(Agency),
    User(User),
    Workflow(workflow::WorkflowNode),
    Referral(ReferralRecord),
    Transfer(TransferRecord),
    Consent(ConsentRecord),
    Notification(Notification),
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

/// A request run for `principal`: the caller and the request's loaders go with it.
pub fn for_caller(
    request: async_graphql::Request,
    app: &App,
    principal: Principal,
) -> async_graphql::Request {
    let loaders = Loaders::new(app, &principal);
    request.data(principal).data(loaders)
}

/// The data of a WebSocket session of `principal` (every subscription of it runs with them).
pub fn session_data(app: &App, principal: Principal) -> Data {
    let mut data = Data::default();
    data.insert(Loaders::new(app, &principal));
    data.insert(principal);
    data
}
