//! Slack request signatures (v0): HMAC-SHA256 over `v0:<timestamp>:<raw body>`.
//!
//! slack-morphism computes the HMAC and compares it in constant time. The
//! 5-minute window (both directions) is checked here against a clock passed in,
//! so tests can use Slack's published vector from 2018.

use axum::http::HeaderMap;
use slack_morphism::signature_verifier::{SlackEventSignatureVerifier, SlackEventSignatureVerifierError};

/// Requests older or newer than this are replays or clock trouble.
pub const MAX_SKEW_SECONDS: i64 = 5 * 60;

/// Why a request was refused; every variant is a 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("request timestamp is not a number")]
    BadTimestamp,
    #[error("request timestamp is more than 5 minutes from now")]
    Stale,
    #[error("signature does not match")]
    Mismatch,
}

/// Checks the `X-Slack-Signature` of `body` at unix time `now`.
pub fn verify(
    verifier: &SlackEventSignatureVerifier,
    headers: &HeaderMap,
    body: &str,
    now: i64,
) -> Result<(), SignatureError> {
    let timestamp = header(
        headers,
        SlackEventSignatureVerifier::SLACK_SIGNED_TIMESTAMP,
        "X-Slack-Request-Timestamp",
    )?;
    let signature = header(
        headers,
        SlackEventSignatureVerifier::SLACK_SIGNED_HASH_HEADER,
        "X-Slack-Signature",
    )?;
    let sent_at: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    if (now - sent_at).abs() > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale);
    }
    match verifier.verify(signature, body, timestamp) {
        Ok(()) => Ok(()),
        // slack-morphism checks its own wall clock only after the HMAC matched;
        // the window above, with the injected clock, is the one that counts.
        Err(SlackEventSignatureVerifierError::IncorrectOrExpiredTimestampError(_)) => Ok(()),
        Err(_) => Err(SignatureError::Mismatch),
    }
}

/// Signs `body` as Slack does (`v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`),
/// for tools that send requests to Rebound (the load benchmark, the
/// `send_command` example). The tests sign with their own code on purpose, so
/// a mistake here cannot hide a mistake in [`verify`].
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn header<'a>(headers: &'a HeaderMap, name: &str, display: &'static str) -> Result<&'a str, SignatureError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .ok_or(SignatureError::MissingHeader(display))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_morphism::prelude::SlackSigningSecret;

    // Slack's published example (FACTS.md §12).
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: i64 = 1531420618;
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn verifier() -> SlackEventSignatureVerifier {
        SlackEventSignatureVerifier::new(&SlackSigningSecret::new(SECRET.into()))
    }

    fn headers(timestamp: &str, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("X-Slack-Request-Timestamp", timestamp.parse().unwrap());
        headers.insert("X-Slack-Signature", signature.parse().unwrap());
        headers
    }

    #[test]
    fn slacks_published_vector_verifies() {
        assert_eq!(BODY.len(), 362);
        assert_eq!(
            verify(
                &verifier(),
                &headers(&TIMESTAMP.to_string(), SIGNATURE),
                BODY,
                TIMESTAMP
            ),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_or_secret_is_refused() {
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(
            verify(
                &verifier(),
                &headers(&TIMESTAMP.to_string(), SIGNATURE),
                &tampered,
                TIMESTAMP
            ),
            Err(SignatureError::Mismatch)
        );
        let other = SlackEventSignatureVerifier::new(&SlackSigningSecret::new("another-secret".into()));
        assert_eq!(
            verify(&other, &headers(&TIMESTAMP.to_string(), SIGNATURE), BODY, TIMESTAMP),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_window_is_five_minutes_both_ways() {
        let h = headers(&TIMESTAMP.to_string(), SIGNATURE);
        assert_eq!(verify(&verifier(), &h, BODY, TIMESTAMP + 300), Ok(()));
        assert_eq!(verify(&verifier(), &h, BODY, TIMESTAMP - 300), Ok(()));
        assert_eq!(
            verify(&verifier(), &h, BODY, TIMESTAMP + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(&verifier(), &h, BODY, TIMESTAMP - 301),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn sign_reproduces_slacks_published_signature() {
        assert_eq!(sign(SECRET, &TIMESTAMP.to_string(), BODY), SIGNATURE);
    }

    #[test]
    fn missing_headers_are_named() {
        let mut only_signature = HeaderMap::new();
        only_signature.insert("x-slack-signature", SIGNATURE.parse().unwrap());
        assert_eq!(
            verify(&verifier(), &only_signature, BODY, TIMESTAMP),
            Err(SignatureError::MissingHeader("X-Slack-Request-Timestamp"))
        );
        assert_eq!(
            verify(&verifier(), &headers("abc", SIGNATURE), BODY, TIMESTAMP),
            Err(SignatureError::BadTimestamp)
        );
    }
}
