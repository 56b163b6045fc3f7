//! The banner `serve` prints once it listens: the address first (programs
//! read the port from it), then the organizations, accounts and keys.

use std::collections::HashMap;

use factify_invites_server::Snapshot;

/// What the server holds, for people to start calling at once.
pub(super) fn describe_seed(snapshot: &Snapshot, invites: usize, endpoint: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let names: HashMap<&str, String> = snapshot
        .accounts()
        .iter()
        .map(|account| {
            (
                account.id.as_str(),
                format!("{} <{}>", account.name, account.email),
            )
        })
        .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    for org in snapshot.organizations() {
        lines.push(format!("organization {}  {}", org.id, org.name));
        for member in &org.members {
            lines.push(format!("  member {member}  {}", name(member)));
        }
    }
    for account in snapshot.accounts() {
        let member = snapshot
            .organizations()
            .iter()
            .any(|org| org.members.contains(&account.id));
        if !member {
            lines.push(format!(
                "account {}  {} <{}>  (no organization)",
                account.id, account.name, account.email
            ));
        }
    }
    for key in snapshot.api_keys() {
        let mut can = Vec::new();
        if key.invite_members {
            can.push("invite_members");
        }
        if key.manage_members {
            can.push("manage_members");
        }
        let can = if can.is_empty() {
            "accept only".to_owned()
        } else {
            can.join(", ")
        };
        lines.push(format!(
            "api key {}  {}  ({can})",
            key.key,
            name(&key.account)
        ));
    }
    if invites > 0 {
        lines.push(format!("{invites} invitations"));
    }
    // The first seeded organization, with a key that may list it.
    let first = snapshot.organizations().first();
    let key = first.and_then(|org| {
        snapshot
            .api_keys()
            .iter()
            .find(|key| key.invite_members && org.members.contains(&key.account))
    });
    if let (Some(org), Some(key)) = (first, key) {
        lines.push(format!(
            "try: FACTIFY_ENDPOINT={endpoint} FACTIFY_API_KEY={} FACTIFY_ORGANIZATION_ID={} factify-invites list",
            key.key, org.id
        ));
    }
    lines
}
