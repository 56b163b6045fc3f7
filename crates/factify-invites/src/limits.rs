//! The SPEC's limits on request fields, and the email check, shared by the
//! client (which refuses bad input before the network) and the reference
//! server (which answers it with `INVALID_ARGUMENT`).

/// The most bytes an invitation's message may have.
pub const MAX_MESSAGE_BYTES: usize = 2000;
/// The most bytes an idempotency key may have.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 255;
/// The most bytes an invitation token may have.
pub const MAX_TOKEN_BYTES: usize = 128;
/// The smallest page size a list request may ask for.
pub const MIN_PAGE_SIZE: i32 = 1;
/// The largest page size a list request may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
/// The page size the server uses when a request leaves it at 0.
pub const DEFAULT_PAGE_SIZE: i32 = 50;
/// The longest email address accepted (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Whether `email` looks like a deliverable address: one `@`, a local part of
/// 1 to 64 bytes, and a domain of dot-separated labels (at least two) made of
/// letters, digits and hyphens, with no whitespace or control characters.
///
/// It is deliberately a shape check, not full RFC 5322 parsing: quoted local
/// parts and IP-literal domains are refused, as Factify's sign-up form does.
pub fn is_email(email: &str) -> bool {
    if email.len() > MAX_EMAIL_BYTES {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@\"(),:;<>[\\]".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn accepts_ordinary_addresses() {
        for email in [
            "ada@example.com",
            "Ada.Lovelace+factify@mail.example.co.uk",
            "o'brien@example.ie",
            "x@a-b.io",
        ] {
            assert!(is_email(email), "{email}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for email in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada@exa mple.com",
            "ada lovelace@example.com",
            "ada@-example.com",
            "ada@example..com",
            ".ada@example.com",
            "ada..l@example.com",
            "ada@example.com\n",
        ] {
            assert!(!is_email(email), "{email:?}");
        }
        assert!(!is_email(&format!("{}@example.com", "a".repeat(65))));
        assert!(!is_email(&format!("a@{}.com", "b".repeat(250))));
    }
}
