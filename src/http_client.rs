//! One outbound HTTP client for the calls slack-morphism does not make:
//! the OpenID token exchange, SNS certificates, `rebound check` (which needs
//! `auth.test`'s `x-oauth-scopes` header) and `rebound intake test`.
//! rustls with the webpki roots; plain `http://` is allowed so tests and
//! the demo can point at a local fake (callers that must not reach a
//! plain-HTTP host check the URL first). Every answer is bounded in time
//! and size, so a slow or hostile server cannot hold or fill memory.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

/// The client type; cheap to clone (a pooled handle).
pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A request with its whole body.
pub type Request = axum::http::Request<Full<Bytes>>;

/// A new client with its own connection pool.
pub fn https_client() -> HttpsClient {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(https)
}

/// What a server answered.
#[derive(Debug)]
pub struct Answer {
    pub status: axum::http::StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("not JSON: {e}"))
    }
}

/// Sends `request`, waiting at most `timeout` for the answer and again for
/// its body, which may be at most `max_bytes`. The error says why, without
/// the request (which may carry a credential).
pub async fn send(
    client: &HttpsClient,
    request: Request,
    timeout: Duration,
    max_bytes: usize,
) -> Result<Answer, String> {
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(timeout, Limited::new(body, max_bytes).collect())
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// A GET request for `url` with no body.
pub fn get(url: &str) -> Result<Request, String> {
    axum::http::Request::get(url)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())
}
