//! The fake's Socket Mode side (FACTS.md §9): `apps.connections.open` hands
//! out `ws://…/link/` URLs; each connection gets `hello`, then whatever
//! envelopes a test sends, and every frame the app sends back is recorded.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::FakeSlack;

/// Open connections and what the app sent.
#[derive(Default)]
pub struct Sockets {
    connections: Vec<mpsc::UnboundedSender<Message>>,
    /// Every frame received from the app, as JSON.
    pub frames: Vec<Value>,
    pub opened: usize,
}

pub async fn connect(State(fake): State<FakeSlack>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| serve(fake, socket))
}

async fn serve(fake: FakeSlack, mut socket: WebSocket) {
    let (sender, mut outgoing) = mpsc::unbounded_channel();
    {
        let mut state = fake.state.lock().unwrap();
        state.sockets.opened += 1;
        state.sockets.connections.push(sender);
    }
    let hello = json!({ "type": "hello", "num_connections": 1, "debug_info": { "host": "fake" }, "connection_info": { "app_id": "A1" } });
    if socket.send(Message::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = outgoing.recv() => match frame {
                Some(frame @ Message::Close(_)) => {
                    let _ = socket.send(frame).await;
                    return;
                }
                Some(frame) => {
                    if socket.send(frame).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            received = socket.recv() => match received {
                Some(Ok(Message::Text(text))) => {
                    let frame = serde_json::from_str(&text).unwrap_or(Value::String(text.to_string()));
                    fake.state.lock().unwrap().sockets.frames.push(frame);
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

impl FakeSlack {
    /// Waits until at least `count` Socket Mode connections were opened.
    pub async fn wait_for_sockets(&self, count: usize) {
        self.wait_for("Socket Mode connections", |f| {
            let state = f.state.lock().unwrap();
            state.sockets.connections.iter().filter(|c| !c.is_closed()).count() >= count
                && state.sockets.opened >= count
        })
        .await;
    }

    /// Sends an envelope on the newest open connection; returns its `envelope_id`.
    pub fn send_envelope(&self, kind: &str, payload: Value, accepts_response_payload: bool) -> String {
        let mut state = self.state.lock().unwrap();
        let envelope_id = format!("env-{}", state.next_id());
        let envelope = json!({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": accepts_response_payload, "retry_attempt": 0, "retry_reason": ""
        });
        let connection = state
            .sockets
            .connections
            .iter()
            .rev()
            .find(|c| !c.is_closed())
            .expect("an open Socket Mode connection");
        connection.send(Message::Text(envelope.to_string().into())).unwrap();
        envelope_id
    }

    /// The acknowledgement the app sent for an envelope, waiting up to 15 s.
    pub async fn ack_for(&self, envelope_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found = self
                .state
                .lock()
                .unwrap()
                .sockets
                .frames
                .iter()
                .find(|f| f["envelope_id"] == envelope_id)
                .cloned();
            if let Some(ack) = found {
                return ack;
            }
            assert!(Instant::now() < deadline, "no ack for {envelope_id}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asks every connection to go away, as Slack does before a refresh.
    pub fn disconnect_all(&self, reason: &str) {
        let state = self.state.lock().unwrap();
        for connection in &state.sockets.connections {
            let _ = connection.send(Message::Text(
                json!({ "type": "disconnect", "reason": reason }).to_string().into(),
            ));
            let _ = connection.send(Message::Close(None));
        }
    }
}
