//! What a test reads of the store: the recorded emails and trace contexts,
//! call counts, an organization's invitations, sizes.

use chrono::{DateTime, Utc};

use super::model::State;
use crate::ids::OrganizationId;
use crate::proto;
use crate::types::{Method, ReceivedTrace, SentEmail};

impl State {
    /// Every recorded email, oldest first.
    pub(crate) fn sent_emails(&self) -> &[SentEmail] {
        &self.emails
    }

    /// Records the trace context a call carried.
    pub(crate) fn record_trace(&mut self, trace: ReceivedTrace) {
        self.traces.push(trace);
    }

    /// The trace contexts received, oldest first.
    pub(crate) fn received_traces(&self) -> &[ReceivedTrace] {
        &self.traces
    }

    /// Counts a call of `method`.
    pub(crate) fn count_call(&mut self, method: Method) {
        *self.calls.entry(method).or_default() += 1;
    }

    /// The calls of `method` so far.
    pub(crate) fn call_count(&self, method: Method) -> u64 {
        self.calls.get(&method).copied().unwrap_or(0)
    }

    /// The calls of every method so far.
    pub(crate) fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    /// The organization's invitations as the API shows them at `now`, newest
    /// first; empty for an unknown organization.
    pub(crate) fn invites_of(
        &self,
        org: &OrganizationId,
        now: DateTime<Utc>,
    ) -> Vec<proto::OrganizationInvite> {
        self.organizations
            .get(org)
            .map(|organization| {
                organization
                    .invites
                    .iter()
                    .rev()
                    .filter_map(|(_, id)| self.invites.get(id))
                    .map(|invite| invite.to_proto(now))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Counts of organizations, accounts and invitations, for `Debug`.
    pub(crate) fn sizes(&self) -> (usize, usize, usize) {
        (
            self.organizations.len(),
            self.accounts.len(),
            self.invites.len(),
        )
    }
}
