//! Network faults on loopback, for connection-failure tests: a listener that accepts and never answers, a
//! port nothing listens on, a proxy that can be cut and restored to stand in for a server that goes away
//! and comes back, a [`Recorder`] that counts who connected and keeps what they sent (to prove a refused
//! target saw no connection, or a dropped password never arrived), and a [`FixedResolver`] whose answers a
//! test changes (to stand in for DNS rebinding). Everything binds to loopback; no test traffic leaves the
//! machine.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
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

/// A listener on a loopback address that accepts every connection, answers each one's first message with a
/// fixed reply (or nothing), and records how many connected and every byte they sent; stops when dropped.
pub struct Recorder {
    address: SocketAddr,
    accepted: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<u8>>>,
    task: JoinHandle<()>,
}

impl Recorder {
    /// Listens on a free port of 127.0.0.1 and answers nothing.
    pub async fn start() -> Result<Recorder> {
        Recorder::on(IpAddr::from([127, 0, 0, 1]), Vec::new()).await
    }

    /// Listens on a free port of `ip` (a loopback address: 127.0.0.2 and ::1 work too) and answers the
    /// first message of each connection with `reply`.
    pub async fn on(ip: IpAddr, reply: Vec<u8>) -> Result<Recorder> {
        if !ip.is_loopback() {
            return Err(TestkitError::new(format!(
                "{ip} is not a loopback address; test listeners stay on loopback"
            )));
        }
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .await
            .map_err(|error| TestkitError::io(&format!("could not listen on {ip}"), error))?;
        let address = listener
            .local_addr()
            .map_err(|error| TestkitError::io("could not read the port", error))?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (counter, store) = (accepted.clone(), received.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let store = store.clone();
                let reply = reply.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0_u8; 4096];
                    let mut replied = false;
                    while let Ok(read) = socket.read(&mut buffer).await {
                        if read == 0 {
                            break;
                        }
                        store
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .extend_from_slice(&buffer[..read]);
                        if !replied && !reply.is_empty() {
                            replied = true;
                            if socket.write_all(&reply).await.is_err() {
                                break;
                            }
                        }
                    }
                });
            }
        });
        Ok(Recorder {
            address,
            accepted,
            received,
            task,
        })
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Its address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Every byte received so far, from every connection.
    pub fn received(&self) -> Vec<u8> {
        self.received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A resolver that answers from a table a test can change while connectors run, for proving that every
/// new connection is resolved and checked again (DNS rebinding). Names not in the table do not resolve.
#[derive(Debug, Clone, Default)]
pub struct FixedResolver {
    names: Arc<Mutex<HashMap<String, Vec<IpAddr>>>>,
}

impl FixedResolver {
    /// An empty table.
    pub fn new() -> FixedResolver {
        FixedResolver::default()
    }

    /// Makes `name` resolve to `addresses` from now on.
    pub fn set(&self, name: &str, addresses: &[IpAddr]) {
        self.names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_ascii_lowercase(), addresses.to_vec());
    }
}

#[async_trait::async_trait]
impl tributary_core::host::Resolve for FixedResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let names = self
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match names.get(&host.to_ascii_lowercase()) {
            Some(addresses) => Ok(addresses.iter().map(|ip| SocketAddr::new(*ip, port)).collect()),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host} is not in the test resolver's table"),
            )),
        }
    }
}
