//! The SQLite store: every change survives a reopen, a second opener is
//! refused, and files it does not understand are refused untouched.

use std::path::PathBuf;

use chrono::{TimeDelta, TimeZone, Utc};

use super::*;
use crate::proto;
use crate::{Fixture, Permissions, ReferenceServer};

/// A fresh directory of its own for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fi-db-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn caller(server: &ReferenceServer, key: &str) -> super::super::Caller {
    server
        .lock()
        .authenticate(Some(&format!("Bearer {key}")))
        .unwrap()
}

fn create(
    server: &ReferenceServer,
    fixture: &Fixture,
    email: &str,
    idempotency_key: Option<&str>,
) -> proto::OrganizationInvite {
    let caller = caller(server, &fixture.admin_key);
    let now = server.now();
    server
        .lock()
        .create(
            now,
            &caller,
            &proto::CreateOrganizationInviteRequest {
                organization_id: fixture.organization.to_string(),
                email: email.into(),
                idempotency_key: idempotency_key.map(Into::into),
                ..Default::default()
            },
        )
        .unwrap()
}

#[test]
fn every_change_survives_a_reopen() {
    let dir = scratch("reopen");
    let path = dir.join("data.db");
    let server = ReferenceServer::new();
    let database = Database::open(&path).unwrap();
    assert!(database.is_empty());
    let fixture = server.fixture();
    let second = server.add_organization("Second");
    server.attach_database(database).unwrap();

    let ada = create(&server, &fixture, "ada@example.com", Some("k1"));
    let bob = create(&server, &fixture, "bob@example.com", None);
    let org = fixture.organization.to_string();
    let now = server.now();
    let admin = caller(&server, &fixture.admin_key);
    server
        .lock()
        .resend(
            now,
            &admin,
            &proto::ResendOrganizationInviteRequest {
                organization_id: org.clone(),
                invite_id: ada.id.clone(),
            },
        )
        .unwrap();
    server
        .lock()
        .revoke(
            now,
            &admin,
            &proto::RevokeOrganizationInviteRequest {
                organization_id: org.clone(),
                invite_id: bob.id.clone(),
            },
        )
        .unwrap();
    // Seeded after attaching: written with the next change.
    let carol = server.add_user("Carol", "carol@example.com");
    let carol_key = server.add_api_key(&carol, Permissions::NONE);
    create(&server, &fixture, "carol@example.com", None);
    let token = server.last_email_to("carol@example.com").unwrap().token;
    let carol = caller(&server, &carol_key);
    server
        .lock()
        .accept(
            now,
            &carol,
            &proto::AcceptOrganizationInviteRequest {
                organization_id: org,
                token,
            },
        )
        .unwrap();
    let before = server.snapshot();
    assert_eq!(before.organizations()[1].id, second.to_string());
    server.detach_database();

    let reopened = Database::open(&path).unwrap();
    assert!(!reopened.is_empty());
    let again = ReferenceServer::new();
    again.attach_database(reopened).unwrap();
    assert_eq!(again.snapshot(), before);
    // The idempotency key came back too: a repeat sends no second email.
    let emails = again.sent_emails().len();
    let repeat = create(&again, &fixture, "ada@example.com", Some("k1"));
    assert_eq!(repeat.id, ada.id);
    assert_eq!(again.sent_emails().len(), emails);
    again.detach_database();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_opener_is_refused_until_the_first_closes() {
    let dir = scratch("lock");
    let path = dir.join("data.db");
    let server = ReferenceServer::new();
    server.fixture();
    server
        .attach_database(Database::open(&path).unwrap())
        .unwrap();
    let err = Database::open(&path).unwrap_err();
    assert!(err.is_locked(), "{err}");
    assert!(err.to_string().contains("another process"), "{err}");
    server.detach_database();
    assert!(!Database::open(&path).unwrap().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_json_data_file_or_other_file_is_refused_untouched() {
    let dir = scratch("json");
    let path = dir.join("data.json");
    let json = br#"  {"version": 1, "organizations": []}"#;
    std::fs::write(&path, json).unwrap();
    let err = Database::open(&path).unwrap_err();
    assert!(err.is_json_data_file(), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), json);

    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let err = Database::open(&text).unwrap_err();
    assert!(matches!(err, DatabaseError::NotADatabase { .. }), "{err}");
    assert_eq!(std::fs::read(&text).unwrap(), b"hello");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_column_or_schema_version_is_refused_not_dropped() {
    let dir = scratch("schema");
    let path = dir.join("data.db");
    let server = ReferenceServer::new();
    server.fixture();
    server
        .attach_database(Database::open(&path).unwrap())
        .unwrap();
    server.detach_database();

    let other = Connection::open(&path).unwrap();
    other
        .execute_batch("ALTER TABLE invites ADD COLUMN priority INTEGER")
        .unwrap();
    drop(other);
    let err = Database::open(&path).unwrap_err();
    assert!(matches!(err, DatabaseError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("priority"), "{err}");

    let other = Connection::open(&path).unwrap();
    other
        .execute_batch(
            "ALTER TABLE invites DROP COLUMN priority;
             UPDATE meta SET value = '2' WHERE key = 'schema_version'",
        )
        .unwrap();
    drop(other);
    let err = Database::open(&path).unwrap_err();
    assert!(err.to_string().contains("schema version 2"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_restore_while_attached_replaces_what_is_stored() {
    let dir = scratch("restore");
    let path = dir.join("data.db");
    let source = ReferenceServer::new();
    let fixture = source.fixture();
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    for i in 0..3 {
        source.seed_invite(
            &fixture.organization,
            &format!("seed{i}@example.com"),
            &fixture.admin,
            at + TimeDelta::seconds(i),
        );
    }
    let server = ReferenceServer::new();
    server.fixture();
    server
        .attach_database(Database::open(&path).unwrap())
        .unwrap();
    server.restore(source.snapshot()).unwrap();
    server.detach_database();

    let again = ReferenceServer::new();
    again
        .attach_database(Database::open(&path).unwrap())
        .unwrap();
    assert_eq!(again.snapshot(), source.snapshot());
    again.detach_database();
    std::fs::remove_dir_all(&dir).unwrap();
}
