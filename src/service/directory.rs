//! The directory of countries, agencies and users: readable by every authenticated principal,
//! managed by administrators (over the API) and operators (on the command line, who hold the
//! database itself). Each change is one write transaction; a refused change changes nothing.

use super::{App, ServiceError};
use crate::access::Principal;
use crate::domain::Agency;
use crate::domain::Country;
use crate::domain::User;
use crate::domain::{AgencyKind, Role, country_name};
use crate::store::directory;
use std::collections::HashMap;
use uuid::Uuid;

/// An agency by id.
pub async fn agency(app: &App, id: Uuid) -> Result<Option<Agency>, ServiceError> {
    Ok(directory::agency_by_id(app.store.conn(), id).await?)
}

/// A user by id.
pub async fn user(app: &App, id: Uuid) -> Result<Option<User>, ServiceError> {
    Ok(directory::user_by_id(app.store.conn(), id).await?)
}

/// Agencies and users by id, for a page of results.
pub async fn agencies_by_ids(
    app: &App,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Agency>, ServiceError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(directory::agencies_by_ids(app.store.conn(), ids).await?)
}

/// Users by id (one query); missing ids are left out.
pub async fn users_by_ids(app: &App, ids: &[Uuid]) -> Result<HashMap<Uuid, User>, ServiceError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(directory::users_by_ids(app.store.conn(), ids).await?)
}

/// Every agency.
pub async fn agencies(app: &App) -> Result<Vec<Agency>, ServiceError> {
    Ok(directory::all_agencies(app.store.conn()).await?)
}

/// Longest agency name or user display name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest username, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;

/// Who changes the directory.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// An authenticated user; must hold [`Role::Administrator`].
    User(&'a Principal),
    /// An operator at the command line, who has the database itself.
    Operator,
}

impl Actor<'_> {
    fn authorise(self, app: &App) -> Result<(), ServiceError> {
        match self {
            Actor::User(p) => app.authorize(
                p,
                crate::access::policy::Action::Administer,
                crate::access::policy::Facts::default(),
                "only administrators manage the directory",
            ),
            Actor::Operator => Ok(()),
        }
    }
}

/// A new agency.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub name: String,
    pub kind: AgencyKind,
    /// Where it sits (ISO 3166-1 alpha-2, upper case).
    pub country: String,
    /// The state it represents; required for embassies and consulates, empty for other kinds.
    pub represented_country: Option<String>,
}

/// Changes to an agency; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct AgencyChanges {
    pub name: Option<String>,
    pub kind: Option<AgencyKind>,
    /// `Some(None)` clears it.
    pub represented_country: Option<Option<String>>,
}

/// A new user of an agency.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique; lower-case letters, digits, `.`, `-` and `_` (e.g. `it.shelter`).
    pub username: String,
    pub display_name: String,
    pub agency_id: Uuid,
    /// At least one.
    pub roles: Vec<Role>,
}

/// Checks that `code` is an assigned ISO 3166-1 alpha-2 code in upper case.
pub fn check_country(field: &str, code: &str) -> Result<(), ServiceError> {
    match country_name(code) {
        Some(_) => Ok(()),
        None => Err(ServiceError::validation(format!(
            "{field} must be an assigned ISO 3166-1 alpha-2 country code in upper case, e.g. IT"
        ))),
    }
}

fn check_name(field: &str, name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::validation(format!(
            "{field} must not be empty"
        )));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::validation(format!(
            "{field} must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ServiceError::validation(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(name.to_string())
}

/// Checks the country rules of an agency: its codes, and that exactly embassies and consulates
/// represent another state.
fn check_agency(a: &Agency) -> Result<(), ServiceError> {
    check_country("country", &a.country)?;
    match (&a.represented_country, a.kind) {
        (None, AgencyKind::EmbassyConsulate) => Err(ServiceError::validation(
            "an embassy or consulate needs the country it represents (representedCountry)",
        )),
        (Some(represented), AgencyKind::EmbassyConsulate) => {
            check_country("representedCountry", represented)?;
            if *represented == a.country {
                return Err(ServiceError::validation(
                    "an embassy or consulate represents a country other than the one it is in",
                ));
            }
            Ok(())
        }
        (Some(_), _) => Err(ServiceError::validation(
            "only an embassy or consulate represents a country: leave representedCountry empty",
        )),
        (None, _) => Ok(()),
    }
}

/// Creates an agency in a country (and the country's row, if it is the first agency there).
pub async fn create_agency(
    app: &App,
    by: Actor<'_>,
    input: NewAgency,
) -> Result<Agency, ServiceError> {
    by.authorise(app)?;
    let agency = Agency {
        id: Uuid::now_v7(),
        name: check_name("name", &input.name)?,
        kind: input.kind,
        country: input.country,
        represented_country: input.represented_country,
    };
    check_agency(&agency)?;
    let txn = app.store.begin_write().await?;
    directory::insert_agency(&txn, &agency, app.now()).await?;
    txn.commit().await?;
    app.auth_cache().forget();
    tracing::info!(agency = %agency.id, country = %agency.country, kind = %agency.kind, "agency created");
    Ok(agency)
}

/// Changes an agency's name, kind or represented country. Its country does not change.
pub async fn update_agency(
    app: &App,
    by: Actor<'_>,
    id: Uuid,
    changes: AgencyChanges,
) -> Result<Agency, ServiceError> {
    by.authorise(app)?;
    let name = changes
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    let txn = app.store.begin_write().await?;
    let mut agency = directory::agency_by_id(&txn, id)
        .await?
        .ok_or(ServiceError::NotFound("agency"))?;
    if let Some(name) = name {
        agency.name = name;
    }
    if let Some(kind) = changes.kind {
        agency.kind = kind;
    }
    if let Some(represented) = changes.represented_country {
        agency.represented_country = represented;
    }
    check_agency(&agency)?;
    if !directory::update_agency(&txn, &agency).await? {
        return Err(ServiceError::NotFound("agency"));
    }
    txn.commit().await?;
    app.auth_cache().forget();
    tracing::info!(agency = %agency.id, "agency updated");
    Ok(agency)
}

/// Makes an agency of `country` its national focal point (replacing any earlier one).
pub async fn set_focal_point(
    app: &App,
    by: Actor<'_>,
    country: &str,
    agency_id: Uuid,
) -> Result<Country, ServiceError> {
    by.authorise(app)?;
    check_country("country", country)?;
    let now = app.now();
    let txn = app.store.begin_write().await?;
    let agency = directory::agency_by_id(&txn, agency_id)
        .await?
        .ok_or(ServiceError::NotFound("agency"))?;
    if agency.country != country {
        return Err(ServiceError::validation(
            "the focal point of a country must be an agency in that country",
        ));
    }
    // The agency's country has a row; this only guards rows that predate it.
    directory::ensure_country(&txn, country, now).await?;
    directory::set_focal_point(&txn, country, agency_id, now).await?;
    let updated = directory::country_by_code(&txn, country)
        .await?
        .ok_or(ServiceError::NotFound("country"))?;
    txn.commit().await?;
    app.auth_cache().forget();
    tracing::info!(country, agency = %agency_id, "focal point set");
    Ok(updated)
}

/// Checks a username: 2 to 64 lower-case letters, digits, `.`, `-` or `_`, starting with a
/// letter or digit.
fn check_username(username: &str) -> Result<(), ServiceError> {
    let ok = (2..=MAX_USERNAME_CHARS).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && username
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ServiceError::validation(format!(
            "username must be 2 to {MAX_USERNAME_CHARS} lower-case letters, digits, '.', '-' or '_', \
             starting with a letter or digit (e.g. it.police)"
        )))
    }
}

/// Creates a user of an existing agency with the given roles. Issues no token (see
/// [`super::auth::issue_token`]).
pub async fn create_user(app: &App, by: Actor<'_>, input: NewUser) -> Result<User, ServiceError> {
    by.authorise(app)?;
    check_username(&input.username)?;
    let display_name = check_name("displayName", &input.display_name)?;
    let mut roles = input.roles;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(ServiceError::validation("a user needs at least one role"));
    }
    let user = User {
        id: Uuid::now_v7(),
        username: input.username,
        display_name,
        agency_id: input.agency_id,
        roles,
    };
    let txn = app.store.begin_write().await?;
    if directory::agency_by_id(&txn, user.agency_id)
        .await?
        .is_none()
    {
        return Err(ServiceError::NotFound("agency"));
    }
    let taken = || ServiceError::validation("this username is already taken");
    if directory::user_by_username(&txn, &user.username)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    match directory::insert_user(&txn, &user, app.now()).await {
        Err(e) if e.is_conflict() => return Err(taken()),
        other => other?,
    }
    txn.commit().await?;
    app.auth_cache().forget();
    tracing::info!(user = %user.id, agency = %user.agency_id, "user created");
    Ok(user)
}

/// Every country of the directory, by code.
pub async fn countries(app: &App) -> Result<Vec<Country>, ServiceError> {
    Ok(directory::countries(app.store.conn()).await?)
}

/// A country of the directory by its ISO 3166-1 alpha-2 code (`None` when no agency is there).
pub async fn country(app: &App, code: &str) -> Result<Option<Country>, ServiceError> {
    check_country("code", code)?;
    Ok(directory::country_by_code(app.store.conn(), code).await?)
}

/// The focal point agency of a country, if one is set.
pub async fn focal_point(app: &App, country: &str) -> Result<Option<Agency>, ServiceError> {
    Ok(directory::focal_point(app.store.conn(), country).await?)
}

/// Agencies by country then name, narrowed to a country and a kind when given.
pub async fn find_agencies(
    app: &App,
    country: Option<&str>,
    kind: Option<AgencyKind>,
) -> Result<Vec<Agency>, ServiceError> {
    if let Some(code) = country {
        check_country("country", code)?;
    }
    Ok(directory::agencies(app.store.conn(), country, kind).await?)
}

/// The agencies of each of `countries` (codes already read from the directory), by name.
pub async fn agencies_in_countries(
    app: &App,
    countries: &[String],
) -> Result<HashMap<String, Vec<Agency>>, ServiceError> {
    Ok(directory::agencies_in_countries(app.store.conn(), countries).await?)
}

/// The users of each of `agency_ids`, by username (administrators and operators only: who
/// works where, with which roles, is the directory's business, not every reader's).
pub async fn users_of_agencies(
    app: &App,
    by: Actor<'_>,
    agency_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<User>>, ServiceError> {
    by.authorise(app)?;
    Ok(directory::users_of_agencies(app.store.conn(), agency_ids).await?)
}
