//! One request builder per method of the service, each in its own module
//! with the [`Client`](crate::Client) method that makes it, and the input
//! checks they (and the bulk builder) share in [`check`].

mod accept;
mod action;
pub(crate) mod check;
mod create;
mod list;

pub use accept::AcceptInvite;
pub use action::InviteAction;
pub use create::CreateInvite;
pub use list::ListInvites;

/// Adds `timeout` and `metadata` setters to a request builder with an
/// `options: CallOptions` field, and makes it awaitable through `send()`.
macro_rules! call_options {
    ($builder:ident => $output:ty) => {
        impl $builder {
            /// Overrides the client's default timeout for this call only.
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.options.timeout = Some(timeout);
                self
            }

            /// Overrides the client's retry policy for this call only.
            pub fn retry_policy(mut self, policy: $crate::retry::RetryPolicy) -> Self {
                self.options.retry = Some(policy);
                self
            }

            /// Adds a metadata entry (an HTTP header) to this call, such as a
            /// tracing header. An invalid key or value is reported by `send()`.
            pub fn metadata(mut self, key: &str, value: &str) -> Self {
                self.options.add_metadata(key, value);
                self
            }
        }

        impl std::future::IntoFuture for $builder {
            type Output = $crate::Result<$output>;
            type IntoFuture = $crate::client::BoxFuture<$output>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
}
pub(crate) use call_options;
