//! The in-memory store and every business rule of the SPEC, as plain
//! functions of the state, the current time and a request: no tonic, no
//! locking, no clock (the caller passes `now`), so the rules are unit-tested
//! directly.
//!
//! Each method of the API is a [`State`] method taking the authenticated
//! [`Caller`] and the protobuf request, and checks in this order: the key's
//! permission, the request's fields, the organization (unknown:
//! `NOT_FOUND`; the caller not a member: `PERMISSION_DENIED`), the
//! invitation, then the invitation's state.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::clock::add;
use super::cursor::{Anchor, CursorCodec};
use super::error::{ApiError, RateLimited};
use super::generate;
use super::list;
use super::types::{EmailKind, Method, Permissions, RateLimits, ReceivedTrace, SentEmail};
use super::validate::{self, to_timestamp, CreateInput};
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto::{self, OrganizationInviteStatus as Status};

/// How long an invitation's token works after it is sent.
pub(crate) const INVITE_TTL: TimeDelta = TimeDelta::days(7);
/// How long an idempotency key is remembered.
pub(crate) const IDEMPOTENCY_TTL: TimeDelta = TimeDelta::hours(24);
/// The width of the rate-limit window.
pub(crate) const RATE_WINDOW: TimeDelta = TimeDelta::minutes(1);

/// Whether two emails are the same address, ignoring case.
fn same_email(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// An email as the indexes key it: compared ignoring case, as
/// [`same_email`] does.
fn email_key(email: &str) -> String {
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
    fn to_proto(&self) -> proto::Organization {
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
struct ApiKey {
    account: UserId,
    permissions: Permissions,
    /// Its place in the order keys were added (seed order).
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    position: u64,
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
type IdempotencyScope = (UserId, OrganizationId, String);

/// The first successful create made with an idempotency key.
#[derive(Debug, Clone)]
struct IdempotentCreate {
    at: DateTime<Utc>,
    email: String,
    message: Option<String>,
    response: proto::OrganizationInvite,
}

/// The recent calls of one API key, for the sliding rate-limit window.
#[derive(Debug, Default)]
struct RateWindow {
    all: VecDeque<DateTime<Utc>>,
    creates: VecDeque<DateTime<Utc>>,
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
    organizations: HashMap<OrganizationId, Organization>,
    accounts: HashMap<UserId, Account>,
    /// The accounts of each email, lowercased.
    accounts_by_email: HashMap<String, BTreeSet<UserId>>,
    api_keys: HashMap<String, ApiKey>,
    /// The next organization's or key's `position`.
    next_position: u64,
    invites: HashMap<InviteId, Invite>,
    /// The working token of each pending invitation.
    tokens: HashMap<String, InviteId>,
    /// The sort keys of the invitations stored as pending (expired ones
    /// included, as a resend can revive them), by organization and
    /// lowercased email.
    /// Sorted; a `Vec`, as nearly every email has one.
    pending_by_email: HashMap<(OrganizationId, String), Vec<Anchor>>,
    /// One shared copy of each sender snapshot, by account ID.
    senders: HashMap<String, Arc<proto::User>>,
    idempotency: HashMap<IdempotencyScope, IdempotentCreate>,
    /// Every remembered idempotency key by its first use, oldest first.
    idempotency_by_age: BTreeSet<(DateTime<Utc>, IdempotencyScope)>,
    emails: Vec<SentEmail>,
    calls: HashMap<Method, u64>,
    /// The trace context headers of the calls that carried one.
    traces: Vec<ReceivedTrace>,
    rate_limits: Option<RateLimits>,
    /// The width of the rate-limit window; [`RATE_WINDOW`] when `None`.
    rate_window: Option<TimeDelta>,
    /// Calls refused by the rate limits so far.
    rate_limited: u64,
    windows: HashMap<String, RateWindow>,
    cursors: CursorCodec,
    /// Called after every change the API makes; see [`ChangeHook`].
    on_change: ChangeHook,
    /// Whether the last call of `on_change` failed, so the state holds a
    /// change that was not stored.
    unsaved: bool,
    /// What changed since `on_change` last succeeded (kept only while there
    /// is a hook), so a database writes only that.
    journal: Journal,
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
pub(crate) struct ChangeHook(Option<ChangeFn>);

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

    // ---- changes ----

    /// Sets (or clears) the function told of every change; what it is
    /// told of starts from the current state, taken as stored.
    #[cfg(feature = "persist")]
    pub(crate) fn set_on_change(&mut self, hook: Option<ChangeFn>) {
        self.on_change = ChangeHook(hook);
        self.journal = Journal {
            emails_stored: self.emails.len(),
            ..Journal::default()
        };
        self.unsaved = false;
    }

    /// Whether changes are journaled (there is a hook to tell).
    fn journaling(&self) -> bool {
        self.on_change.0.is_some()
    }

    fn note_invite(&mut self, id: &InviteId) {
        if self.journaling() {
            self.journal.invites.insert(id.clone());
        }
    }

    fn note_seed(&mut self) {
        if self.journaling() {
            self.journal.seed = true;
        }
    }

    /// Tells the change hook, if any, that the API changed the store. On
    /// failure the call is answered `UNAVAILABLE` (it may be retried) and
    /// the state is marked unsaved, so that no later answer acknowledges it
    /// before a save succeeds.
    fn changed(&mut self) -> Result<(), ApiError> {
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
    fn flush(&mut self) -> Result<(), ApiError> {
        if self.unsaved {
            self.changed()
        } else {
            Ok(())
        }
    }

    // ---- seeding ----

    /// Adds an organization with a given ID (replacing one with that ID).
    pub(crate) fn insert_organization(
        &mut self,
        id: OrganizationId,
        name: &str,
        created_at: DateTime<Utc>,
    ) {
        let position = self.next_position;
        self.next_position += 1;
        self.organizations.insert(
            id.clone(),
            Organization {
                id,
                position,
                name: name.to_owned(),
                created_at,
                members: BTreeSet::new(),
                invites: BTreeSet::new(),
            },
        );
        self.note_seed();
    }

    /// Adds an account with a given ID (replacing one with that ID).
    pub(crate) fn insert_account(&mut self, id: UserId, name: &str, email: &str) {
        let account = Account {
            id: id.clone(),
            name: name.to_owned(),
            email: email.to_owned(),
        };
        if let Some(old) = self.accounts.insert(id.clone(), account) {
            let key = email_key(&old.email);
            if let Some(ids) = self.accounts_by_email.get_mut(&key) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.accounts_by_email.remove(&key);
                }
            }
        }
        self.accounts_by_email
            .entry(email_key(email))
            .or_default()
            .insert(id);
        self.note_seed();
    }

    /// Registers a given API key for `user` (replacing that key's owner and
    /// permissions if it exists).
    pub(crate) fn insert_api_key(&mut self, key: &str, user: &UserId, permissions: Permissions) {
        let position = self.next_position;
        self.next_position += 1;
        self.api_keys.insert(
            key.to_owned(),
            ApiKey {
                account: user.clone(),
                permissions,
                position,
            },
        );
        self.note_seed();
    }

    /// Adds an organization created at `now`.
    pub(crate) fn add_organization(&mut self, now: DateTime<Utc>, name: &str) -> OrganizationId {
        let id = generate::typed_id("org", now, OrganizationId::parse);
        self.insert_organization(id.clone(), name, now);
        id
    }

    /// Adds an account; `prefix` is `user` or `svc`.
    pub(crate) fn add_account(
        &mut self,
        now: DateTime<Utc>,
        prefix: &str,
        name: &str,
        email: &str,
    ) -> UserId {
        let id = generate::typed_id(prefix, now, UserId::parse);
        self.insert_account(id.clone(), name, email);
        id
    }

    /// Makes `user` a member of `org`; false when either is unknown.
    pub(crate) fn add_member(&mut self, org: &OrganizationId, user: &UserId) -> bool {
        match self.organizations.get_mut(org) {
            Some(organization) if self.accounts.contains_key(user) => {
                organization.members.insert(user.clone());
                self.note_seed();
                true
            }
            _ => false,
        }
    }

    /// Issues a key for `user` (which authenticates only while the account
    /// exists).
    pub(crate) fn add_api_key(&mut self, user: &UserId, permissions: Permissions) -> String {
        let key = generate::api_key();
        self.insert_api_key(&key, user, permissions);
        key
    }

    /// Inserts a pending invitation created at `created_at`, without an
    /// email; `None` when the organization is unknown. An unknown sender is
    /// snapshotted with its ID as its name and no email.
    pub(crate) fn seed_invite(
        &mut self,
        org: &OrganizationId,
        email: &str,
        sender: &UserId,
        created_at: DateTime<Utc>,
    ) -> Option<InviteId> {
        if !self.organizations.contains_key(org) {
            return None;
        }
        let sender = match self.accounts.get(sender) {
            Some(account) => account.to_user(),
            None => Account {
                id: sender.clone(),
                name: sender.to_string(),
                email: String::new(),
            }
            .to_user(),
        };
        let invite = self.insert_invite(created_at, org, email, sender, None);
        Some(invite)
    }

    fn insert_invite(
        &mut self,
        now: DateTime<Utc>,
        org: &OrganizationId,
        email: &str,
        sender: proto::User,
        message: Option<String>,
    ) -> InviteId {
        let id = generate::typed_id("inv", now, InviteId::parse);
        let sender = intern(&mut self.senders, sender);
        let invite = Invite {
            id: id.clone(),
            organization_id: org.clone(),
            email: email.to_owned(),
            stored: Stored::Pending,
            sender,
            created_at: now,
            expires_at: add(now, INVITE_TTL),
            accepted: None,
            message,
            token: generate::invite_token(),
        };
        if let Some(organization) = self.organizations.get_mut(org) {
            organization.invites.insert(invite.key());
        }
        insert_sorted(
            self.pending_by_email
                .entry((org.clone(), email_key(email)))
                .or_default(),
            invite.key(),
        );
        self.tokens.insert(invite.token.clone(), id.clone());
        self.invites.insert(id.clone(), invite);
        self.note_invite(&id);
        id
    }

    /// Takes the invitation `id` (no longer stored as pending) out of the
    /// dedupe index.
    fn unindex_pending(&mut self, id: &InviteId) {
        let Some(invite) = self.invites.get(id) else {
            return;
        };
        let key = (invite.organization_id.clone(), email_key(&invite.email));
        if let Some(keys) = self.pending_by_email.get_mut(&key) {
            if let Ok(at) = keys.binary_search(&invite.key()) {
                keys.remove(at);
            }
            if keys.is_empty() {
                self.pending_by_email.remove(&key);
            }
        }
    }

    /// Rebuilds every index from the organizations, accounts, invitations
    /// and idempotency keys (after a restore), and the next position.
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    fn rebuild_indexes(&mut self) {
        self.accounts_by_email.clear();
        for account in self.accounts.values() {
            self.accounts_by_email
                .entry(email_key(&account.email))
                .or_default()
                .insert(account.id.clone());
        }
        self.tokens.clear();
        self.pending_by_email.clear();
        self.senders.clear();
        for organization in self.organizations.values_mut() {
            organization.invites.clear();
        }
        for invite in self.invites.values_mut() {
            match self.senders.get(&invite.sender.id) {
                Some(shared) if **shared == *invite.sender => invite.sender = shared.clone(),
                _ => {
                    self.senders
                        .insert(invite.sender.id.clone(), invite.sender.clone());
                }
            }
            if let Some(organization) = self.organizations.get_mut(&invite.organization_id) {
                organization.invites.insert(invite.key());
            }
            if invite.stored == Stored::Pending {
                self.tokens.insert(invite.token.clone(), invite.id.clone());
                insert_sorted(
                    self.pending_by_email
                        .entry((invite.organization_id.clone(), email_key(&invite.email)))
                        .or_default(),
                    invite.key(),
                );
            }
        }
        self.idempotency_by_age = self
            .idempotency
            .iter()
            .map(|(scope, record)| (record.at, scope.clone()))
            .collect();
        let positions = self.organizations.values().map(|org| org.position);
        let key_positions = self.api_keys.values().map(|key| key.position);
        self.next_position = positions.chain(key_positions).max().map_or(0, |p| p + 1);
    }

    /// Turns on (or off, with `None`) rate limiting.
    pub(crate) fn set_rate_limits(&mut self, limits: Option<RateLimits>) {
        self.rate_limits = limits;
        self.windows.clear();
    }

    /// Narrows (or widens) the rate-limit window from its 60 seconds, so
    /// that a test sees a whole window in seconds.
    pub(crate) fn set_rate_window(&mut self, window: TimeDelta) {
        self.rate_window = Some(window);
        self.windows.clear();
    }

    /// How many calls the rate limits refused.
    pub(crate) fn rate_limited_count(&self) -> u64 {
        self.rate_limited
    }

    // ---- observing ----

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

    // ---- authentication and limits ----

    /// Resolves the `authorization` header (`None` when absent).
    ///
    /// No header, or `Bearer` with nothing after it, is `missing_api_key`;
    /// anything else that is not `Bearer <a key of this server>` (the scheme
    /// compared case-insensitively) is `invalid_api_key`, as is a key whose
    /// account no longer exists.
    pub(crate) fn authenticate(&self, header: Option<&str>) -> Result<Caller, ApiError> {
        let header = header.ok_or_else(ApiError::missing_api_key)?.trim();
        let key = match header.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim(),
            None if header.eq_ignore_ascii_case("bearer") || header.is_empty() => "",
            _ => return Err(ApiError::invalid_api_key()),
        };
        if key.is_empty() {
            return Err(ApiError::missing_api_key());
        }
        let api_key = self
            .api_keys
            .get(key)
            .ok_or_else(ApiError::invalid_api_key)?;
        let account = self
            .accounts
            .get(&api_key.account)
            .ok_or_else(ApiError::invalid_api_key)?;
        Ok(Caller {
            key: key.to_owned(),
            account: account.clone(),
            permissions: api_key.permissions,
        })
    }

    /// Admits a call of `method` by `caller` at `now` under the rate limits,
    /// if any: a sliding 60-second window per API key of all calls, and of
    /// creations. A refused call does not count.
    pub(crate) fn check_rate(
        &mut self,
        caller: &Caller,
        method: Method,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let Some(limits) = self.rate_limits else {
            return Ok(());
        };
        let width = self.rate_window.unwrap_or(RATE_WINDOW);
        let result = Self::admit(
            self.windows.entry(caller.key.clone()).or_default(),
            limits,
            width,
            method,
            now,
        );
        if result.is_err() {
            self.rate_limited += 1;
        }
        result
    }

    fn admit(
        window: &mut RateWindow,
        limits: RateLimits,
        width: TimeDelta,
        method: Method,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let since = now
            .checked_sub_signed(width)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        for calls in [&mut window.all, &mut window.creates] {
            while calls.front().is_some_and(|t| *t <= since) {
                calls.pop_front();
            }
        }
        let refuse = |calls: &VecDeque<DateTime<Utc>>, limit: u32, what: &str| {
            if calls.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
                return Ok(());
            }
            // The oldest call leaves the window at `oldest + width`.
            let reset_at = calls.front().map_or(add(now, width), |t| add(*t, width));
            Err(ApiError::rate_limited(
                what,
                RateLimited {
                    limit,
                    retry_after: (reset_at - now).max(TimeDelta::milliseconds(1)),
                    reset_at,
                },
            ))
        };
        refuse(&window.all, limits.requests_per_minute, "requests")?;
        if method == Method::Create {
            refuse(&window.creates, limits.creates_per_minute, "creations")?;
            window.creates.push_back(now);
        }
        window.all.push_back(now);
        Ok(())
    }

    fn require(&self, caller: &Caller, method: Method) -> Result<(), ApiError> {
        let (allowed, what) = match method {
            Method::Revoke => (caller.permissions.manage_members, "manage members"),
            Method::Accept => (true, ""),
            _ => (caller.permissions.invite_members, "invite members"),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::insufficient_permissions(format!(
                "this API key has no permission to {what}"
            )))
        }
    }

    /// The organization `id`, which the caller must be a member of.
    fn member_organization(
        &self,
        caller: &Caller,
        id: &OrganizationId,
    ) -> Result<&Organization, ApiError> {
        let organization = self
            .organizations
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("organization {id} not found")))?;
        if organization.members.contains(&caller.account.id) {
            Ok(organization)
        } else {
            Err(ApiError::insufficient_permissions(format!(
                "{} is not a member of organization {id}",
                caller.account.id
            )))
        }
    }

    /// The invitation `id` of the organization `org`.
    fn invite_in(&self, org: &OrganizationId, id: &InviteId) -> Result<&Invite, ApiError> {
        self.invites
            .get(id)
            .filter(|invite| invite.organization_id == *org)
            .ok_or_else(|| ApiError::not_found(format!("invitation {id} not found in {org}")))
    }

    // ---- the API ----

    /// `CreateOrganizationInvite`.
    ///
    /// With an idempotency key (scoped to the caller's account and the
    /// organization), a repeat within 24 hours with the same email (exact)
    /// and message returns the first response unchanged and does nothing;
    /// with a different email or message it is `invalid_field_value` on
    /// `idempotency_key`. Only successes are remembered, and a key is
    /// forgotten 24 hours after its first use.
    pub(crate) fn create(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::CreateOrganizationInviteRequest,
    ) -> Result<proto::OrganizationInvite, ApiError> {
        self.require(caller, Method::Create)?;
        let input = validate::create(req)?;
        self.member_organization(caller, &input.organization)?;

        self.forget_idempotency_keys(now);
        let scope = input
            .idempotency_key
            .clone()
            .map(|key| (caller.account.id.clone(), input.organization.clone(), key));
        if let Some(record) = scope.as_ref().and_then(|s| self.idempotency.get(s)) {
            return if record.email == input.email && record.message == input.message {
                let response = record.response.clone();
                self.flush()?;
                Ok(response)
            } else {
                Err(ApiError::invalid_value(
                    "idempotency_key",
                    "`idempotency_key` was already used with a different request",
                ))
            };
        }

        let response = self.create_or_resend(now, caller, &input)?;
        if let Some(scope) = scope {
            self.remember_idempotency_key(
                scope,
                IdempotentCreate {
                    at: now,
                    email: input.email,
                    message: input.message,
                    response: response.clone(),
                },
            );
        }
        self.changed()?;
        Ok(response)
    }

    /// Forgets the idempotency keys first used 24 hours or more before
    /// `now`, oldest first, so the cost is that of the keys forgotten.
    fn forget_idempotency_keys(&mut self, now: DateTime<Utc>) {
        while let Some((at, scope)) = self.idempotency_by_age.first().cloned() {
            if add(at, IDEMPOTENCY_TTL) > now {
                break;
            }
            self.idempotency_by_age.pop_first();
            if self
                .idempotency
                .get(&scope)
                .is_some_and(|record| record.at == at)
            {
                self.idempotency.remove(&scope);
                if self.journaling() {
                    self.journal.idempotency.insert(scope);
                }
            }
        }
    }

    fn remember_idempotency_key(&mut self, scope: IdempotencyScope, record: IdempotentCreate) {
        self.idempotency_by_age.insert((record.at, scope.clone()));
        if self.journaling() {
            self.journal.idempotency.insert(scope.clone());
        }
        self.idempotency.insert(scope, record);
    }

    /// A member's email is refused; a pending invitation for the email is
    /// resent (keeping its message and sender); otherwise a new one is made.
    fn create_or_resend(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        input: &CreateInput,
    ) -> Result<proto::OrganizationInvite, ApiError> {
        let organization = self.member_organization(caller, &input.organization)?;
        let email = email_key(&input.email);
        let is_member = self
            .accounts_by_email
            .get(&email)
            .is_some_and(|ids| ids.iter().any(|id| organization.members.contains(id)));
        if is_member {
            return Err(ApiError::precondition(format!(
                "{} is already a member of organization {}",
                input.email, input.organization
            )));
        }
        let pending = self
            .pending_by_email
            .get(&(input.organization.clone(), email))
            .into_iter()
            .flat_map(|keys| keys.iter().rev())
            .filter_map(|(_, id)| self.invites.get(id))
            .find(|invite| invite.status(now) == Status::Pending)
            .map(|invite| invite.id.clone());
        let id = match pending {
            Some(id) => {
                return self
                    .refresh(now, &id)
                    .ok_or_else(|| ApiError::not_found(format!("invitation {id} not found")))
            }
            None => self.insert_invite(
                now,
                &input.organization,
                &input.email,
                caller.account.to_user(),
                input.message.clone(),
            ),
        };
        let invite = self
            .invites
            .get(&id)
            .ok_or_else(|| ApiError::not_found(format!("invitation {id} not found")))?;
        self.emails.push(SentEmail {
            to: invite.email.clone(),
            organization_id: invite.organization_id.clone(),
            invite_id: id.clone(),
            token: invite.token.clone(),
            kind: EmailKind::Invitation,
            sent_at: now,
        });
        Ok(invite.to_proto(now))
    }

    /// Gives the invitation `id` a new token and expiry, makes it pending,
    /// and records a resend email.
    fn refresh(&mut self, now: DateTime<Utc>, id: &InviteId) -> Option<proto::OrganizationInvite> {
        let invite = self.invites.get_mut(id)?;
        self.tokens.remove(&invite.token);
        invite.token = generate::invite_token();
        invite.expires_at = add(now, INVITE_TTL);
        invite.stored = Stored::Pending;
        self.tokens.insert(invite.token.clone(), id.clone());
        self.emails.push(SentEmail {
            to: invite.email.clone(),
            organization_id: invite.organization_id.clone(),
            invite_id: id.clone(),
            token: invite.token.clone(),
            kind: EmailKind::Resend,
            sent_at: now,
        });
        let invite = invite.to_proto(now);
        self.note_invite(id);
        Some(invite)
    }

    /// `ListOrganizationInvites`.
    pub(crate) fn list(
        &self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::ListOrganizationInvitesRequest,
    ) -> Result<proto::ListOrganizationInvitesResponse, ApiError> {
        self.require(caller, Method::List)?;
        let query = list::parse(req)?;
        let fingerprint = self
            .cursors
            .fingerprint(&(&query.organization, &query.filter));
        let cursor = match &query.page_token {
            None => None,
            Some(token) => Some(
                self.cursors
                    .decode(token)
                    .filter(|cursor| cursor.fingerprint == fingerprint)
                    .ok_or_else(ApiError::invalid_cursor)?,
            ),
        };
        let organization = self.member_organization(caller, &query.organization)?;
        let page = list::page(
            &organization.invites,
            &self.invites,
            &query.filter,
            query.page_size,
            cursor.as_ref(),
            now,
        );
        let token = |cursor: Option<super::cursor::Cursor>| {
            cursor
                .map(|mut cursor| {
                    cursor.fingerprint = fingerprint;
                    self.cursors.encode(&cursor)
                })
                .unwrap_or_default()
        };
        Ok(proto::ListOrganizationInvitesResponse {
            items: page
                .items
                .iter()
                .map(|invite| invite.to_proto(now))
                .collect(),
            pagination: Some(proto::Pagination {
                has_more: page.next.is_some(),
                next_page_token: token(page.next),
                prev_page_token: token(page.prev),
            }),
        })
    }

    /// `ResendOrganizationInvite`: a pending or expired invitation gets a new
    /// token (the old one stops working) and expiry, and an email; revoked
    /// or accepted is `FAILED_PRECONDITION`.
    pub(crate) fn resend(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::ResendOrganizationInviteRequest,
    ) -> Result<proto::OrganizationInvite, ApiError> {
        self.require(caller, Method::Resend)?;
        let target = validate::invite_ref(&req.organization_id, &req.invite_id)?;
        self.member_organization(caller, &target.organization)?;
        let invite = self.invite_in(&target.organization, &target.invite)?;
        match invite.status(now) {
            Status::Pending | Status::Expired => {
                let invite = self
                    .refresh(now, &target.invite)
                    .ok_or_else(|| ApiError::not_found("invitation not found"))?;
                self.changed()?;
                Ok(invite)
            }
            status => Err(ApiError::precondition(format!(
                "invitation {} is {}; only pending or expired invitations can be resent",
                target.invite,
                status_word(status)
            ))),
        }
    }

    /// `RevokeOrganizationInvite`: only a pending invitation (not expired)
    /// can be revoked; its token stops working.
    pub(crate) fn revoke(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::RevokeOrganizationInviteRequest,
    ) -> Result<proto::OrganizationInvite, ApiError> {
        self.require(caller, Method::Revoke)?;
        let target = validate::invite_ref(&req.organization_id, &req.invite_id)?;
        self.member_organization(caller, &target.organization)?;
        let status = self
            .invite_in(&target.organization, &target.invite)?
            .status(now);
        if status != Status::Pending {
            return Err(ApiError::precondition(format!(
                "invitation {} is {}; only pending invitations can be revoked",
                target.invite,
                status_word(status)
            )));
        }
        self.unindex_pending(&target.invite);
        let invite = self
            .invites
            .get_mut(&target.invite)
            .ok_or_else(|| ApiError::not_found("invitation not found"))?;
        invite.stored = Stored::Revoked;
        self.tokens.remove(&invite.token);
        let invite = invite.to_proto(now);
        self.note_invite(&target.invite);
        self.changed()?;
        Ok(invite)
    }

    /// `AcceptOrganizationInvite`: needs no permission, only a valid key,
    /// whose account joins. A token that is unknown, superseded by a resend,
    /// revoked, expired, already used, or of another organization is
    /// `NOT_FOUND`; an account email other than the invitation's is
    /// `PERMISSION_DENIED`; a member already is `FAILED_PRECONDITION`.
    pub(crate) fn accept(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::AcceptOrganizationInviteRequest,
    ) -> Result<proto::Organization, ApiError> {
        self.require(caller, Method::Accept)?;
        let input = validate::accept(req)?;
        let organization = self.organizations.get(&input.organization).ok_or_else(|| {
            ApiError::not_found(format!("organization {} not found", input.organization))
        })?;
        let invite = self
            .tokens
            .get(&input.token)
            .and_then(|id| self.invites.get(id))
            .filter(|invite| {
                invite.organization_id == input.organization
                    && invite.status(now) == Status::Pending
            })
            .ok_or_else(|| ApiError::not_found("invitation token not found or no longer valid"))?;
        if !same_email(&invite.email, &caller.account.email) {
            return Err(ApiError::insufficient_permissions(
                "this invitation is for another email address",
            ));
        }
        if organization.members.contains(&caller.account.id) {
            return Err(ApiError::precondition(format!(
                "{} is already a member of organization {}",
                caller.account.id, input.organization
            )));
        }
        let id = invite.id.clone();
        let response = organization.to_proto();
        self.unindex_pending(&id);
        if let Some(invite) = self.invites.get_mut(&id) {
            invite.stored = Stored::Accepted;
            invite.accepted = Some(Box::new((now, caller.account.to_user())));
            self.tokens.remove(&invite.token);
        }
        self.note_invite(&id);
        if let Some(organization) = self.organizations.get_mut(&input.organization) {
            organization.members.insert(caller.account.id.clone());
            if self.journaling() {
                self.journal
                    .members
                    .push((input.organization.clone(), caller.account.id.clone()));
            }
        }
        self.changed()?;
        Ok(response)
    }
}

/// The shared copy of `user` (as a sender snapshot): the cached one when it
/// is equal, else `user`, cached from now on.
fn intern(senders: &mut HashMap<String, Arc<proto::User>>, user: proto::User) -> Arc<proto::User> {
    match senders.get(&user.id) {
        Some(shared) if **shared == user => shared.clone(),
        _ => {
            let shared = Arc::new(user);
            senders.insert(shared.id.clone(), shared.clone());
            shared
        }
    }
}

/// Inserts `key` into the sorted `keys`, unless it is there.
fn insert_sorted(keys: &mut Vec<Anchor>, key: Anchor) {
    if let Err(at) = keys.binary_search(&key) {
        keys.insert(at, key);
    }
}

/// A status in words, for messages.
fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Accepted => "accepted",
        Status::Expired => "expired",
        Status::Revoked => "revoked",
        Status::Unspecified => "unspecified",
    }
}

#[cfg(feature = "persist")]
pub(crate) mod database;
#[cfg(feature = "persist")]
pub(crate) mod persist;
#[cfg(test)]
mod tests;
