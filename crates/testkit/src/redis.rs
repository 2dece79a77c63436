//! Redis for tests: the environment's (`TRIBUTARY_TEST_REDIS_URL`), or a throwaway `redis-server` on a
//! free port of 127.0.0.1 with persistence off, stopped and removed when the test process exits.

use std::io::{Read as _, Write as _};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::{Result, TestkitError};
use crate::process::{Watchdog, find_program, free_port, scratch_dir};

/// A running server's URL (`redis://127.0.0.1:6379/`).
pub const URL_VAR: &str = "TRIBUTARY_TEST_REDIS_URL";

/// A Redis server tests may use.
pub struct RedisServer {
    url: String,
    _process: Option<Watchdog>,
}

static SHARED: OnceLock<std::result::Result<RedisServer, String>> = OnceLock::new();

/// The server shared by the tests of this process: the environment's, or one started on first use.
pub fn redis() -> Result<&'static RedisServer> {
    SHARED
        .get_or_init(|| match std::env::var(URL_VAR) {
            Ok(url) if !url.is_empty() => Ok(RedisServer { url, _process: None }),
            _ => RedisServer::start().map_err(|error| error.to_string()),
        })
        .as_ref()
        .map_err(|message| TestkitError::new(message.clone()))
}

impl RedisServer {
    /// Starts a throwaway server.
    pub fn start() -> Result<RedisServer> {
        let program = find_program("redis-server", &[]).ok_or_else(|| {
            TestkitError::new(format!(
                "redis-server is not installed. Install it (Debian: apt-get install -y redis-server, which scripts/setup does), \
                 or set {URL_VAR} to a running server"
            ))
        })?;
        let dir = scratch_dir("tributary-redis-")?;
        let port = free_port()?;
        let program = program.display().to_string();
        let port_text = port.to_string();
        let dir_text = dir.display().to_string();
        let args = [
            program.as_str(),
            "--port",
            &port_text,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &dir_text,
            "--protected-mode",
            "no",
        ];
        let process = Watchdog::spawn(&dir, "TERM", &args)?;
        let server = RedisServer {
            url: format!("redis://127.0.0.1:{port}/"),
            _process: Some(process),
        };
        let started = Instant::now();
        while !ping(port) {
            if started.elapsed() > Duration::from_secs(20) {
                let log = server
                    ._process
                    .as_ref()
                    .map(Watchdog::log_tail)
                    .unwrap_or_default();
                return Err(TestkitError::new(format!(
                    "the throwaway redis-server on port {port} did not answer PING\n{log}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// The URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream
            .read(&mut answer)
            .is_ok_and(|n| answer[..n].starts_with(b"+PONG"))
}
