//! sea-orm entities: one module per table. They are storage types only; the API has its own.

pub mod access_log;
pub mod agency;
pub mod api_token;
pub mod audit_log;
pub mod break_glass;
pub mod case;
pub mod case_access;
pub mod case_event;
pub mod case_reference_counter;
pub mod case_timer;
pub mod case_track;
pub mod checkpoint;
pub mod consent;
pub mod country;
pub mod feedback;
pub mod idempotency_key;
pub mod movement;
pub mod notification;
pub mod person_match_key;
pub mod personal_data;
pub mod referral;
pub mod revoked_jwt;
pub mod same_person_link;
pub mod transfer;
pub mod user;
pub mod workflow_definition;
