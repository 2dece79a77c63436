//! `tributary-testkit services --env-file FILE`: starts throwaway PostgreSQL, MariaDB and S3 servers, writes
//! the variables that point tests at them to FILE, and keeps them running until it is stopped (SIGTERM,
//! Ctrl-C, or end of standard input). `scripts/test` uses it so a whole test run shares one set.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: tributary-testkit services --env-file FILE";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env_file = match args.as_slice() {
        [command, flag, file] if command == "services" && flag == "--env-file" => PathBuf::from(file),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let services = match tributary_testkit::services::Services::start().await {
        Ok(services) => services,
        Err(error) => {
            eprintln!("tributary-testkit: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = services.write_env_file(&env_file) {
        eprintln!("tributary-testkit: {error}");
        return ExitCode::FAILURE;
    }
    let names: Vec<&str> = services.vars().iter().map(|(name, _)| *name).collect();
    eprintln!(
        "tributary-testkit: services running; {} set in {}",
        names.join(", "),
        env_file.display()
    );
    // Stays up until told to stop; dropping `services` stops the servers and deletes their data.
    let mut sigterm = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(error) => {
            eprintln!("tributary-testkit: cannot listen for SIGTERM: {error}");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = sigterm.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(services);
    let _ = std::fs::remove_file(&env_file);
    ExitCode::SUCCESS
}
