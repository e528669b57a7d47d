//! Recording what Slack answered: every outcome of a round in a few short
//! transactions, each follow-up applied in the transaction that marks its
//! call sent; an outcome that cannot be recorded is set aside on its own so
//! it never holds up the others.

use std::panic::AssertUnwindSafe;

use chrono::Utc;
use futures_util::FutureExt;

use super::{OutboxWorker, Settle, followups};
use crate::domain::clock;
use crate::store::{OutboxCall, StoreError};

impl OutboxWorker {
    /// Records outcomes, turning a panic in the follow-up work into an error.
    pub(super) async fn settle_safely(&self, outcomes: &[(OutboxCall, Settle)]) -> Result<(), ()> {
        match AssertUnwindSafe(self.settle_all(outcomes)).catch_unwind().await {
            Ok(Ok(())) => {
                self.metrics.changed();
                Ok(())
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, calls = outcomes.len(), "could not record outbox results");
                Err(())
            }
            Err(panic) => {
                self.panicked("recording the result of", &panic);
                Err(())
            }
        }
    }

    /// A call whose result cannot be recorded even on its own: when the
    /// database is the trouble this fails too and the lease brings it back.
    pub(super) async fn set_aside(&self, call: &OutboxCall) {
        let result = async {
            let mut uow = self.store.begin().await?;
            uow.fail_outbox(call.id, "rebound: could not record the result").await?;
            uow.commit().await
        }
        .await;
        if let Err(error) = result {
            tracing::error!(call = call.id, %error, "could not set a Slack call aside; it is retried when its lease expires");
        }
    }

    async fn settle_all(&self, outcomes: &[(OutboxCall, Settle)]) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut uow = self.store.begin().await?;
        for (call, settle) in outcomes {
            match settle {
                Settle::Sent(response, prepared) => {
                    let after_send = &call.after_send;
                    followups::apply(uow.as_mut(), after_send, response, prepared, &self.settings, now).await?;
                    uow.mark_outbox_sent(call.id, now, response).await?;
                }
                Settle::Defer(wait) => {
                    uow.defer_outbox(call.id, clock::later(now, *wait)).await?;
                }
                Settle::Retry { after, error, rewrite } => {
                    tracing::warn!(call = call.id, method = %call.method, %error, ?after, "Slack call will be retried");
                    let at = clock::later(now, *after);
                    uow.retry_outbox(call.id, at, error, rewrite.as_ref().map(|(a, s)| (a, s)))
                        .await?;
                }
                Settle::Fail(error) => {
                    tracing::error!(call = call.id, method = %call.method, %error, "Slack call failed for good");
                    uow.fail_outbox(call.id, error).await?;
                    if let Some(notice) = super::channel_ready::declaration_failed(call, error) {
                        uow.enqueue(&notice, now).await?;
                    }
                    super::vendors::refused(uow.as_mut(), call, error, now).await?;
                }
            }
        }
        uow.commit().await
    }
}
