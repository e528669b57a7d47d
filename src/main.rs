//! The `rebound` binary: parses the command line and hands over to [`rebound::cli`].

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rebound::cli::run().await
}
