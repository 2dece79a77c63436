//! `tributary`: see `tributary --help`, and the README.

use clap::Parser;
use tributary_cli::cli::Cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match tributary_cli::commands::run(cli.command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tributary: {}: {}", error.kind().code(), error.message());
            for field in error.fields() {
                eprintln!("  {}: {}", field.field, field.message);
            }
            eprintln!("  hint: {}", error.hint());
            std::process::ExitCode::FAILURE
        }
    }
}
