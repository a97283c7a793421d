//! The workflow engine: definitions loaded from `workflows/`, guards, timers and the pure
//! transition function. Nothing in this module does I/O except reading definition files.

pub mod calendar;
mod decorative;
pub mod definition;
pub mod diagram;
pub mod engine;
pub mod facts;
pub mod guard;
pub mod load;
mod raw;
pub mod registry;
pub mod status;
pub mod switch;
pub mod whereabouts;

pub use definition::{Labels, Workflow};
pub use engine::{Actor, CaseState, Changes, Outcome, Refusal, Unmet};
pub use load::LoadError;
pub use registry::Registry;
pub use status::PersonStatus;
pub use whereabouts::ChildStanding;

#[cfg(test)]
mod tests;
