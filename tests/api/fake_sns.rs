//! A fake Amazon SNS on 127.0.0.1, shared by every test of the process: it
//! serves signing certificates at `/certs/{name}.pem` (a 500 for names
//! starting `broken`), answers `GET /?Action=ConfirmSubscription&TopicArn=…&Token=…`
//! as SNS does (XML; 400 `InvalidParameter` without a token), records both,
//! and signs envelopes with the test key the way SNS signs them.
//! <https://docs.aws.amazon.com/sns/latest/api/API_ConfirmSubscription.html>

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::Value;

const KEY: &str = include_str!("../fixtures/alerts/sns-test-key.pem");
const CERT: &str = include_str!("../fixtures/alerts/sns-test-cert.pem");

#[derive(Default)]
struct Record {
    cert_fetches: HashMap<String, usize>,
    confirmed_tokens: Vec<String>,
}

pub struct FakeSns {
    /// `http://127.0.0.1:PORT`, what a source's `insecure_test_origin` names.
    pub origin: String,
    record: Arc<Mutex<Record>>,
    key: RsaPrivateKey,
}

/// The one fake, started on first use on a thread of its own (so it outlives
/// each test's runtime).
pub fn fake_sns() -> &'static FakeSns {
    static FAKE: OnceLock<FakeSns> = OnceLock::new();
    FAKE.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let record = Arc::new(Mutex::new(Record::default()));
        let app = Router::new()
            .route("/certs/{name}", get(certificate))
            .route("/", get(confirm_subscription))
            .with_state(record.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        FakeSns {
            origin,
            record,
            key: RsaPrivateKey::from_pkcs8_pem(KEY).unwrap(),
        }
    })
}

async fn certificate(State(record): State<Arc<Mutex<Record>>>, Path(name): Path<String>) -> Response {
    *record.lock().unwrap().cert_fetches.entry(name.clone()).or_default() += 1;
    if name.starts_with("broken") {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    }
    CERT.into_response()
}

async fn confirm_subscription(
    State(record): State<Arc<Mutex<Record>>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (Some("ConfirmSubscription"), Some(token), Some(topic)) = (
        query.get("Action").map(String::as_str),
        query.get("Token"),
        query.get("TopicArn"),
    ) else {
        let error = "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Token</Message></Error><RequestId>b5fc1b7a-2d40-5b3f-9f74-2f1c6d1c3e0a</RequestId></ErrorResponse>";
        return (StatusCode::BAD_REQUEST, error).into_response();
    };
    record.lock().unwrap().confirmed_tokens.push(token.clone());
    format!(
        "<ConfirmSubscriptionResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><ConfirmSubscriptionResult><SubscriptionArn>{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>075ecce8-8dac-11e1-bf80-f781d96e9307</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>"
    )
    .into_response()
}

impl FakeSns {
    pub fn cert_url(&self, name: &str) -> String {
        format!("{}/certs/{name}.pem", self.origin)
    }

    pub fn subscribe_url(&self, topic: &str, token: &str) -> String {
        format!(
            "{}/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}",
            self.origin
        )
    }

    pub fn cert_fetches(&self, name: &str) -> usize {
        let record = self.record.lock().unwrap();
        record.cert_fetches.get(&format!("{name}.pem")).copied().unwrap_or(0)
    }

    pub fn confirmed(&self, token: &str) -> bool {
        self.record.lock().unwrap().confirmed_tokens.iter().any(|t| t == token)
    }

    /// Signs `envelope` in place as SNS does for `version` 1 (SHA1withRSA)
    /// or 2 (SHA256withRSA).
    pub fn sign(&self, envelope: &mut Value, version: u8) {
        envelope["SignatureVersion"] = Value::from(version.to_string());
        let text = string_to_sign(envelope);
        let signature = match version {
            1 => SigningKey::<sha1::Sha1>::new(self.key.clone())
                .sign(text.as_bytes())
                .to_vec(),
            _ => SigningKey::<sha2::Sha256>::new(self.key.clone())
                .sign(text.as_bytes())
                .to_vec(),
        };
        envelope["Signature"] = Value::from(base64::engine::general_purpose::STANDARD.encode(signature));
    }
}

/// The fields SNS signs, by message type, each as `Name\nvalue\n`.
fn string_to_sign(envelope: &Value) -> String {
    let fields: &[&str] = match envelope["Type"].as_str() {
        Some("Notification") => &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
        _ => &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ],
    };
    fields
        .iter()
        .filter_map(|field| envelope[*field].as_str().map(|value| format!("{field}\n{value}\n")))
        .collect()
}
