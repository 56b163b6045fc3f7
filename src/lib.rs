//! tmp
pub mod auth;
pub mod client;
pub mod error;
pub mod ids;
pub mod limits;
pub mod pagination;
pub mod proto;
mod transport;
pub mod types;

pub use auth::ApiKey;
pub use client::{AcceptInvite, Client, ClientBuilder, CreateInvite, InviteAction};
pub use error::{Code, Error, ErrorDetail, Reason, Result, Status};
pub use ids::{IdError, IntoId, InviteId, OrganizationId, UserId};
pub use pagination::{InviteStream, ListInvites, PageStream};
pub use types::{Acceptance, Invite, InviteStatus, Organization, Page, User, UserType};
