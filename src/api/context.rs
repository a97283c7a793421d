//! What every resolver takes from the request: the application, the caller, the request's
//! loaders, page sizes and cursors.

use super::error::{IntoGql, invalid};
use super::ids;
use super::loaders::Loaders;
use crate::access::Principal;
use crate::service::{App, ServiceError};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ErrorExtensions, OutputType};
use uuid::Uuid;

/// Default page size of connections.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Hard maximum page size of connections.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The application state.
pub fn app<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a App> {
    ctx.data::<App>()
        .map_err(|_| ServiceError::internal("schema built without application state").extend())
}

/// The authenticated caller.
pub fn principal<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Principal> {
    ctx.data::<Principal>()
        .map_err(|_| ServiceError::Unauthenticated.extend())
}

/// The request's loaders (see [`Loaders`]).
pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>()
        .map_err(|_| ServiceError::internal("request run without its loaders").extend())
}

/// The application, for a caller who may read the audit trail (`FORBIDDEN` otherwise).
pub fn auditor<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a App> {
    let app = app(ctx)?;
    crate::service::audit::require_auditor(app, principal(ctx)?).gql()?;
    Ok(app)
}

/// How many items a page holds: `first`, or the default; at most [`MAX_PAGE_SIZE`].
pub fn page_size(first: Option<i32>) -> async_graphql::Result<u64> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n >= 0 && u64::try_from(n).is_ok_and(|n| n <= MAX_PAGE_SIZE) => {
            Ok(u64::try_from(n).unwrap_or(0))
        }
        Some(_) => Err(invalid(format!(
            "`first` must be between 0 and {MAX_PAGE_SIZE}"
        ))),
    }
}

/// The UUID of a global ID of type `kind`, or `VALIDATION` naming `field`.
pub fn uuid_of(id: &async_graphql::ID, kind: &str, field: &str) -> async_graphql::Result<Uuid> {
    ids::decode_uuid(id, kind).ok_or_else(|| invalid(format!("malformed {field}")))
}

/// The UUID a cursor of an id-ordered list holds.
pub fn cursor_uuid(after: Option<String>) -> async_graphql::Result<Option<Uuid>> {
    match after {
        None => Ok(None),
        Some(c) => ids::uncursor(&c)
            .and_then(|v| Uuid::parse_str(&v).ok())
            .map(Some)
            .ok_or_else(|| invalid("`after` is not a cursor of this list")),
    }
}

/// A connection over `items` (one more than `limit` were asked for, to know whether more
/// follow), each item's cursor its id.
pub fn connection<T, N>(
    items: Vec<T>,
    limit: u64,
    had_cursor: bool,
    id: impl Fn(&T) -> Uuid,
    node: impl Fn(T) -> N,
) -> Connection<String, N>
where
    N: OutputType,
{
    let mut items = items;
    let has_next = items.len() as u64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut c = Connection::new(had_cursor, has_next);
    c.edges.extend(
        items
            .into_iter()
            .map(|i| Edge::new(ids::cursor(&id(&i).to_string()), node(i))),
    );
    c
}
