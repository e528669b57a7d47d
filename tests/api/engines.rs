//! Running one test on both engines: `both_backends!` for tests that need
//! only the app, `on_both_engines!` for suites whose set-up takes arguments
//! (a vendor fake and its configuration), and the waits they share.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestApp, spawn_app_with_config};

/// Declares to both backends: `both_backends!(name, |app| async move { … })`,
/// or with a TOML configuration: `both_backends!(name, config = "…", |app| …)`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        $crate::both_backends!($name, config = "", $body);
    };
    ($name:ident, config = $config:expr, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let backend = $crate::helpers::Backend::Sqlite;
                if let Some(app) = $crate::helpers::spawn_app_with_config(backend, $config).await {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let backend = $crate::helpers::Backend::Postgres;
                if let Some(app) = $crate::helpers::spawn_app_with_config(backend, $config).await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// Declares `$name::{sqlite, postgres}` tests that call
/// `$run(backend, args…)`: `on_both_engines!(name, run("lead", |app, fake| …))`.
#[macro_export]
macro_rules! on_both_engines {
    ($name:ident, $run:ident($($arg:expr),* $(,)?)) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $run($crate::helpers::Backend::Sqlite, $($arg),*).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $run($crate::helpers::Backend::Postgres, $($arg),*).await;
            }
        }
    };
}

/// Starts the app on `backend` with `config` and hands it, with the vendor
/// `fake` the configuration points at, to `body` (nothing when the engine
/// is not available outside CI).
pub async fn run_with_fake<Fake, F, Fut>(backend: Backend, fake: Fake, config: &str, body: F)
where
    F: FnOnce(TestApp, Fake) -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(app) = spawn_app_with_config(backend, config).await {
        body(app, fake).await;
    }
}

/// Polls `condition` until it holds; fails the test after 30 s naming `what`.
pub async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
