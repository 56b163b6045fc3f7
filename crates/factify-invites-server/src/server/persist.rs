//! The persistence methods of [`ReferenceServer`] (feature `persist`):
//! snapshots and restores, a change hook, a SQLite database attached, and
//! the seed the admin surface's reset returns to. The formats are in
//! `state/persist.rs` and `state/database.rs`; these only take the store's
//! lock and hand it over.

use std::sync::Arc;

use chrono::TimeDelta;

use super::ReferenceServer;
use crate::state::database::{Database, DatabaseError};
use crate::state::model::{ChangeFn, Journal, State};
use crate::state::persist::{Snapshot, SnapshotError};

impl ReferenceServer {
    /// A snapshot of the store, to save and later [`restore`](Self::restore).
    pub fn snapshot(&self) -> Snapshot {
        self.lock().snapshot()
    }

    /// A snapshot of the organizations (with members), accounts and API
    /// keys only: no invitations, emails or idempotency keys, so it is
    /// cheap at any size. For describing a server, as `serve` does.
    pub fn seed_snapshot(&self) -> Snapshot {
        self.lock().seed_snapshot()
    }

    /// Replaces the store's data (organizations, accounts, API keys,
    /// invitations, idempotency keys and emails) with `snapshot`'s. Call
    /// counts, rate limits and faults are kept; page tokens issued before
    /// are refused from now on.
    ///
    /// # Errors
    ///
    /// When the snapshot is of another format version or holds a malformed
    /// ID; the store is then left unchanged.
    pub fn restore(&self, snapshot: Snapshot) -> Result<(), SnapshotError> {
        self.lock().restore(snapshot)
    }

    /// [`restore`](Self::restore), then tells the change hook, so that a
    /// data file holds the restored store (the admin surface's reset).
    pub(crate) fn replace_and_store(&self, snapshot: Snapshot) -> Result<(), String> {
        self.lock().restore_and_store(snapshot)
    }

    /// Calls `hook` with a snapshot after every change a call makes (a
    /// create that is not an idempotent repeat, a resend, a revoke, an
    /// accept), under the store's lock and before the call is answered, so a
    /// change is saved before it is acknowledged and saves happen in order.
    /// Replaces any earlier hook.
    ///
    /// When `hook` fails, the call is answered `UNAVAILABLE` (clients may
    /// retry it; with an idempotency key, the retry returns the first
    /// outcome once it has been saved) and the error is logged.
    ///
    /// The hook runs on the task answering the call, holding the lock: if it
    /// blocks (file I/O), run the server on a multi-threaded runtime and
    /// wrap the blocking part in `tokio::task::block_in_place`.
    ///
    /// Each call builds a snapshot of the whole store, so a change costs in
    /// proportion to the store's size: fine for a test's few hundred
    /// invitations; to keep a large store, use
    /// [`attach_database`](Self::attach_database), which writes only what
    /// changed.
    pub fn on_change<F>(&self, hook: F)
    where
        F: Fn(&Snapshot) -> std::io::Result<()> + Send + Sync + 'static,
    {
        let hook: ChangeFn = Arc::new(move |state: &State, _: &Journal| {
            hook(&state.snapshot()).map_err(|err| err.to_string())
        });
        self.lock().set_on_change(Some(hook));
    }
}

impl ReferenceServer {
    /// Remembers the store's data and the time shift as they are now, as
    /// the seed that `POST /admin/v1/reset` and
    /// [`reset_to_seed`](Self::reset_to_seed) return to. `factify-invites
    /// serve` calls it once seeded. Without it, a reset empties the store.
    pub fn remember_seed(&self) {
        let point = (self.snapshot(), self.time_shift());
        *self
            .seed
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(point);
    }

    /// Remembers the organizations (with members), accounts and API keys as
    /// they are now, and the time shift, as the seed to return to, without
    /// the invitations: what `serve` does when it restarts on a database
    /// that holds data, where the first seed is not kept apart from what
    /// was done since. Cheap at any size of the store.
    pub fn remember_accounts_as_seed(&self) {
        let point = (self.seed_snapshot(), self.time_shift());
        *self
            .seed
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(point);
    }

    /// Returns to the [remembered seed](Self::remember_seed): its
    /// organizations, accounts, keys and invitations, no recorded emails or
    /// idempotency keys beyond the seed's, and the time shift of then. Page
    /// tokens issued before stop working. A change hook
    /// ([`on_change`](Self::on_change)) is told, so a data file follows.
    ///
    /// # Errors
    ///
    /// When the change hook fails to store the reset; the store is reset
    /// all the same.
    pub fn reset_to_seed(&self) -> Result<(), String> {
        let saved = self
            .seed
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let (snapshot, shift) = match saved {
            Some(point) => point,
            None => (ReferenceServer::new().snapshot(), TimeDelta::zero()),
        };
        self.clock.set_shift(shift);
        self.replace_and_store(snapshot)
    }
}

impl ReferenceServer {
    /// Keeps the store in `database` from now on: if it holds a store, that
    /// replaces this server's data (as [`restore`](Self::restore) does);
    /// if it is new ([`Database::is_empty`]), this server's data (its seed)
    /// is written into it. Then every change a call makes is written, in
    /// one transaction, before the call is answered; when that fails the
    /// call is answered `UNAVAILABLE` and the change is written with the
    /// next one. Replaces any [`on_change`](Self::on_change) hook.
    ///
    /// Writes hold the store's lock; on a multi-threaded tokio runtime they
    /// run in `block_in_place`, so other tasks move to other threads.
    /// Seeding calls made later (`add_user`...) are written with the next
    /// change.
    ///
    /// # Errors
    ///
    /// When the database cannot be read or written, or holds a malformed
    /// row; the server's data is then unchanged and no database attached.
    pub fn attach_database(&self, database: Database) -> Result<(), DatabaseError> {
        self.lock().attach_database(database)
    }

    /// Stops writing changes to the attached [`Database`] (or calling the
    /// [`on_change`](Self::on_change) hook) and closes it, which releases
    /// its lock. The store keeps its data in memory.
    pub fn detach_database(&self) {
        self.lock().set_on_change(None);
    }
}
