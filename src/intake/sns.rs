//! Amazon SNS proves a delivery with an RSA signature over the fields it
//! lists, made with the key of a certificate it names by URL. This adapter
//! fetches that certificate (only over HTTPS from an SNS host, see
//! `domain::alerts::sns::aws_url_allowed`), caches its key, verifies the
//! signature, and confirms subscriptions by visiting `SubscribeURL`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ring::signature::{self, UnparsedPublicKey};
use x509_cert::Certificate;
use x509_cert::der::DecodePem;
use x509_cert::spki::ObjectIdentifier;

use crate::domain::alerts::sns::{Digest, Envelope, aws_url_allowed};
use crate::http_client::{self, HttpsClient};

/// A certificate is a few KB; anything much larger is not one.
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;
/// SNS answers a confirmation with a small XML document.
const MAX_CONFIRMATION_BYTES: usize = 64 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// SNS signs with a handful of certificates; more than this is someone
/// trying to fill memory with distinct (refused) URLs.
const MAX_CACHED_KEYS: usize = 16;
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Why an SNS delivery was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum SnsError {
    /// The signature, or the certificate URL, does not prove SNS sent it.
    #[error("{0}")]
    Forged(String),
    /// The certificate or confirmation could not be fetched: SNS should retry.
    #[error("{0}")]
    Unreachable(String),
}

/// Checks SNS signatures; one per process, shared by every SNS source.
pub struct SnsVerifier {
    // Plain HTTP only ever reaches a loopback test origin: every URL
    // passes `aws_url_allowed` first.
    client: HttpsClient,
    /// Public keys (PKCS#1 DER) by certificate URL.
    keys: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl Default for SnsVerifier {
    fn default() -> Self {
        Self {
            client: http_client::https_client(),
            keys: Mutex::new(HashMap::new()),
        }
    }
}

impl SnsVerifier {
    /// Ok when `envelope` carries a valid SNS signature.
    pub async fn verify(&self, envelope: &Envelope, test_origin: Option<&url::Origin>) -> Result<(), SnsError> {
        let forged = |why: &str| SnsError::Forged(why.to_string());
        let digest = envelope.digest().map_err(|e| SnsError::Forged(e.0))?;
        let signed = envelope.string_to_sign().map_err(|e| SnsError::Forged(e.0))?;
        let signature = base64_decode(&envelope.signature).ok_or_else(|| forged("Signature is not base64"))?;
        let key = self.public_key(&envelope.signing_cert_url, test_origin).await?;
        let algorithm: &dyn signature::VerificationAlgorithm = match digest {
            Digest::Sha1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(algorithm, key.as_slice())
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| forged("the SNS signature does not match"))
    }

    /// Confirms a verified `SubscriptionConfirmation` by visiting its
    /// `SubscribeURL` (which must be an SNS URL too).
    pub async fn confirm(&self, envelope: &Envelope, test_origin: Option<&url::Origin>) -> Result<(), SnsError> {
        let url = envelope
            .subscribe_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| aws_url_allowed(u, test_origin))
            .ok_or_else(|| SnsError::Forged("SubscribeURL is not an SNS URL".into()))?;
        self.get(&url, MAX_CONFIRMATION_BYTES).await.map(drop)
    }

    async fn public_key(&self, cert_url: &str, test_origin: Option<&url::Origin>) -> Result<Arc<Vec<u8>>, SnsError> {
        let url = url::Url::parse(cert_url)
            .ok()
            .filter(|u| aws_url_allowed(u, test_origin) && u.path().ends_with(".pem"))
            .ok_or_else(|| SnsError::Forged("SigningCertURL is not an SNS certificate URL".into()))?;
        if let Some(key) = self.cached(cert_url) {
            return Ok(key);
        }
        let pem = self.get(&url, MAX_CERTIFICATE_BYTES).await?;
        let key = Arc::new(public_key_of(&pem, chrono::Utc::now()).map_err(SnsError::Forged)?);
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= MAX_CACHED_KEYS {
            keys.clear();
        }
        keys.insert(cert_url.to_string(), key.clone());
        Ok(key)
    }

    fn cached(&self, cert_url: &str) -> Option<Arc<Vec<u8>>> {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(cert_url)
            .cloned()
    }

    async fn get(&self, url: &url::Url, limit: usize) -> Result<Bytes, SnsError> {
        let unreachable = |why: String| SnsError::Unreachable(format!("{}: {why}", url.host_str().unwrap_or("?")));
        let request = http_client::get(url.as_str()).map_err(unreachable)?;
        let answer = http_client::send(&self.client, request, FETCH_TIMEOUT, limit)
            .await
            .map_err(unreachable)?;
        if !answer.status.is_success() {
            return Err(unreachable(format!("answered {}", answer.status)));
        }
        Ok(answer.body)
    }
}

/// The RSA key (PKCS#1 DER, as ring takes it) of a PEM certificate that is
/// valid at `now`.
fn public_key_of(pem: &[u8], now: chrono::DateTime<chrono::Utc>) -> Result<Vec<u8>, String> {
    let certificate = Certificate::from_pem(pem).map_err(|e| format!("the signing certificate does not parse: {e}"))?;
    let tbs = &certificate.tbs_certificate;
    let now = Duration::from_secs(u64::try_from(now.timestamp()).unwrap_or_default());
    if now < tbs.validity.not_before.to_unix_duration() || now > tbs.validity.not_after.to_unix_duration() {
        return Err("the signing certificate is not valid now".into());
    }
    let info = &tbs.subject_public_key_info;
    if info.algorithm.oid != RSA_ENCRYPTION {
        return Err("the signing certificate's key is not RSA".into());
    }
    Ok(info.subject_public_key.raw_bytes().to_vec())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = include_str!("../../tests/fixtures/alerts/sns-test-cert.pem");

    #[test]
    fn a_certificate_gives_its_key_only_while_valid() {
        let now = chrono::Utc::now();
        assert!(public_key_of(CERT.as_bytes(), now).is_ok());
        let long_after = now + chrono::Duration::days(365 * 200);
        assert!(public_key_of(CERT.as_bytes(), long_after).is_err());
        assert!(public_key_of(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", now).is_err());
    }
}
