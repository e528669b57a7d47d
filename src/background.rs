//! A separate, lower-priority runtime for background work (dispatcher,
//! outbox, scheduler).
//!
//! Acknowledging Slack within milliseconds matters more than how soon a
//! channel is created. Background workers therefore run on their own tokio
//! runtime whose thread has a higher nice value, so under CPU pressure the
//! kernel runs the HTTP runtime first and busy background work cannot push
//! acknowledgements past Slack's deadline.

use std::future::Future;

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// Nice value for background threads (0 is normal, 19 lowest).
const BACKGROUND_NICENESS: i32 = 10;

/// Owns the background runtime.
pub struct BackgroundRuntime {
    runtime: Option<Runtime>,
}

impl BackgroundRuntime {
    pub fn new() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rebound-background")
            .enable_all()
            .on_thread_start(lower_this_threads_priority)
            .build()?;
        Ok(Self { runtime: Some(runtime) })
    }

    /// Runs `future` on the background runtime; the handle can be awaited anywhere.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.runtime {
            Some(runtime) => runtime.spawn(future),
            None => unreachable!("the runtime is only taken when dropped"),
        }
    }
}

impl Drop for BackgroundRuntime {
    /// Shuts the runtime down without blocking, which is allowed inside async
    /// code (a plain drop there would panic). Tasks still running are cancelled
    /// at their next await; everything they had not finished is still in the
    /// database.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; on Linux,
    // PRIO_PROCESS with a thread id changes just that thread.
    unsafe {
        let thread = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, BACKGROUND_NICENESS);
    }
}
