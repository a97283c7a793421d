//! The case query built once, against the one built fresh.

use super::*;

#[test]
fn a_scopes_case_query_built_once_is_the_one_built_for_its_values() {
    for backend in [
        sea_orm::DatabaseBackend::Sqlite,
        sea_orm::DatabaseBackend::Postgres,
    ] {
        for _ in 0..2 {
            let (id, agency, user) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
            for scope in [
                CaseScope::All,
                CaseScope::LeadAgency(agency),
                CaseScope::Agency {
                    agency,
                    user,
                    now: Utc::now(),
                },
            ] {
                let fresh = Part::of(
                    case::Entity::find_by_id(id).filter(scope_condition(scope)),
                    0,
                    backend,
                );
                assert_eq!(
                    format!("{:?}", case_part(backend, scope, id)),
                    format!("{fresh:?}"),
                    "{scope:?} on {backend:?}"
                );
            }
        }
    }
}
