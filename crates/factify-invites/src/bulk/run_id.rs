//! Run IDs, and the idempotency key of each row derived from its run: the
//! rule that lets a bulk run be resumed (by this or another version of the
//! crate, or another program) without inviting anyone twice.

use sha2::{Digest, Sha256};

use crate::client::request::check::check_len;
use crate::error::{Error, Result};

/// The most bytes a run ID may have, so that every derived key stays
/// within the SPEC's 255 bytes.
pub const MAX_RUN_ID_BYTES: usize = 64;

/// The idempotency key of a row of run `run_id`.
///
/// It is `bulk-<run_id>-<h>`, where `<h>` is the first 32 hex digits (128
/// bits) of the SHA-256 of the run ID, the email exactly as given and the
/// message (an absent message and an empty one are the same), each preceded
/// by its length in bytes as a big-endian `u64`. The derivation is part of
/// this crate's contract: a later version derives the same keys, so a run
/// can be resumed by another version of the crate (or by another program
/// that follows this rule).
///
/// ```
/// use factify_invites::bulk::idempotency_key;
///
/// let key = idempotency_key("team-2024", "ada@example.com", Some("Hi"));
/// assert!(key.starts_with("bulk-team-2024-"));
/// assert_eq!(key, idempotency_key("team-2024", "ada@example.com", Some("Hi")));
/// assert_ne!(key, idempotency_key("team-2025", "ada@example.com", Some("Hi")));
/// assert_eq!(
///     idempotency_key("r", "ada@example.com", None),
///     idempotency_key("r", "ada@example.com", Some("")),
/// );
/// ```
pub fn idempotency_key(run_id: &str, email: &str, message: Option<&str>) -> String {
    let mut hash = Sha256::new();
    for part in [run_id, email, message.unwrap_or_default()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let hex: String = digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("bulk-{run_id}-{hex}")
}

/// Checks a run ID: 1 to 64 ASCII letters, digits, `-`, `_`, `.` or `:`.
pub fn check_run_id(run_id: &str) -> Result<()> {
    if run_id.is_empty() {
        return Err(Error::invalid_request("run_id", "must not be empty"));
    }
    check_len(run_id, MAX_RUN_ID_BYTES, "run_id")?;
    if !run_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return Err(Error::invalid_request(
            "run_id",
            "may hold only ASCII letters, digits, '-', '_', '.' and ':'",
        ));
    }
    Ok(())
}

/// A fresh run ID: `run-` and 26 random lowercase hex digits.
pub(super) fn generated_run_id() -> String {
    format!("run-{:026x}", fastrand::u128(..) >> 24)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits;

    #[test]
    fn keys_depend_on_run_email_and_message_only() {
        let key = idempotency_key("run-1", "ada@example.com", Some("hello"));
        assert!(key.starts_with("bulk-run-1-"), "{key}");
        assert_eq!(key.len(), "bulk-run-1-".len() + 32);
        assert_eq!(
            key,
            idempotency_key("run-1", "ada@example.com", Some("hello"))
        );
        for other in [
            idempotency_key("run-2", "ada@example.com", Some("hello")),
            idempotency_key("run-1", "Ada@example.com", Some("hello")),
            idempotency_key("run-1", "ada@example.com", Some("hello!")),
            idempotency_key("run-1", "ada@example.com", None),
            // Length prefixes keep the parts apart.
            idempotency_key("run-1", "ada@example.comhello", None),
        ] {
            assert_ne!(key, other);
        }
        // The derivation is a contract: pin one value (computed apart, with
        // Python's hashlib, from the rule in the docs).
        assert_eq!(
            idempotency_key("r", "a@b.co", None),
            "bulk-r-f9368d9b333ea32b60a6501c3e46569b"
        );
        assert_eq!(
            idempotency_key("r", "a@b.co", None),
            idempotency_key("r", "a@b.co", Some(""))
        );
        let longest = idempotency_key(&"r".repeat(MAX_RUN_ID_BYTES), "a@b.co", None);
        assert!(longest.len() <= limits::MAX_IDEMPOTENCY_KEY_BYTES);
    }

    #[test]
    fn run_ids_are_checked() {
        for good in ["a", "run-2024.06_01:x", &"r".repeat(64)] {
            assert!(check_run_id(good).is_ok(), "{good}");
        }
        for bad in ["", "has space", "ünïcode", &"r".repeat(65), "a/b"] {
            let err = check_run_id(bad).unwrap_err();
            assert_eq!(err.param(), Some("run_id"), "{bad}");
        }
        let generated = generated_run_id();
        assert!(check_run_id(&generated).is_ok(), "{generated}");
        assert_ne!(generated, generated_run_id());
    }
}
