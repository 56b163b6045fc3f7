//! The seed file (JSON or TOML) and the default seed with fixed IDs and
//! keys: what `serve` puts in a new store before the first call.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use factify_invites::{OrganizationId, UserId};
use factify_invites_server::{Permissions, ReferenceServer};
use serde::Deserialize;

use crate::failure::Failure;

/// The seed file's format (JSON, or TOML for a `.toml` file): organizations,
/// accounts and API keys. IDs and keys are optional (generated when absent);
/// give them to hard-code them in other programs' test settings.
///
/// ```toml
/// [[organizations]]
/// id = "org_0000000000000000000000acme"   # optional
/// name = "Acme"
///
/// [[accounts]]
/// id = "user_00000000000000000000000ada"  # optional; svc_... for a service account
/// name = "Ada Admin"
/// email = "admin@acme.example"
/// member_of = ["Acme"]                    # organization names or IDs
///
/// [[api_keys]]
/// account = "admin@acme.example"          # an account's email or ID
/// key = "ffy_emulatoradmin000000000000000" # optional
/// permissions = ["invite_members", "manage_members"]  # none: accept only
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Seed {
    #[serde(default)]
    organizations: Vec<SeedOrganization>,
    #[serde(default)]
    accounts: Vec<SeedAccount>,
    #[serde(default)]
    api_keys: Vec<SeedApiKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOrganization {
    id: Option<String>,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAccount {
    id: Option<String>,
    name: String,
    email: String,
    #[serde(default)]
    service_account: bool,
    #[serde(default)]
    member_of: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedApiKey {
    account: String,
    key: Option<String>,
    #[serde(default)]
    permissions: Vec<SeedPermission>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SeedPermission {
    InviteMembers,
    ManageMembers,
}

/// The default seed: fixed IDs and keys, so that other programs' tests can
/// hard-code them.
const DEFAULT_SEED: &str = r#"
[[organizations]]
id = "org_0000000000000000000000acme"
name = "Acme"

[[accounts]]
id = "user_00000000000000000000000ada"
name = "Ada Admin"
email = "admin@acme.example"
member_of = ["Acme"]

[[accounts]]
id = "user_000000000000000000000grace"
name = "Grace Hopper"
email = "grace@example.com"

[[api_keys]]
account = "admin@acme.example"
key = "ffy_emulatoradmin000000000000000"
permissions = ["invite_members", "manage_members"]

[[api_keys]]
account = "grace@example.com"
key = "ffy_emulatorgrace000000000000000"
"#;

impl Seed {
    pub(super) fn load(path: &Path) -> Result<Seed, Failure> {
        let text = fs::read_to_string(path)
            .map_err(|err| Failure::usage(format!("could not read {}: {err}", path.display())))?;
        let is_toml = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
        if is_toml {
            toml::from_str(&text).map_err(|err| {
                Failure::usage(format!("{} is not a valid seed: {err}", path.display()))
            })
        } else {
            serde_json::from_str(&text).map_err(|err| {
                Failure::usage(format!("{} is not a valid seed: {err}", path.display()))
            })
        }
    }

    pub(super) fn default_seed() -> Result<Seed, Failure> {
        toml::from_str(DEFAULT_SEED).map_err(|err| Failure::usage(format!("default seed: {err}")))
    }

    /// Seeds `server`; every reference is checked, and the first bad one
    /// is reported.
    pub(super) fn apply(&self, server: &ReferenceServer) -> Result<(), Failure> {
        let mut organizations: HashMap<String, OrganizationId> = HashMap::new();
        let mut names = HashSet::new();
        for org in &self.organizations {
            // Members refer to organizations by name: two of one name would
            // make `member_of` ambiguous.
            if !names.insert(org.name.as_str()) {
                return Err(Failure::usage(format!(
                    "seed: two organizations are named {:?}; names must be unique, as \
                     `member_of` refers to organizations by name",
                    org.name
                )));
            }
            let id = match &org.id {
                Some(id) => {
                    let id = OrganizationId::parse(id).map_err(|err| {
                        Failure::usage(format!("seed: organization {id:?}: {err}"))
                    })?;
                    server.add_organization_with_id(&id, &org.name);
                    id
                }
                None => server.add_organization(&org.name),
            };
            organizations.insert(org.name.clone(), id.clone());
            organizations.insert(id.to_string(), id);
        }
        let mut accounts: HashMap<String, UserId> = HashMap::new();
        for account in &self.accounts {
            if !factify_invites::limits::is_email(&account.email) {
                return Err(Failure::usage(format!(
                    "seed: account {:?}: {:?} is not an email address",
                    account.name, account.email
                )));
            }
            let id = match &account.id {
                Some(id) => {
                    let id = UserId::parse(id)
                        .map_err(|err| Failure::usage(format!("seed: account {id:?}: {err}")))?;
                    server.add_account_with_id(&id, &account.name, &account.email);
                    id
                }
                None if account.service_account => {
                    server.add_service_account(&account.name, &account.email)
                }
                None => server.add_user(&account.name, &account.email),
            };
            for org in &account.member_of {
                let org = organizations.get(org).ok_or_else(|| {
                    Failure::usage(format!(
                        "seed: account {:?} is a member of unknown organization {org:?}",
                        account.email
                    ))
                })?;
                server.add_member(org, &id);
            }
            accounts.insert(account.email.to_lowercase(), id.clone());
            accounts.insert(id.to_string(), id);
        }
        for api_key in &self.api_keys {
            let account = accounts
                .get(&api_key.account.to_lowercase())
                .or_else(|| accounts.get(&api_key.account))
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "seed: an API key of unknown account {:?}",
                        api_key.account
                    ))
                })?;
            let mut permissions = Permissions::NONE;
            for permission in &api_key.permissions {
                match permission {
                    SeedPermission::InviteMembers => permissions.invite_members = true,
                    SeedPermission::ManageMembers => permissions.manage_members = true,
                }
            }
            match &api_key.key {
                Some(key) => {
                    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                        return Err(Failure::usage(format!(
                            "seed: the API key of {:?} must be visible ASCII without spaces",
                            api_key.account
                        )));
                    }
                    server.add_api_key_with(account, key, permissions);
                }
                None => {
                    server.add_api_key(account, permissions);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_seed_has_its_documented_ids_and_keys() {
        let server = ReferenceServer::new();
        Seed::default_seed().unwrap().apply(&server).unwrap();
        let snapshot = server.snapshot();
        assert_eq!(
            snapshot.organizations()[0].id,
            "org_0000000000000000000000acme"
        );
        assert_eq!(
            snapshot.organizations()[0].members,
            ["user_00000000000000000000000ada"]
        );
        let keys: Vec<_> = snapshot.api_keys().iter().map(|k| k.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ffy_emulatoradmin000000000000000",
                "ffy_emulatorgrace000000000000000"
            ]
        );
    }
}
