//! Network faults on loopback, for connection-failure tests: a listener that accepts and never answers, a
//! port nothing listens on, and a proxy that can be cut and restored to stand in for a server that goes away
//! and comes back. Everything binds to 127.0.0.1; no test traffic leaves the machine.

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::{Result, TestkitError};

/// A port on 127.0.0.1 where nothing listens (connections are refused).
pub fn closed_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|error| TestkitError::io("could not bind a probe port on 127.0.0.1", error))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|error| TestkitError::io("could not read the port", error))
}

/// A listener that accepts connections and never sends a byte; stops when dropped.
pub struct SilentServer {
    port: u16,
    task: JoinHandle<()>,
}

impl SilentServer {
    /// Starts listening on a free port of 127.0.0.1.
    pub async fn start() -> Result<SilentServer> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| TestkitError::io("could not bind the silent server", error))?;
        let port = listener
            .local_addr()
            .map_err(|error| TestkitError::io("could not read the port", error))?
            .port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        Ok(SilentServer { port, task })
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TCP proxy to a port of 127.0.0.1 that can be cut (every connection dropped, new ones closed at once)
/// and restored; stops when dropped.
pub struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding a free port of 127.0.0.1 to `target_port` on 127.0.0.1.
    pub async fn start(target_port: u16) -> Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| TestkitError::io("could not bind the proxy", error))?;
        let port = listener
            .local_addr()
            .map_err(|error| TestkitError::io("could not read the port", error))?
            .port();
        let (up, state) = watch::channel(true);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = state.clone();
                if !*state.borrow() {
                    continue; // dropped at once: the client sees the connection close
                }
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", target_port)).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|up| !up) => {}
                    }
                });
            }
        });
        Ok(Proxy { port, up, task })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every open connection and closes new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}
