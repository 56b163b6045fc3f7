//! The Connect protocol's unary wire format, shared by the client transport
//! and the reference server: the two codecs (binary protobuf and the
//! canonical protobuf JSON mapping), gzip, the `Connect-Timeout-Ms` header
//! and the JSON error body.
//!
//! The JSON mapping is the hand-written one of [`crate::json`], straight to
//! and from the prost types. Status codes travel here by their Connect
//! names (`not_found`): each side maps them to its own code type.

use std::io::{Read, Write};
use std::time::Duration;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

use crate::enum_names::EnumNames;
use crate::json::JsonMessage;

/// The service's full name, the first segment of every Connect path.
pub const SERVICE: &str = "factify.api.v1beta.OrganizationInviteService";
/// The header that marks a Connect request, and its only value.
pub const PROTOCOL_VERSION_HEADER: &str = "connect-protocol-version";
/// The only version of the Connect protocol there is.
pub const PROTOCOL_VERSION: &str = "1";
/// The header carrying the client's deadline, in milliseconds.
pub const TIMEOUT_HEADER: &str = "connect-timeout-ms";
/// The media type of Connect error bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// Where `google.protobuf.Any` type names live.
const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

/// How a unary message travels: `application/proto` or `application/json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Binary protobuf.
    Proto,
    /// The canonical protobuf JSON mapping.
    Json,
}

impl Codec {
    /// The `Content-Type` of a unary request or success response.
    pub fn content_type(self) -> &'static str {
        match self {
            Codec::Proto => "application/proto",
            Codec::Json => JSON_CONTENT_TYPE,
        }
    }

    /// The codec of a `Content-Type` value, ignoring parameters such as
    /// `charset=utf-8` and letter case.
    pub fn from_content_type(value: &str) -> Option<Codec> {
        let media = value.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("application/proto") {
            Some(Codec::Proto)
        } else if media.eq_ignore_ascii_case(JSON_CONTENT_TYPE) {
            Some(Codec::Json)
        } else {
            None
        }
    }
}

/// Encodes one message with `codec`.
pub fn encode<M: prost::Message + JsonMessage>(
    codec: Codec,
    message: &M,
) -> Result<Vec<u8>, String> {
    match codec {
        Codec::Proto => Ok(message.encode_to_vec()),
        Codec::Json => {
            let mut out = Vec::with_capacity(message.encoded_len() * 2 + 16);
            message.write_json(&mut out)?;
            Ok(out)
        }
    }
}

/// Decodes one message with `codec`. JSON requests (the server's side) are
/// read strictly: a field or enum name the contract does not know is an
/// error, as a client's typo should not pass silently. JSON responses (the
/// client's side) skip unknown fields and keep unknown enum names, as a
/// newer server may send both.
pub fn decode<M: prost::Message + Default + JsonMessage>(
    codec: Codec,
    bytes: &[u8],
) -> Result<M, String> {
    match codec {
        Codec::Proto => M::decode(bytes).map_err(|err| format!("undecodable protobuf: {err}")),
        Codec::Json => M::read_json(bytes, &mut EnumNames::default()),
    }
}

/// Compresses `bytes` with gzip.
pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 64),
        flate2::Compression::fast(),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Why a gzip body could not be read.
#[derive(Debug)]
pub enum GunzipError {
    /// It inflates past the limit (perhaps a compression bomb).
    TooLarge,
    /// It is not valid gzip.
    Corrupt(std::io::Error),
}

/// Decompresses a gzip body, refusing to inflate past `limit` bytes.
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, GunzipError> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(GunzipError::Corrupt)?;
    if out.len() > limit {
        return Err(GunzipError::TooLarge);
    }
    Ok(out)
}

/// Whether an `Accept-Encoding` value lists gzip (with a non-zero weight).
pub fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|param| {
            let param = param.trim();
            param == "q=0" || param == "q=0.0" || param == "q=0.00" || param == "q=0.000"
        });
        name.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// The `Connect-Timeout-Ms` value for `timeout`: whole milliseconds,
/// rounded up (never 0, which would mean "already expired"), at most the
/// ten digits the protocol allows.
pub fn timeout_header_value(timeout: Duration) -> String {
    let millis = timeout
        .as_nanos()
        .div_ceil(1_000_000)
        .clamp(1, 9_999_999_999);
    millis.to_string()
}

/// The deadline a `Connect-Timeout-Ms` value asks for; `None` if it is not
/// 1 to 10 ASCII digits.
pub fn parse_timeout_ms(value: &str) -> Option<Duration> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().map(Duration::from_millis)
}

/// A Connect error body, read.
#[derive(Debug)]
pub struct ErrorBody {
    /// The code's Connect name (`not_found`), as sent: the reader decides
    /// what a name it does not know means.
    pub code: String,
    /// The message; empty when absent.
    pub message: String,
    /// The details, as `Any`s with `type.googleapis.com/` type URLs;
    /// entries that are malformed are skipped.
    pub details: Vec<prost_types::Any>,
}

/// Base64 as Connect writes detail values (standard alphabet, usually
/// unpadded), read with or without padding.
const BASE64_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
/// The URL-safe alphabet, which some servers use; read the same way.
const BASE64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Reads a Connect error body: a JSON object with a string `code`.
/// Anything else (HTML, an empty body, JSON of another shape) is `None`.
pub fn parse_error_body(bytes: &[u8]) -> Option<ErrorBody> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let object = value.as_object()?;
    let code = object.get("code")?.as_str()?;
    let message = object
        .get("message")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let details = object
        .get("details")
        .and_then(serde_json::Value::as_array)
        .map(|details| details.iter().filter_map(parse_detail).collect())
        .unwrap_or_default();
    Some(ErrorBody {
        code: code.to_owned(),
        message,
        details,
    })
}

/// One entry of `details`: `{"type": "...", "value": "<base64>"}`.
fn parse_detail(detail: &serde_json::Value) -> Option<prost_types::Any> {
    let type_name = detail.get("type")?.as_str()?;
    let value = detail.get("value")?.as_str()?;
    let value = BASE64_STANDARD
        .decode(value)
        .or_else(|_| BASE64_URL_SAFE.decode(value))
        .ok()?;
    let type_url = if type_name.contains('/') {
        type_name.to_owned()
    } else {
        format!("{TYPE_URL_PREFIX}{type_name}")
    };
    Some(prost_types::Any { type_url, value })
}

/// A Connect error body: the code's name, the message, and each detail as
/// its type name, unpadded base64 value and the `debug` rendering `debug`
/// gives for it (a server renders the contract's own types in JSON, for
/// people reading the body with curl).
pub fn error_body(
    code: &str,
    message: &str,
    details: &[prost_types::Any],
    debug: impl Fn(&prost_types::Any) -> Option<serde_json::Value>,
) -> Vec<u8> {
    let details: Vec<serde_json::Value> = details
        .iter()
        .map(|any| {
            let type_name = any
                .type_url
                .strip_prefix(TYPE_URL_PREFIX)
                .unwrap_or(&any.type_url);
            let mut detail = serde_json::json!({
                "type": type_name,
                "value": BASE64_STANDARD.encode(&any.value),
            });
            if let (Some(debug), Some(object)) = (debug(any), detail.as_object_mut()) {
                object.insert("debug".to_owned(), debug);
            }
            detail
        })
        .collect();
    let mut body = serde_json::json!({ "code": code, "message": message });
    if let (false, Some(object)) = (details.is_empty(), body.as_object_mut()) {
        object.insert("details".to_owned(), serde_json::Value::Array(details));
    }
    // Serializing a `Value` of strings and arrays cannot fail; an empty
    // body would still map to the right code through the HTTP status.
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate as proto;
    use prost::Message;

    fn sample_invite() -> proto::OrganizationInvite {
        proto::OrganizationInvite {
            id: "inv_01h2xcejqtf2nbrexx3vqjhp42".into(),
            organization_id: "org_01h2xcejqtf2nbrexx3vqjhp41".into(),
            email: "ada@example.com".into(),
            status: proto::OrganizationInviteStatus::Pending as i32,
            created_at: Some(prost_types::Timestamp {
                seconds: 1_750_000_000,
                nanos: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn json_is_the_canonical_mapping_and_round_trips() {
        let response = proto::CreateOrganizationInviteResponse {
            invite: Some(sample_invite()),
        };
        let json = encode(Codec::Json, &response).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let invite = &value["invite"];
        assert_eq!(invite["organizationId"], "org_01h2xcejqtf2nbrexx3vqjhp41");
        assert_eq!(invite["status"], "ORGANIZATION_INVITE_STATUS_PENDING");
        assert_eq!(invite["createdAt"], "2025-06-15T15:06:40Z");
        assert!(invite.get("organization_id").is_none());
        assert!(invite.get("message").is_none(), "unset fields are left out");

        let back: proto::CreateOrganizationInviteResponse = decode(Codec::Json, &json).unwrap();
        assert_eq!(back, response);
    }

    #[test]
    fn unknown_json_fields_are_refused_in_requests_and_skipped_in_responses() {
        let json = br#"{"organizationId":"org_x","email":"a@b.c","surprise":1}"#;
        let request: Result<proto::CreateOrganizationInviteRequest, _> = decode(Codec::Json, json);
        assert!(request.unwrap_err().contains("surprise"));
        let json = br#"{"invite":{"email":"a@b.c","surprise":{"x":[1]}},"more":null}"#;
        let response: proto::CreateOrganizationInviteResponse = decode(Codec::Json, json).unwrap();
        assert_eq!(response.invite.unwrap().email, "a@b.c");
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        for bytes in [
            &b"\xff\xfe"[..],
            b"{",
            b"[1,2]",
            b"{\"invite\": 7}",
            b"null",
            b"{\"invite\": {\"createdAt\": \"10000-01-01T00:00:00Z\"}}",
            b"{\"invite\": {\"status\": 1e99}}",
            b"{\"invite\": {} } trailing",
        ] {
            let json: Result<proto::CreateOrganizationInviteResponse, _> =
                decode(Codec::Json, bytes);
            assert!(json.is_err(), "{:?}", String::from_utf8_lossy(bytes));
            assert!(parse_error_body(bytes).is_none());
        }
        assert!(matches!(
            gunzip(b"not gzip at all", 100),
            Err(GunzipError::Corrupt(_))
        ));
    }

    #[test]
    fn gzip_round_trips_and_bombs_are_refused() {
        let data = vec![b'a'; 100_000];
        let packed = gzip(&data).unwrap();
        assert!(packed.len() < 1_000);
        assert_eq!(gunzip(&packed, 100_000).unwrap(), data);
        assert!(matches!(
            gunzip(&packed, 99_999),
            Err(GunzipError::TooLarge)
        ));
    }

    #[test]
    fn error_bodies_round_trip_with_details() {
        let detail = prost_types::Any {
            type_url: "type.googleapis.com/factify.api.v1beta.ErrorDetail".into(),
            value: proto::ErrorDetail {
                reason: "resource_not_found".into(),
                request_id: "req_1".into(),
                param: String::new(),
            }
            .encode_to_vec(),
        };
        let body = error_body(
            "not_found",
            "no such invite",
            std::slice::from_ref(&detail),
            |any| Some(serde_json::json!({ "reason": any.type_url.len() })),
        );
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "not_found");
        assert_eq!(json["details"][0]["type"], "factify.api.v1beta.ErrorDetail");
        assert_eq!(json["details"][0]["debug"]["reason"], detail.type_url.len());
        assert!(!json["details"][0]["value"].as_str().unwrap().ends_with('='));

        let parsed = parse_error_body(&body).unwrap();
        assert_eq!(parsed.code, "not_found");
        assert_eq!(parsed.message, "no such invite");
        assert_eq!(parsed.details, vec![detail]);
    }

    #[test]
    fn error_bodies_accept_padding_and_skip_bad_details() {
        let body = br#"{"code":"resource_exhausted","details":[
            {"type":"google.rpc.RetryInfo","value":"CgIIAw=="},
            {"type":"x.Y","value":"!!!"},
            {"value":"AA"},
            7
        ]}"#;
        let parsed = parse_error_body(body).unwrap();
        assert_eq!(parsed.code, "resource_exhausted");
        assert_eq!(parsed.message, "");
        assert_eq!(parsed.details.len(), 1);
        assert_eq!(
            parsed.details[0].type_url,
            "type.googleapis.com/google.rpc.RetryInfo"
        );
        let unknown = parse_error_body(br#"{"code":"teapot"}"#).unwrap();
        assert_eq!(unknown.code, "teapot");
    }

    #[test]
    fn timeouts_round_up_and_parse_strictly() {
        assert_eq!(timeout_header_value(Duration::from_micros(1)), "1");
        assert_eq!(timeout_header_value(Duration::from_micros(1500)), "2");
        assert_eq!(timeout_header_value(Duration::from_secs(30)), "30000");
        assert_eq!(timeout_header_value(Duration::MAX), "9999999999");
        assert_eq!(parse_timeout_ms("250"), Some(Duration::from_millis(250)));
        for bad in ["", "-1", "1.5", "12345678901", "1e3"] {
            assert_eq!(parse_timeout_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_types_and_encodings() {
        assert_eq!(
            Codec::from_content_type("Application/JSON; charset=utf-8"),
            Some(Codec::Json)
        );
        assert_eq!(
            Codec::from_content_type("application/proto"),
            Some(Codec::Proto)
        );
        assert_eq!(Codec::from_content_type("application/grpc"), None);
        assert!(accepts_gzip("br, gzip;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0, identity"));
        assert!(!accepts_gzip("identity"));
    }
}
