//! The persistence hooks: the [`ChangeHook`](super::ChangeHook) told of
//! every change the API makes, and the [`Journal`] of what changed since it
//! last succeeded, so that a database writes only that (feature `persist`
//! sets a hook; without one nothing is journaled).

use super::model::{Journal, State};
use crate::error::ApiError;
use crate::ids::InviteId;

impl State {
    /// Sets (or clears) the function told of every change; what it is
    /// told of starts from the current state, taken as stored.
    #[cfg(feature = "persist")]
    pub(crate) fn set_on_change(&mut self, hook: Option<super::model::ChangeFn>) {
        self.on_change = super::model::ChangeHook(hook);
        self.journal = Journal {
            emails_stored: self.emails.len(),
            ..Journal::default()
        };
        self.unsaved = false;
    }

    /// Whether changes are journaled (there is a hook to tell).
    pub(super) fn journaling(&self) -> bool {
        self.on_change.0.is_some()
    }

    pub(super) fn note_invite(&mut self, id: &InviteId) {
        if self.journaling() {
            self.journal.invites.insert(id.clone());
        }
    }

    pub(super) fn note_seed(&mut self) {
        if self.journaling() {
            self.journal.seed = true;
        }
    }

    /// Tells the change hook, if any, that the API changed the store. On
    /// failure the call is answered `UNAVAILABLE` (it may be retried) and
    /// the state is marked unsaved, so that no later answer acknowledges it
    /// before a save succeeds.
    pub(super) fn changed(&mut self) -> Result<(), ApiError> {
        let Some(hook) = self.on_change.0.clone() else {
            return Ok(());
        };
        match hook(self, &self.journal) {
            Ok(()) => {
                self.unsaved = false;
                self.journal = Journal {
                    emails_stored: self.emails.len(),
                    ..Journal::default()
                };
                Ok(())
            }
            Err(message) => {
                self.unsaved = true;
                tracing::error!(error = %message, "reference server: could not store a change");
                let mut error = ApiError::unavailable();
                error.message = "the change could not be stored; retry later".to_owned();
                Err(error)
            }
        }
    }

    /// Saves a change an earlier call could not, before answering from
    /// state that holds it (an idempotent repeat).
    pub(super) fn flush(&mut self) -> Result<(), ApiError> {
        if self.unsaved {
            self.changed()
        } else {
            Ok(())
        }
    }
}
