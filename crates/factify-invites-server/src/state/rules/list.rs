//! `ListOrganizationInvites`: the checked query and keyset paging of
//! [`crate::list`], with page tokens tied to the organization and filters.

use chrono::{DateTime, Utc};

use crate::cursor::Cursor;
use crate::error::ApiError;
use crate::list;
use crate::proto;
use crate::state::model::{Caller, State};
use crate::types::Method;

impl State {
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
        let token = |cursor: Option<Cursor>| {
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
}
