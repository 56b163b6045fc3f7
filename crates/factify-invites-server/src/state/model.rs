//! The data of the store: accounts, organizations, invitations, API keys,
//! idempotency records and rate-limit windows, the [`State`] that holds them
//! with its indexes, and the [`Journal`] of what changed. Only types and
//! their views for the API; the rules that change them are in the sibling
//! modules, which see the fields (`pub(super)`).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::cursor::{Anchor, CursorCodec};
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto::{self, OrganizationInviteStatus as Status};
use crate::types::{Method, Permissions, RateLimits, ReceivedTrace, SentEmail};
use crate::validate::to_timestamp;

/// How long an invitation's token works after it is sent.
pub(crate) const INVITE_TTL: TimeDelta = TimeDelta::days(7);
/// How long an idempotency key is remembered.
pub(crate) const IDEMPOTENCY_TTL: TimeDelta = TimeDelta::hours(24);

/// Whether two emails are the same address, ignoring case.
pub(super) fn same_email(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// An email as the indexes key it: compared ignoring case, as
/// [`same_email`] does.
pub(super) fn email_key(email: &str) -> String {
    email.to_lowercase()
}

/// An account: a person (`user_`) or a service account (`svc_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) id: UserId,
    pub(crate) name: String,
    /// Taken as verified.
    pub(crate) email: String,
}

impl Account {
    /// The account as the API shows it.
    pub(crate) fn to_user(&self) -> proto::User {
        let kind = if self.id.is_service_account() {
            proto::UserType::ServiceAccount
        } else {
            proto::UserType::UserAccount
        };
        proto::User {
            id: self.id.to_string(),
            r#type: kind as i32,
            name: self.name.clone(),
            email: self.email.clone(),
            ..Default::default()
        }
    }
}

/// An organization, its members, and the sort keys of its invitations.
#[derive(Debug, Clone)]
pub(crate) struct Organization {
    pub(crate) id: OrganizationId,
    /// Its place in the order organizations were added (seed order).
    // Read only by persistence, which keeps seed order (feature `persist`).
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub(crate) position: u64,
    pub(crate) name: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) members: BTreeSet<UserId>,
    /// `(created_at, id)` of every invitation, ascending.
    pub(crate) invites: BTreeSet<Anchor>,
}

impl Organization {
    pub(super) fn to_proto(&self) -> proto::Organization {
        proto::Organization {
            id: self.id.to_string(),
            name: self.name.clone(),
            created_at: Some(to_timestamp(self.created_at)),
            logo_image_url: None,
        }
    }
}

/// The stored state of an invitation; `Expired` is derived from the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    Pending,
    Accepted,
    Revoked,
}

/// An invitation as stored.
#[derive(Debug, Clone)]
pub(crate) struct Invite {
    pub(crate) id: InviteId,
    pub(crate) organization_id: OrganizationId,
    pub(crate) email: String,
    pub(crate) stored: Stored,
    /// The sender as they were at creation; shared by the invitations
    /// of one sender (a million invitations hold a few senders).
    pub(crate) sender: Arc<proto::User>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    /// When and by whom; boxed, as most invitations are never accepted.
    pub(crate) accepted: Option<Box<(DateTime<Utc>, proto::User)>>,
    pub(crate) message: Option<String>,
    /// The newest token; the only one that works, while pending.
    pub(crate) token: String,
}

impl Invite {
    /// The status the API shows at `now`: a pending invitation whose
    /// `expires_at` is not after `now` is expired.
    pub(crate) fn status(&self, now: DateTime<Utc>) -> Status {
        match self.stored {
            Stored::Pending if self.expires_at <= now => Status::Expired,
            Stored::Pending => Status::Pending,
            Stored::Accepted => Status::Accepted,
            Stored::Revoked => Status::Revoked,
        }
    }

    /// The invitation's sort key.
    pub(crate) fn key(&self) -> Anchor {
        (self.created_at, self.id.clone())
    }

    /// The invitation as the API shows it at `now`.
    pub(crate) fn to_proto(&self, now: DateTime<Utc>) -> proto::OrganizationInvite {
        proto::OrganizationInvite {
            id: self.id.to_string(),
            organization_id: self.organization_id.to_string(),
            email: self.email.clone(),
            status: self.status(now) as i32,
            sender: Some(proto::User::clone(&self.sender)),
            created_at: Some(to_timestamp(self.created_at)),
            expires_at: Some(to_timestamp(self.expires_at)),
            accepted_at: self
                .accepted
                .as_ref()
                .map(|accepted| to_timestamp(accepted.0)),
            accepted_by: self.accepted.as_ref().map(|accepted| accepted.1.clone()),
            message: self.message.clone(),
        }
    }
}

/// An API key's owner and permissions.
#[derive(Debug, Clone)]
pub(super) struct ApiKey {
    pub(super) account: UserId,
    pub(super) permissions: Permissions,
    /// Its place in the order keys were added (seed order).
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub(super) position: u64,
}

/// Who is calling: resolved from the `authorization` header.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) key: String,
    pub(crate) account: Account,
    pub(crate) permissions: Permissions,
}

/// What an idempotency key is scoped to: the key's account, the
/// organization and the key itself.
pub(super) type IdempotencyScope = (UserId, OrganizationId, String);

/// The first successful create made with an idempotency key.
#[derive(Debug, Clone)]
pub(super) struct IdempotentCreate {
    pub(super) at: DateTime<Utc>,
    pub(super) email: String,
    pub(super) message: Option<String>,
    pub(super) response: proto::OrganizationInvite,
}

/// The recent calls of one API key, for the sliding rate-limit window.
#[derive(Debug, Default)]
pub(super) struct RateWindow {
    pub(super) all: VecDeque<DateTime<Utc>>,
    pub(super) creates: VecDeque<DateTime<Utc>>,
}

/// Everything the reference server knows.
///
/// Every lookup a rule makes per call is indexed, so that a call costs the
/// same at a million invitations as at a thousand (`benches/store.rs`):
/// invitations by ID, by working token, by organization in list order, and
/// the stored-pending ones by organization and email (the dedupe of a
/// create); accounts by email (is the invitee a member already?); and
/// idempotency keys by the time they are forgotten.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(super) organizations: HashMap<OrganizationId, Organization>,
    pub(super) accounts: HashMap<UserId, Account>,
    /// The accounts of each email, lowercased.
    pub(super) accounts_by_email: HashMap<String, BTreeSet<UserId>>,
    pub(super) api_keys: HashMap<String, ApiKey>,
    /// The next organization's or key's `position`.
    pub(super) next_position: u64,
    pub(super) invites: HashMap<InviteId, Invite>,
    /// The working token of each pending invitation.
    pub(super) tokens: HashMap<String, InviteId>,
    /// The sort keys of the invitations stored as pending (expired ones
    /// included, as a resend can revive them), by organization and
    /// lowercased email.
    /// Sorted; a `Vec`, as nearly every email has one.
    pub(super) pending_by_email: HashMap<(OrganizationId, String), Vec<Anchor>>,
    /// One shared copy of each sender snapshot, by account ID.
    pub(super) senders: HashMap<String, Arc<proto::User>>,
    pub(super) idempotency: HashMap<IdempotencyScope, IdempotentCreate>,
    /// Every remembered idempotency key by its first use, oldest first.
    pub(super) idempotency_by_age: BTreeSet<(DateTime<Utc>, IdempotencyScope)>,
    pub(super) emails: Vec<SentEmail>,
    pub(super) calls: HashMap<Method, u64>,
    /// The trace context headers of the calls that carried one.
    pub(super) traces: Vec<ReceivedTrace>,
    pub(super) rate_limits: Option<RateLimits>,
    /// The width of the rate-limit window; [`RATE_WINDOW`] when `None`.
    pub(super) rate_window: Option<TimeDelta>,
    /// Calls refused by the rate limits so far.
    pub(super) rate_limited: u64,
    pub(super) windows: HashMap<String, RateWindow>,
    pub(super) cursors: CursorCodec,
    /// Called after every change the API makes; see [`ChangeHook`].
    pub(super) on_change: ChangeHook,
    /// Whether the last call of `on_change` failed, so the state holds a
    /// change that was not stored.
    pub(super) unsaved: bool,
    /// What changed since `on_change` last succeeded (kept only while there
    /// is a hook), so a database writes only that.
    pub(super) journal: Journal,
}

/// What changed in a [`State`] since its change hook last succeeded: what a
/// database must write to catch up, in one transaction.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Everything must be written again (the state was restored).
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub(crate) full: bool,
    /// Organizations, accounts, API keys or members were seeded.
    pub(crate) seed: bool,
    /// Invitations created or changed.
    pub(crate) invites: HashSet<InviteId>,
    /// Members added by an accept.
    pub(crate) members: Vec<(OrganizationId, UserId)>,
    /// How many of the state's emails are stored; the rest are new.
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub(crate) emails_stored: usize,
    /// Idempotency keys remembered or forgotten.
    pub(crate) idempotency: HashSet<IdempotencyScope>,
}

/// A function told of every change of the store by the API (create,
/// resend, revoke, accept), under the store's lock and before the call is
/// answered; an `Err` fails the call with `UNAVAILABLE`. Used to persist the
/// store (feature `persist`).
pub(crate) type ChangeFn = Arc<dyn Fn(&State, &Journal) -> Result<(), String> + Send + Sync>;

/// The optional [`ChangeFn`] of a [`State`].
#[derive(Clone, Default)]
pub(crate) struct ChangeHook(pub(super) Option<ChangeFn>);

impl fmt::Debug for ChangeHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}

impl State {
    /// An empty store with a fresh page-token key.
    pub(crate) fn new() -> Self {
        Self::default()
    }
}
