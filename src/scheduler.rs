//! Durable timers (severity prompts, update nudges, reminders, digests).
//!
//! Skeleton for issue #4: the worker is started and stopped with the others
//! so the wiring is in place; it owns no timers yet. Issue #4 stores timers
//! with an indexed `due_at`, claims them atomically, and sleeps until the next
//! one is due (woken early when an earlier timer is added).

use tokio::sync::watch;

/// Waits for shutdown; timer handling arrives with issue #4.
pub async fn run(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
