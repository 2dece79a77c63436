//! `tributary`: see `tributary --help`, and the README.

use clap::Parser;
use tributary_cli::cli::{Cli, Command};

/// A call allocates many small values (rows, JSON, futures) and frees them at once; mimalloc's per-thread
/// pages cost a fraction of glibc malloc's locks and consolidation on that pattern (see "Memory and speed"
/// in docs/operations.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `tributary mcp` serves one client over one pipe, so its calls gain nothing from a second worker thread
/// and each hand-off between two costs a wake-up: it runs on one thread (about 8% more calls per second on
/// the 100-row benchmark; still concurrent, as async tasks). Everything else, `serve` above all, gets a
/// worker per core.
fn runtime_for(command: &Command) -> tokio::runtime::Builder {
    match command {
        Command::Mcp { .. } => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    }
}

fn main() -> std::process::ExitCode {
    // Every file the server creates (its store, the demo's files, a SQLite database or a local object a
    // connector writes) is its owner's only, like the key file.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let runtime = match runtime_for(&cli.command).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tributary: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tributary_cli::commands::run(cli.command)) {
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
