//! Not published: the tests, benchmarks and examples of the
//! `factify-invites` client against the `factify-invites-server` reference
//! server (see `tests/`, `benches/`, `examples/` and ARCHITECTURE.md).
//!
//! The library itself holds only the README's code blocks, compiled (and
//! run, unless `no_run`) as doc tests so that they cannot rot: they use the
//! client and the server together, which only this crate depends on.

/// The README's code blocks, as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
