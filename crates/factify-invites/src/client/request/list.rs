//! [`Client::list_invites`] and its [`ListInvites`] builder: the filters,
//! their checks, and the one page or the streams it makes (the streams
//! themselves are in [`crate::pagination`]).

use std::future::Future;

use chrono::{DateTime, Utc};

use super::call_options;
use super::check::{check_len, checked_id};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{IdError, IntoId, OrganizationId, UserId};
use crate::limits;
use crate::pagination::fetch::fetch_page;
use crate::pagination::{InviteStream, PageStream};
use crate::proto;
use crate::transport::CallOptions;
use crate::types::{InviteStatus, Page};

impl Client {
    /// Lists the organization's invitations, newest first; see
    /// [`ListInvites`] for filters, streams and pages.
    pub fn list_invites(&self, organization_id: impl IntoId<OrganizationId>) -> ListInvites {
        ListInvites::new(self.clone(), organization_id.into_id())
    }
}

/// A request to list an organization's invitations, newest first.
///
/// Set filters with the setters (all set filters apply together), then pick
/// how to read the result:
///
/// - [`into_stream`](Self::into_stream): every matching invitation, one at
///   a time, fetching pages as needed;
/// - [`pages`](Self::pages): the same, a page at a time;
/// - [`page`](Self::page): one page, from a token of an earlier page.
///
/// ```no_run
/// # async fn run(client: factify_invites::Client) -> factify_invites::Result<()> {
/// use futures::TryStreamExt;
/// use factify_invites::InviteStatus;
///
/// let mut invites = client
///     .list_invites("org_01h2xcejqtf2nbrexx3vqjhp41")
///     .status(InviteStatus::Pending)
///     .email_contains("@example.com")
///     .page_size(100)
///     .into_stream();
/// while let Some(invite) = invites.try_next().await? {
///     println!("{} {}", invite.id, invite.email);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a list request does nothing until it is streamed or a page is fetched"]
#[derive(Debug, Clone)]
pub struct ListInvites {
    client: Client,
    organization_id: Result<OrganizationId, IdError>,
    statuses: Vec<InviteStatus>,
    email_contains: Option<String>,
    email_exact: Option<String>,
    sender: Option<Result<UserId, IdError>>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    page_size: Option<u32>,
    page_token: String,
    prefetch: bool,
    options: CallOptions,
}

impl ListInvites {
    pub(crate) fn new(client: Client, organization_id: Result<OrganizationId, IdError>) -> Self {
        ListInvites {
            client,
            organization_id,
            statuses: Vec::new(),
            email_contains: None,
            email_exact: None,
            sender: None,
            created_after: None,
            created_before: None,
            page_size: None,
            page_token: String::new(),
            prefetch: true,
            options: CallOptions::default(),
        }
    }

    /// Only invitations in this status; call again to allow several. No call
    /// means every status. Expired invitations are those whose `expires_at`
    /// has passed, whatever they were.
    pub fn status(mut self, status: InviteStatus) -> Self {
        self.statuses.push(status);
        self
    }

    /// Only invitations in one of these statuses.
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = InviteStatus>) -> Self {
        self.statuses.extend(statuses);
        self
    }

    /// Only invitations whose email contains this text, compared
    /// case-insensitively.
    pub fn email_contains(mut self, text: impl Into<String>) -> Self {
        self.email_contains = Some(text.into());
        self
    }

    /// Only invitations whose email is exactly this, compared
    /// case-sensitively.
    pub fn email_exact(mut self, email: impl Into<String>) -> Self {
        self.email_exact = Some(email.into());
        self
    }

    /// Only invitations sent by this account.
    pub fn sender(mut self, sender: impl IntoId<UserId>) -> Self {
        self.sender = Some(sender.into_id());
        self
    }

    /// Only invitations created at or after this instant.
    pub fn created_after(mut self, at: DateTime<Utc>) -> Self {
        self.created_after = Some(at);
        self
    }

    /// Only invitations created at or before this instant.
    pub fn created_before(mut self, at: DateTime<Utc>) -> Self {
        self.created_before = Some(at);
        self
    }

    /// How many invitations each page holds, 1 to 100; 0 (as if unset)
    /// leaves it to the server, whose default is 50.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Where the streams of this request start: the token of a page of an
    /// earlier listing with the same filters, such as the
    /// [`Error::resume_token`] of an error that ended a stream, or a
    /// [`PageStream::next_page_token`]. The empty string (the default) is
    /// the first page.
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = token.into();
        self
    }

    /// Whether the streams of this request fetch the next page while the
    /// caller works on the current one (on by default; see the
    /// [module docs](crate::pagination)). With `false`, a page is fetched only when the
    /// stream is polled past the pages already received: nothing is fetched
    /// that is not read, at the cost of one round trip of waiting per page.
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// The wire request for the first page, checked.
    fn request(&self) -> Result<proto::ListOrganizationInvitesRequest> {
        self.options.check()?;
        let organization_id = checked_id(self.organization_id.clone(), "organization_id")?;
        let sender_id = match &self.sender {
            Some(sender) => Some(checked_id(sender.clone(), "sender_id")?.into_string()),
            None => None,
        };
        let page_size = match self.page_size {
            // The SPEC: 0 means the server's default.
            None | Some(0) => 0,
            Some(size) => i32::try_from(size)
                .ok()
                .filter(|size| (limits::MIN_PAGE_SIZE..=limits::MAX_PAGE_SIZE).contains(size))
                .ok_or_else(|| {
                    Error::invalid_request(
                        "page_size",
                        format!(
                            "must be from {} to {} (or 0 for the server's default of {}), got {size}",
                            limits::MIN_PAGE_SIZE,
                            limits::MAX_PAGE_SIZE,
                            limits::DEFAULT_PAGE_SIZE,
                        ),
                    )
                })?,
        };
        if let Some(email) = &self.email_exact {
            check_len(email, limits::MAX_EMAIL_BYTES, "email.exact")?;
        }
        if let Some(text) = &self.email_contains {
            check_len(text, limits::MAX_EMAIL_BYTES, "email.contains")?;
        }
        if let (Some(after), Some(before)) = (self.created_after, self.created_before) {
            if after > before {
                return Err(Error::invalid_request(
                    "created",
                    format!("created_after ({after}) is later than created_before ({before})"),
                ));
            }
        }
        let timestamp = |at: DateTime<Utc>| prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: at.timestamp_subsec_nanos() as i32,
        };
        let email = (self.email_contains.is_some() || self.email_exact.is_some()).then(|| {
            proto::StringFilter {
                contains: self.email_contains.clone().unwrap_or_default(),
                exact: self.email_exact.clone().unwrap_or_default(),
            }
        });
        let created = (self.created_after.is_some() || self.created_before.is_some()).then(|| {
            proto::TimeRange {
                after: self.created_after.map(timestamp),
                before: self.created_before.map(timestamp),
            }
        });
        Ok(proto::ListOrganizationInvitesRequest {
            organization_id: organization_id.into_string(),
            status: self
                .statuses
                .iter()
                .map(|status| {
                    status.to_wire().ok_or_else(|| {
                        Error::invalid_request(
                            "status",
                            format!("{status:?} came by name; this version has no number for it"),
                        )
                    })
                })
                .collect::<Result<_>>()?,
            page_token: self.page_token.clone(),
            page_size,
            email,
            sender_id,
            created,
        })
    }

    /// Fetches one page: the first with `None`, or the page a token of an
    /// earlier page (its `next_page_token` or `prev_page_token`) points to.
    /// The filters must be the ones the token was made with. Nothing is
    /// sent until the future is awaited; a bad argument is its error.
    pub fn page(
        self,
        page_token: Option<&str>,
    ) -> impl Future<Output = Result<Page>> + Send + 'static {
        self.page_token(page_token.unwrap_or_default()).send()
    }

    /// A stream of whole pages, starting at the first (or at
    /// [`page_token`](Self::page_token)).
    pub fn pages(self) -> PageStream {
        let first = self.request();
        PageStream::new(self.client, self.options, self.prefetch, first)
    }

    /// A stream of every matching invitation, newest first (from
    /// [`page_token`](Self::page_token) on, if set).
    pub fn into_stream(self) -> InviteStream {
        InviteStream::new(self.pages())
    }
}

call_options!(ListInvites => Page);

impl ListInvites {
    /// Fetches the first page (or the one at
    /// [`page_token`](Self::page_token)); what `.await` on the builder does.
    pub fn send(self) -> impl Future<Output = Result<Page>> + Send + 'static {
        // Checked now, sent when awaited. Not an `async fn`: the future
        // keeps only what the fetch needs, not this builder, and is smaller
        // to box and move on every call.
        let request = self.request();
        let (client, options) = (self.client, self.options);
        async move { fetch_page(client, request?, options).await }
    }
}
