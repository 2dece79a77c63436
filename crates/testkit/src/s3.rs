//! An S3-compatible server for tests, running inside the test process.
//!
//! It is `s3s-fs` (an S3 server over a folder) used as a library, with signature checking on: a wrong
//! secret key gets `SignatureDoesNotMatch`, and tampered or expired presigned URLs are refused, as on AWS.
//! Nothing needs installing. When `TRIBUTARY_TEST_S3_ENDPOINT` is set (by `tributary-testkit services`,
//! which runs the same server once for a whole test run), tests use that server instead.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use tokio::sync::watch;

use crate::error::{Result, TestkitError};
use crate::process::{Watchdog, random_hex, scratch_dir};

/// The endpoint of an already running server (`http://127.0.0.1:9001`).
pub const ENDPOINT_VAR: &str = "TRIBUTARY_TEST_S3_ENDPOINT";
/// Its access key id.
pub const ACCESS_KEY_VAR: &str = "TRIBUTARY_TEST_S3_ACCESS_KEY";
/// Its secret access key.
pub const SECRET_KEY_VAR: &str = "TRIBUTARY_TEST_S3_SECRET_KEY";
/// The folder it serves, where a bucket is a sub-folder: how tests create buckets on it.
pub const ROOT_VAR: &str = "TRIBUTARY_TEST_S3_ROOT";

/// The region the test server answers for; s3s-fs accepts any, clients must sign with one.
pub const REGION: &str = "us-east-1";

/// An S3-compatible server tests may use.
pub struct S3Server {
    endpoint: String,
    access_key: String,
    secret_key: String,
    root: PathBuf,
    shutdown: Option<watch::Sender<bool>>,
    _cleanup: Option<Watchdog>,
}

static SHARED: OnceLock<std::result::Result<S3Server, String>> = OnceLock::new();

/// The server shared by every test in this process: the environment's, or one started in this process on
/// first use.
pub fn s3() -> Result<&'static S3Server> {
    SHARED
        .get_or_init(|| {
            let from_env = [ENDPOINT_VAR, ACCESS_KEY_VAR, SECRET_KEY_VAR, ROOT_VAR].map(std::env::var);
            match from_env {
                [Ok(endpoint), Ok(access_key), Ok(secret_key), Ok(root)] if !endpoint.is_empty() => {
                    Ok(S3Server {
                        endpoint,
                        access_key,
                        secret_key,
                        root: PathBuf::from(root),
                        shutdown: None,
                        _cleanup: None,
                    })
                }
                _ => S3Server::start().map_err(|error| error.to_string()),
            }
        })
        .as_ref()
        .map_err(|message| TestkitError::new(message.clone()))
}

impl S3Server {
    /// Starts a server on a free port of 127.0.0.1, serving a new temporary folder, on a thread of its own
    /// (so it outlives any one test's runtime). Dropping the value stops it and removes the folder.
    pub fn start() -> Result<S3Server> {
        let root = scratch_dir("tributary-s3-")?;
        let cleanup = Watchdog::spawn(&root, "TERM", &[])?;
        let access_key = format!("AKTEST{}", random_hex(6).to_uppercase());
        let secret_key = random_hex(20);
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|error| TestkitError::io("could not bind the S3 test server to 127.0.0.1", error))?;
        let address = listener
            .local_addr()
            .map_err(|error| TestkitError::io("could not read the S3 test server's address", error))?;
        listener
            .set_nonblocking(true)
            .map_err(|error| TestkitError::io("could not configure the S3 test server's socket", error))?;
        let service = build_service(&root, &access_key, &secret_key)?;
        let (shutdown, stopped) = watch::channel(false);
        std::thread::Builder::new()
            .name("tributary-s3-test-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(serve(listener, service, stopped));
                }
            })
            .map_err(|error| TestkitError::io("could not start the S3 test server thread", error))?;
        Ok(S3Server {
            endpoint: format!("http://{address}"),
            access_key,
            secret_key,
            root,
            shutdown: Some(shutdown),
            _cleanup: Some(cleanup),
        })
    }

    /// The endpoint URL (plain HTTP on loopback, so clients must allow HTTP).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The access key id the server accepts.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key the server checks signatures with.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The region to sign requests for.
    pub fn region(&self) -> &str {
        REGION
    }

    /// Creates an empty bucket with a unique name, so tests sharing a server never see each other's data.
    pub fn create_bucket(&self) -> Result<String> {
        let name = format!("t-{}", random_hex(6));
        std::fs::create_dir(self.root.join(&name))
            .map_err(|error| TestkitError::io(&format!("could not create bucket {name}"), error))?;
        Ok(name)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(true);
        }
    }
}

fn build_service(root: &Path, access_key: &str, secret_key: &str) -> Result<s3s::service::S3Service> {
    let fs = s3s_fs::FileSystem::new(root).map_err(|error| {
        TestkitError::new(format!("could not serve {} over S3: {error:?}", root.display()))
    })?;
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(access_key, secret_key));
    Ok(builder.build())
}

/// Serves one S3 service until `stopped` turns true.
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    service: s3s::service::S3Service,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let http = ConnBuilder::new(TokioExecutor::new());
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(_) => continue,
            },
            _ = stopped.changed() => return,
        };
        let connection = http
            .serve_connection(TokioIo::new(socket), service.clone())
            .into_owned();
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}

/// Runs a server for a whole test run from the `tributary-testkit services` command, returning the
/// variables that point tests at it.
pub(crate) fn start_for_environment() -> Result<(S3Server, Vec<(&'static str, String)>)> {
    let server = S3Server::start()?;
    let vars = vec![
        (ENDPOINT_VAR, server.endpoint.clone()),
        (ACCESS_KEY_VAR, server.access_key.clone()),
        (SECRET_KEY_VAR, server.secret_key.clone()),
        (ROOT_VAR, server.root.display().to_string()),
    ];
    Ok((server, vars))
}
