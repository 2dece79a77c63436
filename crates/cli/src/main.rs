//! `tributary`: see `tributary --help`, and the README.

use clap::Parser;
use tributary_cli::cli::Cli;

/// A call allocates many small values (rows, JSON, futures) and frees them at once; mimalloc's per-thread
/// pages cost a fraction of glibc malloc's locks and consolidation on that pattern (see "Memory and speed"
/// in docs/operations.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Every file the server creates (its store, the demo's files, a SQLite database or a local object a
    // connector writes) is its owner's only, like the key file.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
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
