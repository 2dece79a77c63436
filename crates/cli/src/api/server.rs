//! The listener loop of `tributary serve`: HTTP/1.1 and HTTP/2 through hyper, with the limits a server
//! open to untrusted clients needs before any route runs. A connection waits for a free slot when
//! `max_connections` are open (the kernel's backlog holds the rest), and one that has not sent its whole
//! request head within `header_read_timeout` is closed, so slow-header clients cannot hold slots. Request
//! bodies have their own read timeout, set on the application (see [`super::app_with`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connection limits of the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// The longest a client may take to send a request's head (the request line and headers).
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// How long a stopping server waits for the connections still open to finish their requests.
pub const DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and waits (up to
/// [`DRAIN`]) for the connections still open to end, so calls in flight finish and are audited.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    accept(&listener, &app, &builder, &slots, &mut shutdown).await;
    let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN, slots.acquire_many(all)).await;
}

/// Accepts connections, each in a slot, until `shutdown` completes.
async fn accept(
    listener: &TcpListener,
    app: &Router,
    builder: &Arc<Builder<TokioExecutor>>,
    slots: &Arc<Semaphore>,
    shutdown: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) {
    loop {
        let slot = tokio::select! {
            () = shutdown.as_mut() => return,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { return };
        let (stream, _) = tokio::select! {
            () = shutdown.as_mut() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors or a connection reset before accept: wait, then go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        tokio::spawn(async move {
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
            drop(slot);
        });
    }
}
