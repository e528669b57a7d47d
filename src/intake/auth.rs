//! How each sender proves it is who the source says, checked before the
//! body is parsed (a forged delivery is a 401 whatever it holds). Secrets
//! are compared in constant time; HMACs verified with `Mac::verify_slice`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::intake::SourceSettings;
use crate::domain::alerts::SourceKind;

/// A request's headers, as far as authentication reads them.
pub trait Headers {
    fn get(&self, name: &str) -> Option<&str>;
}

impl Headers for axum::http::HeaderMap {
    fn get(&self, name: &str) -> Option<&str> {
        axum::http::HeaderMap::get(self, name).and_then(|v| v.to_str().ok())
    }
}

/// True when the delivery is authenticated as `source`'s sender signs or
/// authorises it (see INTERFACE.md, "Alert intake").
pub fn authenticated(source: &SourceSettings, headers: &dyn Headers, body: &[u8]) -> bool {
    let secret = source.secret.expose_secret().as_bytes();
    let authorization = headers.get("authorization").unwrap_or_default();
    match source.kind {
        SourceKind::Alertmanager => bearer(authorization, secret) || basic_password(authorization, secret),
        SourceKind::Grafana => {
            bearer(authorization, secret)
                || headers
                    .get("x-grafana-alerting-signature")
                    .is_some_and(|sig| hmac_hex(secret, body, sig))
        }
        SourceKind::Datadog => headers
            .get("x-rebound-secret")
            .is_some_and(|given| same(given.as_bytes(), secret)),
        SourceKind::Sentry => headers
            .get("sentry-hook-signature")
            .is_some_and(|sig| hmac_hex(secret, body, sig)),
        SourceKind::Pagerduty => headers.get("x-pagerduty-signature").is_some_and(|header| {
            // Several `v1=` signatures while a secret is rotated: any one is enough.
            header
                .split(',')
                .filter_map(|part| part.trim().strip_prefix("v1="))
                .any(|sig| hmac_hex(secret, body, sig))
        }),
        SourceKind::Opsgenie => genie_key(authorization).is_some_and(|key| same(key.as_bytes(), secret)),
        SourceKind::Generic => {
            bearer(authorization, secret)
                || headers
                    .get("x-rebound-signature")
                    .and_then(|sig| sig.trim().strip_prefix("sha256="))
                    .is_some_and(|sig| hmac_hex(secret, body, sig))
        }
        // The subscription URL carries `user:secret@` (SNS sends it as basic
        // auth): SNS's own signature, checked next, proves only that *some*
        // AWS topic sent the message.
        SourceKind::Sns => basic_password(authorization, secret),
    }
}

/// True when a Jira admin webhook carries `X-Hub-Signature: sha256=<hex>`,
/// the HMAC-SHA256 of the raw body under the webhook's secret (WebSub's
/// `method=signature`, as Jira Cloud signs).
pub fn jira_signed(secret: &[u8], headers: &dyn Headers, body: &[u8]) -> bool {
    headers
        .get("x-hub-signature")
        .and_then(|sig| sig.trim().strip_prefix("sha256="))
        .is_some_and(|sig| hmac_hex(secret, body, sig))
}

/// The key of `Authorization: GenieKey <key>`.
pub fn genie_key(authorization: &str) -> Option<&str> {
    authorization.strip_prefix("GenieKey ").map(str::trim)
}

fn same(given: &[u8], secret: &[u8]) -> bool {
    !secret.is_empty() && bool::from(given.ct_eq(secret))
}

fn bearer(authorization: &str, secret: &[u8]) -> bool {
    authorization
        .strip_prefix("Bearer ")
        .is_some_and(|token| same(token.trim().as_bytes(), secret))
}

/// HTTP basic auth whose password is the secret (any user name).
fn basic_password(authorization: &str, secret: &[u8]) -> bool {
    let Some(encoded) = authorization.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    match decoded.iter().position(|b| *b == b':') {
        Some(colon) => same(&decoded[colon + 1..], secret),
        None => false,
    }
}

/// Is `signature` the hex HMAC-SHA256 of `body` under `secret`?
fn hmac_hex(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Headers and sources for the intake unit tests.
#[cfg(test)]
pub mod testing {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::alerts::routing::Action;

    /// Request headers by lower-case name.
    pub struct Map(pub BTreeMap<&'static str, String>);

    impl Headers for Map {
        fn get(&self, name: &str) -> Option<&str> {
            self.0.get(name).map(String::as_str)
        }
    }

    /// A source of `kind` with the secret `a-secret-of-sixteen-chars`.
    pub fn source(kind: SourceKind) -> SourceSettings {
        SourceSettings {
            name: "s".into(),
            kind,
            secret: "a-secret-of-sixteen-chars".to_string().into(),
            action: Action::Incident,
            responders: None,
            auto_resolve: false,
            topic_arns: Vec::new(),
            insecure_test_origin: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{Map, source};
    use super::*;

    fn sign(body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"a-secret-of-sixteen-chars").unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    fn headers(pairs: &[(&'static str, String)]) -> Map {
        Map(pairs.iter().cloned().collect())
    }

    #[test]
    fn each_sender_authenticates_its_own_way() {
        let body = br#"{"alerts":[]}"#;
        let basic = base64::engine::general_purpose::STANDARD.encode("alertmanager:a-secret-of-sixteen-chars");
        let cases = [
            (
                SourceKind::Alertmanager,
                "authorization",
                "Bearer a-secret-of-sixteen-chars".to_string(),
            ),
            (SourceKind::Alertmanager, "authorization", format!("Basic {basic}")),
            (SourceKind::Sns, "authorization", format!("Basic {basic}")),
            (
                SourceKind::Grafana,
                "authorization",
                "Bearer a-secret-of-sixteen-chars".to_string(),
            ),
            (SourceKind::Grafana, "x-grafana-alerting-signature", sign(body)),
            (
                SourceKind::Datadog,
                "x-rebound-secret",
                "a-secret-of-sixteen-chars".to_string(),
            ),
            (SourceKind::Sentry, "sentry-hook-signature", sign(body)),
            (
                SourceKind::Pagerduty,
                "x-pagerduty-signature",
                format!("v1=00ff, v1={}", sign(body)),
            ),
            (
                SourceKind::Opsgenie,
                "authorization",
                "GenieKey a-secret-of-sixteen-chars".to_string(),
            ),
            (
                SourceKind::Generic,
                "x-rebound-signature",
                format!("sha256={}", sign(body)),
            ),
        ];
        for (kind, header, value) in cases {
            assert!(
                authenticated(&source(kind), &headers(&[(header, value.clone())]), body),
                "{kind:?} {header}"
            );
            let forged = &br#"{"alerts":[1]}"#[..];
            // A shared secret does not depend on the body; a signature does.
            let still_ok = !header.ends_with("signature");
            assert_eq!(
                authenticated(&source(kind), &headers(&[(header, value)]), forged),
                still_ok,
                "{kind:?}: a changed body fails an HMAC"
            );
        }
    }

    #[test]
    fn wrong_missing_and_misplaced_secrets_fail() {
        let body = b"{}";
        for kind in SourceKind::ALL {
            assert!(
                !authenticated(&source(kind), &headers(&[]), body),
                "{kind:?} without credentials"
            );
            let wrong = headers(&[("authorization", "Bearer not-the-secret-at-all".into())]);
            assert!(
                !authenticated(&source(kind), &wrong, body),
                "{kind:?} with a wrong bearer"
            );
        }
        // Datadog's secret belongs in its header, not as a bearer token.
        let misplaced = headers(&[("authorization", "Bearer a-secret-of-sixteen-chars".into())]);
        assert!(!authenticated(&source(SourceKind::Datadog), &misplaced, body));
        assert!(!authenticated(&source(SourceKind::Sentry), &misplaced, body));
        let prefix = headers(&[("authorization", "Bearer a-secret".into())]);
        assert!(
            !authenticated(&source(SourceKind::Generic), &prefix, body),
            "a prefix of the secret"
        );
    }
}
