//! The responses (written by the reference server, read by the client,
//! which skips the fields of a newer server), and the messages inside them.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use serde::Deserialize;

use crate as proto;
use crate::enum_names::EnumNames;

use super::read::{known_status, known_user_type, response_enum, EnumValue};
use super::timestamp::read_timestamp;
use super::write::{status_name, user_type_name, write_message, Object, WriteFields};
use super::{parse, utf8, JsonMessage};

/// `User`, as read from a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserJson {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "type")]
    user_type: Option<EnumValue>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, alias = "given_name")]
    given_name: Option<String>,
    #[serde(default, alias = "family_name")]
    family_name: Option<String>,
    #[serde(default, alias = "profile_image_url")]
    profile_image_url: Option<String>,
}

impl UserJson {
    fn into_proto(self, names: &mut EnumNames) -> Result<proto::User, String> {
        Ok(proto::User {
            id: self.id.unwrap_or_default(),
            r#type: response_enum(self.user_type, known_user_type, names)?,
            name: self.name.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            given_name: self.given_name,
            family_name: self.family_name,
            profile_image_url: self.profile_image_url,
        })
    }
}

impl WriteFields for proto::User {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.string("id", &self.id);
        object.enumeration("type", self.r#type, user_type_name);
        object.string("name", &self.name);
        object.string("email", &self.email);
        object.optional("givenName", self.given_name.as_ref());
        object.optional("familyName", self.family_name.as_ref());
        object.optional("profileImageUrl", self.profile_image_url.as_ref());
        Ok(())
    }
}

/// `OrganizationInvite`, as read from a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteJson {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    status: Option<EnumValue>,
    #[serde(default)]
    sender: Option<UserJson>,
    #[serde(default, alias = "created_at")]
    created_at: Option<String>,
    #[serde(default, alias = "expires_at")]
    expires_at: Option<String>,
    #[serde(default, alias = "accepted_at")]
    accepted_at: Option<String>,
    #[serde(default, alias = "accepted_by")]
    accepted_by: Option<UserJson>,
    #[serde(default)]
    message: Option<String>,
}

impl InviteJson {
    fn into_proto(self, names: &mut EnumNames) -> Result<proto::OrganizationInvite, String> {
        Ok(proto::OrganizationInvite {
            id: self.id.unwrap_or_default(),
            organization_id: self.organization_id.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            status: response_enum(self.status, known_status, names)?,
            sender: self.sender.map(|user| user.into_proto(names)).transpose()?,
            created_at: read_timestamp(self.created_at, "createdAt")?,
            expires_at: read_timestamp(self.expires_at, "expiresAt")?,
            accepted_at: read_timestamp(self.accepted_at, "acceptedAt")?,
            accepted_by: self
                .accepted_by
                .map(|user| user.into_proto(names))
                .transpose()?,
            message: self.message,
        })
    }
}

impl WriteFields for proto::OrganizationInvite {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.string("id", &self.id);
        object.string("organizationId", &self.organization_id);
        object.string("email", &self.email);
        object.enumeration("status", self.status, status_name);
        object.message("sender", self.sender.as_ref())?;
        object.timestamp("createdAt", self.created_at.as_ref())?;
        object.timestamp("expiresAt", self.expires_at.as_ref())?;
        object.timestamp("acceptedAt", self.accepted_at.as_ref())?;
        object.message("acceptedBy", self.accepted_by.as_ref())?;
        object.optional("message", self.message.as_ref());
        Ok(())
    }
}

/// `Organization`, as read from a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrganizationJson {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, alias = "created_at")]
    created_at: Option<String>,
    #[serde(default, alias = "logo_image_url")]
    logo_image_url: Option<String>,
}

impl WriteFields for proto::Organization {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.string("id", &self.id);
        object.string("name", &self.name);
        object.timestamp("createdAt", self.created_at.as_ref())?;
        object.optional("logoImageUrl", self.logo_image_url.as_ref());
        Ok(())
    }
}

/// `Pagination`, as read from a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaginationJson {
    #[serde(default, alias = "has_more")]
    has_more: Option<bool>,
    #[serde(default, alias = "next_page_token")]
    next_page_token: Option<String>,
    #[serde(default, alias = "prev_page_token")]
    prev_page_token: Option<String>,
}

impl WriteFields for proto::Pagination {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.bool("hasMore", self.has_more);
        object.string("nextPageToken", &self.next_page_token);
        object.string("prevPageToken", &self.prev_page_token);
        Ok(())
    }
}

/// The responses that carry one invitation.
#[derive(Deserialize)]
struct InviteResponseJson {
    #[serde(default)]
    invite: Option<InviteJson>,
}

macro_rules! invite_response {
    ($($message:ident),*) => {$(
        impl WriteFields for proto::$message {
            fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
                object.message("invite", self.invite.as_ref())
            }
        }

        impl JsonMessage for proto::$message {
            fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
                write_message(out, self)
            }

            fn read_json(bytes: &[u8], names: &mut EnumNames) -> Result<Self, String> {
                let json: InviteResponseJson = parse(bytes)?;
                Ok(proto::$message {
                    invite: json.invite.map(|invite| invite.into_proto(names)).transpose()?,
                })
            }
        }
    )*};
}

invite_response!(
    CreateOrganizationInviteResponse,
    ResendOrganizationInviteResponse,
    RevokeOrganizationInviteResponse
);

impl WriteFields for proto::ListOrganizationInvitesResponse {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        if !self.items.is_empty() {
            object.key("items");
            object.out.push(b'[');
            for (i, item) in self.items.iter().enumerate() {
                if i > 0 {
                    object.out.push(b',');
                }
                write_message(object.out, item)?;
            }
            object.out.push(b']');
        }
        object.message("pagination", self.pagination.as_ref())
    }
}

impl JsonMessage for proto::ListOrganizationInvitesResponse {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        write_message(out, self)
    }

    fn read_json(bytes: &[u8], names: &mut EnumNames) -> Result<Self, String> {
        let mut json = serde_json::Deserializer::from_str(utf8(bytes)?);
        let response = ListResponseSeed(names)
            .deserialize(&mut json)
            .map_err(|err| format!("invalid JSON: {err}"))?;
        json.end().map_err(|err| format!("invalid JSON: {err}"))?;
        Ok(response)
    }
}

/// Reads a list response, converting each invitation to its prost type as
/// it is read: no vector of JSON shapes in between.
struct ListResponseSeed<'n>(&'n mut EnumNames);

impl<'de> DeserializeSeed<'de> for ListResponseSeed<'_> {
    type Value = proto::ListOrganizationInvitesResponse;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListResponseSeed<'_> {
    type Value = proto::ListOrganizationInvitesResponse;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ListOrganizationInvitesResponse object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let names = self.0;
        let mut response = proto::ListOrganizationInvitesResponse::default();
        let (mut items_seen, mut pagination_seen) = (false, false);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "items" if items_seen => return Err(de::Error::duplicate_field("items")),
                "items" => {
                    items_seen = true;
                    response.items = map.next_value_seed(ItemsSeed(&mut *names))?;
                }
                "pagination" if pagination_seen => {
                    return Err(de::Error::duplicate_field("pagination"))
                }
                "pagination" => {
                    pagination_seen = true;
                    let pagination: Option<PaginationJson> = map.next_value()?;
                    response.pagination = pagination.map(|pagination| proto::Pagination {
                        has_more: pagination.has_more.unwrap_or_default(),
                        next_page_token: pagination.next_page_token.unwrap_or_default(),
                        prev_page_token: pagination.prev_page_token.unwrap_or_default(),
                    });
                }
                // A newer server's field: skipped.
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(response)
    }
}

/// The `items` of a list response (`null` is none).
struct ItemsSeed<'n>(&'n mut EnumNames);

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Vec<proto::OrganizationInvite>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = Vec<proto::OrganizationInvite>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of OrganizationInvite")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<InviteJson>()? {
            items.push(item.into_proto(self.0).map_err(de::Error::custom)?);
        }
        Ok(items)
    }
}

/// `AcceptOrganizationInviteResponse`, as read.
#[derive(Deserialize)]
struct AcceptResponseJson {
    #[serde(default)]
    organization: Option<OrganizationJson>,
}

impl WriteFields for proto::AcceptOrganizationInviteResponse {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.message("organization", self.organization.as_ref())
    }
}

impl JsonMessage for proto::AcceptOrganizationInviteResponse {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        write_message(out, self)
    }

    fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
        let json: AcceptResponseJson = parse(bytes)?;
        let organization = match json.organization {
            None => None,
            Some(organization) => Some(proto::Organization {
                id: organization.id.unwrap_or_default(),
                name: organization.name.unwrap_or_default(),
                created_at: read_timestamp(organization.created_at, "createdAt")?,
                logo_image_url: organization.logo_image_url,
            }),
        };
        Ok(proto::AcceptOrganizationInviteResponse { organization })
    }
}
