//! sea-orm entities: one module per table. They are storage types only; the API has its own.

pub mod agency;
pub mod api_token;
pub mod case;
pub mod case_event;
pub mod case_reference_counter;
pub mod case_timer;
pub mod case_track;
pub mod idempotency_key;
pub mod user;
pub mod workflow_definition;
