//! [`ReferenceServer`]: the handle a test holds, which shares one store,
//! clock and fault queue between its clones, and its methods to build,
//! seed, observe, move time and inject faults. What answers calls is in the
//! modules that serve it (`service`, `transport`, `connect`, `admin`), each
//! with its own `impl ReferenceServer`; the persistence methods (feature
//! `persist`) are in `server/persist.rs`.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::{Clock, ShiftedClock, SystemClock};
use crate::faults::{Fault, Faults};
use crate::generate;
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto;
#[cfg(feature = "persist")]
use crate::state::persist::Snapshot;
use crate::state::State;
use crate::types::{Fixture, Method, Permissions, RateLimits, ReceivedTrace, SentEmail};
use crate::web::CorsOrigins;

#[cfg(feature = "persist")]
mod persist;

/// The in-memory Factify invitations service. Cheap to clone: clones share
/// one store, so a test keeps a clone to seed and observe while another
/// serves.
///
/// It implements the generated
/// [`OrganizationInviteService`](crate::proto::organization_invite_service_server::OrganizationInviteService)
/// trait, so its methods can also be called directly with a
/// `tonic::Request`. See the [crate docs](crate) for an example and the
/// rules it follows.
#[derive(Clone)]
pub struct ReferenceServer {
    // Crate-visible for the `impl ReferenceServer` of the modules that
    // serve it (service, transport, admin), which this module must not
    // import.
    pub(crate) state: Arc<Mutex<State>>,
    pub(crate) clock: Arc<ShiftedClock>,
    pub(crate) faults: Arc<Faults>,
    /// What `POST /admin/v1/reset` returns to.
    #[cfg(feature = "persist")]
    pub(crate) seed: Arc<SeedPoint>,
    /// Which browser origins may call (CORS); none by default.
    pub(crate) cors: CorsOrigins,
}

impl Default for ReferenceServer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ReferenceServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (organizations, accounts, invites) = self.lock().sizes();
        f.debug_struct("ReferenceServer")
            .field("organizations", &organizations)
            .field("accounts", &accounts)
            .field("invites", &invites)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl ReferenceServer {
    /// An empty server on the [`SystemClock`], without rate limits.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty server on `clock`, without rate limits.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        ReferenceServer {
            state: Arc::new(Mutex::new(State::new())),
            clock: Arc::new(ShiftedClock::new(clock)),
            faults: Arc::default(),
            #[cfg(feature = "persist")]
            seed: Arc::default(),
            cors: CorsOrigins::NONE,
        }
    }

    /// Turns on rate limits (off by default), such as [`RateLimits::SPEC`].
    #[must_use]
    pub fn with_rate_limits(self, limits: RateLimits) -> Self {
        self.lock().set_rate_limits(Some(limits));
        self
    }

    /// Makes the rate-limit window `window` wide instead of 60 seconds, so
    /// that a test of a limit sees whole windows in seconds (the limits
    /// then count calls per `window`).
    #[must_use]
    pub fn with_rate_limit_window(self, window: std::time::Duration) -> Self {
        let window = chrono::TimeDelta::from_std(window).unwrap_or(chrono::TimeDelta::MAX);
        self.lock().set_rate_window(window);
        self
    }

    /// Lets browsers on `origins` call the server (CORS), over Connect,
    /// gRPC-Web and the admin surface. Off ([`CorsOrigins::NONE`]) by
    /// default.
    #[must_use]
    pub fn with_cors(mut self, origins: CorsOrigins) -> Self {
        self.cors = origins;
        self
    }

    /// How many calls the rate limits refused with `RESOURCE_EXHAUSTED`.
    pub fn rate_limited_count(&self) -> u64 {
        self.lock().rate_limited_count()
    }

    /// The store, recovering it if a panic elsewhere poisoned the lock (the
    /// store's rules do not leave it half-changed).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The server's current time: its [`Clock`] moved by
    /// [`set_time`](Self::set_time) and [`advance_time`](Self::advance_time)
    /// (or the admin surface's `/admin/v1/clock`).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Makes the server's time `time` from now on; it then goes on at the
    /// pace of the server's [`Clock`]. Every rule that depends on time
    /// (7-day expiry, 24-hour idempotency, rate-limit windows, new IDs)
    /// follows. It may go backwards.
    pub fn set_time(&self, time: DateTime<Utc>) {
        self.clock.set(time);
    }

    /// Moves the server's time by `by` (negative goes backwards),
    /// saturating at the ends of [`DateTime`]'s range.
    pub fn advance_time(&self, by: TimeDelta) {
        self.clock.advance(by);
    }

    /// How far [`set_time`](Self::set_time) and
    /// [`advance_time`](Self::advance_time) have moved the server's time
    /// from its [`Clock`] (zero at first).
    pub fn time_shift(&self) -> TimeDelta {
        self.clock.shift()
    }

    // ---- seeding ----

    /// Adds an organization named `name`, created now.
    pub fn add_organization(&self, name: &str) -> OrganizationId {
        let now = self.now();
        self.lock().add_organization(now, name)
    }

    /// Adds a person (`user_...`) with a verified `email`. Use
    /// [`add_api_key`](Self::add_api_key) to let it call the API.
    pub fn add_user(&self, name: &str, email: &str) -> UserId {
        let now = self.now();
        self.lock().add_account(now, "user", name, email)
    }

    /// Adds a service account (`svc_...`) with `email`.
    pub fn add_service_account(&self, name: &str, email: &str) -> UserId {
        let now = self.now();
        self.lock().add_account(now, "svc", name, email)
    }

    /// Makes `user` a member of `org`. Does nothing (and logs a warning)
    /// when either is unknown.
    pub fn add_member(&self, org: &OrganizationId, user: &UserId) {
        if !self.lock().add_member(org, user) {
            tracing::warn!(%org, %user, "add_member: unknown organization or account");
        }
    }

    /// Issues a fresh API key (`ffy_` and 32 letters and digits) for `user`
    /// with `permissions`. A key of an unknown account is refused as
    /// `invalid_api_key`.
    pub fn add_api_key(&self, user: &UserId, permissions: Permissions) -> String {
        self.lock().add_api_key(user, permissions)
    }

    /// Adds an organization with a chosen `id` (replacing one with that
    /// ID), created now: for seeds whose IDs other programs hard-code.
    pub fn add_organization_with_id(&self, id: &OrganizationId, name: &str) {
        let now = self.now();
        self.lock().insert_organization(id.clone(), name, now);
    }

    /// Adds an account with a chosen `id` (replacing one with that ID): a
    /// person for `user_...`, a service account for `svc_...`, with a
    /// verified `email`.
    pub fn add_account_with_id(&self, id: &UserId, name: &str, email: &str) {
        self.lock().insert_account(id.clone(), name, email);
    }

    /// Registers a chosen API `key` for `user` with `permissions`
    /// (replacing that key's owner if it exists), for seeds whose keys
    /// other programs hard-code. A key authenticates only if it is visible
    /// ASCII without spaces, as a `Bearer` token must be.
    pub fn add_api_key_with(&self, user: &UserId, key: &str, permissions: Permissions) {
        self.lock().insert_api_key(key, user, permissions);
    }

    /// Inserts a pending invitation created at `created_at` (expiring 7
    /// days later) directly, without recording an email: for large
    /// pagination fixtures. The ID's time part is `created_at`. An unknown
    /// `sender` is shown with its ID as its name. For an unknown `org`
    /// nothing is stored (a warning is logged) and the ID returned matches
    /// no invitation.
    pub fn seed_invite(
        &self,
        org: &OrganizationId,
        email: &str,
        sender: &UserId,
        created_at: DateTime<Utc>,
    ) -> InviteId {
        match self.lock().seed_invite(org, email, sender, created_at) {
            Some(id) => id,
            None => {
                tracing::warn!(%org, "seed_invite: unknown organization");
                generate::typed_id("inv", created_at, InviteId::parse)
            }
        }
    }

    /// Seeds an organization "Acme" and a member "Ada Admin"
    /// (`admin@acme.example`) with an API key of [`Permissions::ALL`].
    pub fn fixture(&self) -> Fixture {
        let organization = self.add_organization("Acme");
        let admin_email = "admin@acme.example".to_owned();
        let admin = self.add_user("Ada Admin", &admin_email);
        self.add_member(&organization, &admin);
        let admin_key = self.add_api_key(&admin, Permissions::ALL);
        Fixture {
            organization,
            admin,
            admin_email,
            admin_key,
        }
    }

    // ---- observing ----

    /// Every email recorded so far, oldest first.
    pub fn sent_emails(&self) -> Vec<SentEmail> {
        self.lock().sent_emails().to_vec()
    }

    /// The newest email to `email` (compared case-insensitively).
    pub fn last_email_to(&self, email: &str) -> Option<SentEmail> {
        let email = email.to_lowercase();
        self.lock()
            .sent_emails()
            .iter()
            .rev()
            .find(|sent| sent.to.to_lowercase() == email)
            .cloned()
    }

    /// How many calls of `method` reached the service, refused ones
    /// included.
    pub fn call_count(&self, method: Method) -> u64 {
        self.lock().call_count(method)
    }

    /// The W3C trace contexts (`traceparent`, `tracestate`) of the calls
    /// that carried one, oldest first.
    pub fn received_traces(&self) -> Vec<ReceivedTrace> {
        self.lock().received_traces().to_vec()
    }

    /// How many calls of any method reached the service.
    pub fn total_calls(&self) -> u64 {
        self.lock().total_calls()
    }

    /// How many invitations the store holds, in every organization.
    pub fn invite_count(&self) -> usize {
        self.lock().sizes().2
    }

    /// The invitations of `org` as the API would show them now (expired ones
    /// as `EXPIRED`), newest first; empty for an unknown organization.
    pub fn invites(&self, org: &OrganizationId) -> Vec<proto::OrganizationInvite> {
        let now = self.now();
        self.lock().invites_of(org, now)
    }

    // ---- faults ----

    /// Queues faults for the next calls of `method` (`None`: of any method),
    /// one fault per call, in order. See [`Fault`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use factify_invites_server::{Fault, Method, ReferenceServer};
    ///
    /// let server = ReferenceServer::new();
    /// // The next two creations fail as if the service were down.
    /// server.inject_faults(Some(Method::Create), [Fault::Unavailable; 2]);
    /// // The next call of any method is rate-limited for a second.
    /// server.inject_faults(None, [Fault::RateLimited(Duration::from_secs(1))]);
    /// ```
    pub fn inject_faults(&self, method: Option<Method>, faults: impl IntoIterator<Item = Fault>) {
        self.faults.push(method, faults);
    }

    /// From now on, answers each call of `method` (`None`: of any method)
    /// that finds no queued fault with `fault`, at random with probability
    /// `rate` (0 to 1; 0 turns it off), drawn from a generator seeded with
    /// `seed` so that a test sees the same faults on every run.
    ///
    /// ```
    /// use factify_invites_server::{Fault, Method, ReferenceServer};
    ///
    /// let server = ReferenceServer::new();
    /// // 30 % of resends act, then answer UNAVAILABLE: lost answers.
    /// server.inject_random_faults(Some(Method::Resend), Fault::UnavailableAfterActing, 0.3, 7);
    /// ```
    pub fn inject_random_faults(&self, method: Option<Method>, fault: Fault, rate: f64, seed: u64) {
        self.faults.set_random(method, fault, rate, seed);
    }

    /// How many injected faults no call has taken yet.
    pub fn pending_faults(&self) -> usize {
        self.faults.pending()
    }

    /// Makes every call of `method` wait `latency` before it is handled
    /// (zero turns it off): a server that is slow per page, per creation...
    pub fn set_latency(&self, method: Method, latency: std::time::Duration) {
        self.faults.set_latency(method, latency);
    }
}

/// The data and time that `POST /admin/v1/reset` returns to, remembered by
/// [`ReferenceServer::remember_seed`](ReferenceServer::remember_seed).
#[cfg(feature = "persist")]
#[derive(Debug, Default)]
pub(crate) struct SeedPoint {
    pub(crate) saved: Mutex<Option<(Snapshot, TimeDelta)>>,
}
