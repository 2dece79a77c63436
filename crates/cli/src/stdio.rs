//! MCP's standard input and output. When both are pipes, as they are when an MCP client starts the server,
//! they are read and written as non-blocking pipes on the runtime's own event loop. tokio's `stdin()` and
//! `stdout()` do each read and write on the blocking pool instead, two thread hand-offs per message that
//! cost more than anything else on a small call. Anything else (a terminal, a file, a socket) goes through
//! tokio's `stdin()` and `stdout()` as before.

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt as _;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

/// The reading half.
pub type Input = Box<dyn AsyncRead + Send + Unpin>;
/// The writing half.
pub type Output = Box<dyn AsyncWrite + Send + Unpin>;

/// Standard input and output, as pipes on the event loop where they can be.
pub fn transport() -> (Input, Output) {
    let input: Input = match input_pipe() {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::io::stdin()),
    };
    let output: Output = match output_pipe() {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::io::stdout()),
    };
    (input, output)
}

/// Standard input as a non-blocking pipe, if it is one.
fn input_pipe() -> std::io::Result<pipe::Receiver> {
    let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
    // Fails (and standard input stays as it is) unless it is a pipe open for reading.
    pipe::Receiver::from_file(std::fs::File::from(fd))
}

/// Standard output as a non-blocking pipe, if it is one and standard error does not share it: the pipe's
/// non-blocking mode belongs to the open file both descriptors would share, and `eprintln!` expects to
/// block.
fn output_pipe() -> std::io::Result<pipe::Sender> {
    let out = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    let err = std::fs::File::from(std::io::stderr().as_fd().try_clone_to_owned()?);
    let (out_meta, err_meta) = (out.metadata()?, err.metadata()?);
    if out_meta.dev() == err_meta.dev() && out_meta.ino() == err_meta.ino() {
        return Err(std::io::Error::other(
            "standard error shares standard output's pipe",
        ));
    }
    pipe::Sender::from_file(out)
}
