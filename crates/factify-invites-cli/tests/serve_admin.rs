//! `factify-invites serve` as a process, driven only by what a test in
//! another language would use: its first stdout line (the address), its
//! admin surface over plain HTTP/1.1, and its flags: `--start-time`,
//! `--clock-offset`, `--cors-origin`, and a reset that a `--data` file
//! keeps across a restart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_factify-invites");
const ORG: &str = "org_0000000000000000000000acme";
const ADMIN_KEY: &str = "ffy_emulatoradmin000000000000000";

/// A running `serve`, killed on drop.
struct Serve {
    child: Child,
    addr: String,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        // Keep draining so the pipe never fills.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Serve { child, addr }
    }

    /// One HTTP/1.1 request; the status and the JSON body.
    fn http(&self, method: &str, path: &str, headers: &[&str], body: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
            self.addr,
            body.len()
        );
        for header in headers {
            request.push_str(header);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{answer}"));
        let body = serde_json::from_str(body).unwrap_or(Value::Null);
        (status, body)
    }

    fn admin(&self, method: &str, path: &str, body: &str) -> Value {
        let (status, json) = self.http(method, path, &["content-type: application/json"], body);
        assert_eq!(status, 200, "{method} {path}: {json}");
        json
    }

    fn create(&self, email: &str) -> u16 {
        let body = format!(r#"{{"organizationId":"{ORG}","email":"{email}"}}"#);
        let auth = format!("authorization: Bearer {ADMIN_KEY}");
        let (status, _) = self.http(
            "POST",
            "/factify.api.v1beta.OrganizationInviteService/CreateOrganizationInvite",
            &["content-type: application/json", &auth],
            &body,
        );
        status
    }

    fn emails(&self) -> usize {
        self.admin("GET", "/admin/v1/emails", "")["emails"]
            .as_array()
            .unwrap()
            .len()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-admin-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn start_time_sets_the_clock_and_a_reset_survives_a_restart_with_data() {
    let dir = scratch("reset");
    let data = dir.join("data.json");
    let data = data.to_str().unwrap();
    let serve = Serve::start(&["--start-time", "2030-01-01T00:00:00Z", "--data", data]);
    let clock = serve.admin("GET", "/admin/v1/clock", "");
    let now = clock["now"].as_str().unwrap();
    assert!(now.starts_with("2030-01-01T00:0"), "{clock}");
    assert_eq!(serve.create("ada@example.com"), 200);
    assert_eq!(serve.emails(), 1);
    serve.admin("POST", "/admin/v1/clock", r#"{"advanceSeconds": 86400}"#);

    let reset = serve.admin("POST", "/admin/v1/reset", "");
    assert!(
        reset["now"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-01T00:0"),
        "{reset}"
    );
    assert_eq!(serve.emails(), 0);
    drop(serve);

    // The data file holds the reset store: no invitation after a restart.
    let serve = Serve::start(&["--data", data]);
    let auth = format!("authorization: Bearer {ADMIN_KEY}");
    let (status, listed) = serve.http(
        "POST",
        "/factify.api.v1beta.OrganizationInviteService/ListOrganizationInvites",
        &["content-type: application/json", &auth],
        &format!(r#"{{"organizationId":"{ORG}"}}"#),
    );
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.get("items"), None, "{listed}");
}

#[test]
fn clock_offset_moves_the_start_and_cors_origins_are_honoured() {
    let serve = Serve::start(&[
        "--clock-offset",
        "-2d",
        "--cors-origin",
        "http://localhost:5173",
    ]);
    let shift = serve.admin("GET", "/admin/v1/clock", "")["shiftSeconds"]
        .as_i64()
        .unwrap();
    assert!(
        (-2 * 86_400 - 5..=-2 * 86_400 + 5).contains(&shift),
        "{shift}"
    );
    let mut stream = TcpStream::connect(&serve.addr).unwrap();
    write!(
        stream,
        "OPTIONS /admin/v1/emails HTTP/1.1\r\nhost: {}\r\norigin: http://localhost:5173\r\n\
         access-control-request-method: GET\r\nconnection: close\r\n\r\n",
        serve.addr
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("access-control-allow-origin: http://localhost:5173"),
        "{answer}"
    );
}

#[test]
fn bad_clock_and_cors_flags_are_refused_naming_the_flag() {
    for (args, names) in [
        (["--clock-offset", "8x"], "--clock-offset"),
        (["--start-time", "tomorrow"], "--start-time"),
        (["--cors-origin", "localhost:5173"], "--cors-origin"),
    ] {
        let output = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(names), "{args:?}: {stderr}");
    }
}
