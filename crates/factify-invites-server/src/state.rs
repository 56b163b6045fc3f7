//! The in-memory store and every business rule of the SPEC, as plain
//! functions of the state, the current time and a request: no tonic, no
//! locking, no clock (the caller passes `now`), so the rules are unit-tested
//! directly.
//!
//! By concept: [`model`] holds the data types and the [`State`] itself;
//! `auth` resolves API keys to a [`Caller`] and checks permissions;
//! `rate_limit` the per-key windows; `seed` what the server's owner puts in
//! directly; `rules` the API's operations (one module each); `index` the
//! lookups the rules need kept in step; `journal` the change hook and what
//! changed; `observe` what tests read; and with feature `persist`,
//! `persist` (snapshots) and `database` (SQLite).

mod auth;
mod index;
mod journal;
pub(crate) mod model;
mod observe;
mod rate_limit;
mod rules;
mod seed;

#[cfg(feature = "persist")]
pub(crate) mod database;
#[cfg(feature = "persist")]
pub(crate) mod persist;
#[cfg(test)]
mod tests;

pub(crate) use model::{Caller, State};
