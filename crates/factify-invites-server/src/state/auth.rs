//! Authentication (the `authorization` header to a [`Caller`]) and the
//! permission each method needs.

use super::model::{Caller, State};
use crate::error::ApiError;
use crate::types::Method;

impl State {
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

    pub(super) fn require(&self, caller: &Caller, method: Method) -> Result<(), ApiError> {
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
}
