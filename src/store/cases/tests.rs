//! The case query built once, locking or not, against the one built fresh.

use super::one::case_part;
use super::*;
use crate::store::batch::Part;

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
                let select = case::Entity::find_by_id(id).filter(scope_condition(scope));
                for (lock, fresh) in [
                    (false, Part::of(select.clone(), 0, backend)),
                    (true, Part::of(select.clone().lock_exclusive(), 0, backend)),
                ] {
                    assert_eq!(
                        format!("{:?}", case_part(backend, scope, id, lock)),
                        format!("{fresh:?}"),
                        "{scope:?} on {backend:?}, locked: {lock}"
                    );
                }
            }
        }
    }
}
