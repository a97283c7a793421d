//! TRM: a workflow engine for transnational referral mechanisms.
//!
//! Layers, dependencies pointing down only: `server` → `api` → `service` → (`workflow`, `access`,
//! `store`). See README.md for the picture.

pub mod access;
pub mod api;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod server;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod vocabulary;
pub mod workflow;
