//! `tollgate`: parses the configuration, sets up logging and starts the server.

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    let mut config = server::config::Config::parse();
    if let Some(command) = config.command.take() {
        std::process::exit(server::cli::run(&config, command).await);
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    if let Err(message) = server::start(config).await {
        eprintln!("tollgate: {message}");
        std::process::exit(1);
    }
}
