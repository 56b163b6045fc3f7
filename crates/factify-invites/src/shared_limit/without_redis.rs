//! The gate without the `redis` feature: no shared limit, every call is
//! paced by the per-process pacer.

use std::time::Duration;

use tokio::time::Instant;

use super::Turn;
use crate::auth::{ApiKey, Credentials};

/// Without the `redis` feature, every call is paced locally.
#[derive(Debug, Default)]
pub(crate) struct Gate;

impl Gate {
    pub(crate) async fn turn(
        &self,
        _credentials: &Credentials,
        _create: bool,
        _deadline: Option<Instant>,
    ) -> Turn {
        Turn::Local
    }

    pub(crate) async fn hold_off(&self, _key: Option<&ApiKey>, _create: bool, _delay: Duration) {}
}
