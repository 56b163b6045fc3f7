//! Listing invitations: the checked query ([`ListQuery`], [`Filter`]) and
//! keyset paging over an organization's index ([`page`]).
//!
//! Order is newest first by `(created_at, id)` descending, which is total
//! and stable. A page is found from an anchor key rather than an offset, so
//! creating invitations while paging neither repeats nor skips older ones.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use chrono::{DateTime, Utc};

use super::cursor::{Anchor, Cursor, Direction};
use super::error::ApiError;
use super::state::model::Invite;
use super::validate;
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::limits;
use crate::proto::{self, OrganizationInviteStatus as Status};

/// The filters of a list request, all applying together. It is hashed into
/// the fingerprint that ties page tokens to their filters (page size is
/// left out, so a client may change it between pages).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct Filter {
    /// Sorted and deduplicated; empty means every status.
    pub(crate) statuses: Vec<Status>,
    /// Lowercased: matched against the lowercased email.
    pub(crate) email_contains: Option<String>,
    /// Matched case-sensitively.
    pub(crate) email_exact: Option<String>,
    pub(crate) sender: Option<UserId>,
    pub(crate) created_after: Option<DateTime<Utc>>,
    pub(crate) created_before: Option<DateTime<Utc>>,
}

impl Filter {
    /// Whether `invite` passes every filter at the instant `now` (which
    /// decides whether a pending invitation reads as expired).
    pub(crate) fn matches(&self, invite: &Invite, now: DateTime<Utc>) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&invite.status(now)))
            && self
                .email_contains
                .as_ref()
                .is_none_or(|part| invite.email.to_lowercase().contains(part.as_str()))
            && self
                .email_exact
                .as_ref()
                .is_none_or(|exact| invite.email == *exact)
            && self
                .sender
                .as_ref()
                .is_none_or(|sender| invite.sender.id == sender.as_str())
            && self
                .created_after
                .is_none_or(|after| invite.created_at >= after)
            && self
                .created_before
                .is_none_or(|before| invite.created_at <= before)
    }
}

/// A checked `ListOrganizationInvitesRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub(crate) organization: OrganizationId,
    pub(crate) filter: Filter,
    /// 1 to 100.
    pub(crate) page_size: usize,
    /// `None` for the first page.
    pub(crate) page_token: Option<String>,
}

/// Checks a list request: `organization_id`, then `status`
/// (`invalid_enum_value` for unknown or unspecified values), `page_size`
/// (0 is 50; negative or over 100 is `invalid_field_value`), `sender_id`,
/// and `created` (a malformed bound names `created.after` or
/// `created.before`; `after` later than `before` names `created`). The page
/// token is only decoded by the store, which knows the key.
pub(crate) fn parse(req: &proto::ListOrganizationInvitesRequest) -> Result<ListQuery, ApiError> {
    let organization = validate::organization_id(&req.organization_id)?;
    let mut statuses = Vec::with_capacity(req.status.len());
    for &value in &req.status {
        match Status::try_from(value) {
            Ok(Status::Unspecified) | Err(_) => {
                return Err(ApiError::invalid_enum("status", value))
            }
            Ok(status) => statuses.push(status),
        }
    }
    statuses.sort_unstable();
    statuses.dedup();
    let page_size = match req.page_size {
        0 => limits::DEFAULT_PAGE_SIZE,
        size if (limits::MIN_PAGE_SIZE..=limits::MAX_PAGE_SIZE).contains(&size) => size,
        _ => {
            return Err(ApiError::invalid_value(
                "page_size",
                format!(
                    "`page_size` must be {} to {}, or 0 for {}",
                    limits::MIN_PAGE_SIZE,
                    limits::MAX_PAGE_SIZE,
                    limits::DEFAULT_PAGE_SIZE
                ),
            ))
        }
    };
    let email = req.email.clone().unwrap_or_default();
    let sender = validate::sender_id(req.sender_id.as_deref())?;
    let created = req.created.unwrap_or_default();
    let created_after = created
        .after
        .as_ref()
        .map(|t| validate::timestamp(t, "created.after"))
        .transpose()?;
    let created_before = created
        .before
        .as_ref()
        .map(|t| validate::timestamp(t, "created.before"))
        .transpose()?;
    if let (Some(after), Some(before)) = (created_after, created_before) {
        if after > before {
            return Err(ApiError::invalid_value(
                "created",
                "`created.after` is later than `created.before`",
            ));
        }
    }
    Ok(ListQuery {
        organization,
        filter: Filter {
            statuses,
            email_contains: Some(email.contains.to_lowercase()).filter(|s| !s.is_empty()),
            email_exact: Some(email.exact).filter(|s| !s.is_empty()),
            sender,
            created_after,
            created_before,
        },
        page_size: usize::try_from(page_size).unwrap_or(50),
        page_token: Some(req.page_token.clone()).filter(|t| !t.is_empty()),
    })
}

/// One page: its invitations newest first, and where its neighbours start.
/// The cursors have no fingerprint yet (0); the store sets it.
#[derive(Debug)]
pub(crate) struct Page<'a> {
    pub(crate) items: Vec<&'a Invite>,
    /// Where the next (older) page starts, if any invitation follows.
    pub(crate) next: Option<Cursor>,
    /// Where the previous (newer) page ends, if any invitation precedes.
    pub(crate) prev: Option<Cursor>,
}

/// The page of at most `size` invitations of `index` (an organization's keys,
/// ascending) passing `filter`, at `cursor` (`None`: the first page).
///
/// A non-empty page's next cursor is anchored at its last item and its
/// previous cursor at its first, each only if a matching invitation lies
/// beyond. An empty page (its items changed status, say) points back to its
/// own anchor, inclusive of it where the page excluded it.
pub(crate) fn page<'a>(
    index: &BTreeSet<Anchor>,
    invites: &'a HashMap<InviteId, Invite>,
    filter: &Filter,
    size: usize,
    cursor: Option<&Cursor>,
    now: DateTime<Utc>,
) -> Page<'a> {
    let matching = |key: &&Anchor| -> Option<&'a Invite> {
        invites
            .get(&key.1)
            .filter(|invite| filter.matches(invite, now))
    };
    let older = |anchor: &Anchor, inclusive: bool| {
        index
            .range((Bound::Unbounded, bound(anchor, inclusive)))
            .rev()
            .filter_map(|key| matching(&key))
    };
    let newer = |anchor: &Anchor, inclusive: bool| {
        index
            .range((bound(anchor, inclusive), Bound::Unbounded))
            .filter_map(|key| matching(&key))
    };

    let (direction, fetched): (Direction, Vec<&'a Invite>) = match cursor {
        None => (
            Direction::Older,
            index
                .iter()
                .rev()
                .filter_map(|key| matching(&key))
                .take(size.saturating_add(1))
                .collect(),
        ),
        Some(c) if c.direction == Direction::Older => (
            Direction::Older,
            older(&c.anchor, c.inclusive)
                .take(size.saturating_add(1))
                .collect(),
        ),
        Some(c) => (
            Direction::Newer,
            newer(&c.anchor, c.inclusive)
                .take(size.saturating_add(1))
                .collect(),
        ),
    };
    let overflow = fetched.len() > size;
    let mut items = fetched;
    items.truncate(size);
    if direction == Direction::Newer {
        items.reverse();
    }

    let to_cursor = |direction, inclusive, anchor: Anchor| Cursor {
        direction,
        inclusive,
        anchor,
        fingerprint: 0,
    };
    let (first, last) = (
        items.first().map(|i| i.key()),
        items.last().map(|i| i.key()),
    );
    let (more_before, more_after) = match (direction, cursor) {
        (_, None) => (false, overflow),
        (Direction::Older, Some(_)) => (
            match &first {
                Some(first) => newer(first, false).next().is_some(),
                None => cursor.is_some_and(|c| newer(&c.anchor, !c.inclusive).next().is_some()),
            },
            overflow,
        ),
        (Direction::Newer, Some(_)) => (
            overflow,
            match &last {
                Some(last) => older(last, false).next().is_some(),
                None => cursor.is_some_and(|c| older(&c.anchor, !c.inclusive).next().is_some()),
            },
        ),
    };
    // An empty page's neighbours start at its own anchor.
    let empty_anchor = || cursor.map(|c| (c.anchor.clone(), !c.inclusive));
    let next = more_after
        .then(|| match last {
            Some(last) => Some(to_cursor(Direction::Older, false, last)),
            None => empty_anchor().map(|(a, incl)| to_cursor(Direction::Older, incl, a)),
        })
        .flatten();
    let prev = more_before
        .then(|| match first {
            Some(first) => Some(to_cursor(Direction::Newer, false, first)),
            None => empty_anchor().map(|(a, incl)| to_cursor(Direction::Newer, incl, a)),
        })
        .flatten();
    Page { items, next, prev }
}

fn bound(anchor: &Anchor, inclusive: bool) -> Bound<Anchor> {
    if inclusive {
        Bound::Included(anchor.clone())
    } else {
        Bound::Excluded(anchor.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> proto::ListOrganizationInvitesRequest {
        proto::ListOrganizationInvitesRequest {
            organization_id: "org_01h2xcejqtf2nbrexx3vqjhp41".into(),
            ..Default::default()
        }
    }

    #[test]
    fn parse_defaults_and_normalizes() {
        let query = parse(&proto::ListOrganizationInvitesRequest {
            status: vec![3, 1, 3],
            email: Some(proto::StringFilter {
                contains: "ADA".into(),
                exact: String::new(),
            }),
            ..request()
        })
        .unwrap();
        assert_eq!(query.page_size, 50);
        assert_eq!(query.page_token, None);
        assert_eq!(
            query.filter.statuses,
            vec![Status::Pending, Status::Expired]
        );
        assert_eq!(query.filter.email_contains.as_deref(), Some("ada"));
        assert_eq!(query.filter.email_exact, None);
    }

    #[test]
    fn parse_refuses_bad_fields() {
        let ts = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
        let cases = [
            (
                proto::ListOrganizationInvitesRequest {
                    status: vec![0],
                    ..request()
                },
                ("invalid_enum_value", "status"),
            ),
            (
                proto::ListOrganizationInvitesRequest {
                    status: vec![1, 99],
                    ..request()
                },
                ("invalid_enum_value", "status"),
            ),
            (
                proto::ListOrganizationInvitesRequest {
                    page_size: -1,
                    ..request()
                },
                ("invalid_field_value", "page_size"),
            ),
            (
                proto::ListOrganizationInvitesRequest {
                    page_size: 101,
                    ..request()
                },
                ("invalid_field_value", "page_size"),
            ),
            (
                proto::ListOrganizationInvitesRequest {
                    sender_id: Some("inv_01h2xcejqtf2nbrexx3vqjhp41".into()),
                    ..request()
                },
                ("invalid_id_format", "sender_id"),
            ),
            (
                proto::ListOrganizationInvitesRequest {
                    created: Some(proto::TimeRange {
                        after: ts(20),
                        before: ts(10),
                    }),
                    ..request()
                },
                ("invalid_field_value", "created"),
            ),
            (
                proto::ListOrganizationInvitesRequest {
                    created: Some(proto::TimeRange {
                        after: Some(prost_types::Timestamp {
                            seconds: 0,
                            nanos: -5,
                        }),
                        before: None,
                    }),
                    ..request()
                },
                ("invalid_field_value", "created.after"),
            ),
        ];
        for (req, (reason, param)) in cases {
            let error = parse(&req).unwrap_err();
            assert_eq!(
                (error.reason, error.param),
                (reason, Some(param)),
                "{req:?}"
            );
        }
        let equal_bounds = proto::ListOrganizationInvitesRequest {
            page_size: 100,
            created: Some(proto::TimeRange {
                after: ts(10),
                before: ts(10),
            }),
            ..request()
        };
        assert_eq!(parse(&equal_bounds).unwrap().page_size, 100);
    }
}
