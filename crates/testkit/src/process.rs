//! Server processes that clean up after the test process, however it ends.
//!
//! A throwaway server runs under a small shell watchdog that reads its standard input from a pipe held by
//! the test process. When the test process exits (normally, by panic or by SIGKILL), the kernel closes the
//! pipe, the watchdog sees end-of-file, stops the server and deletes its data folder. No daemon is left
//! behind and no `unsafe` is needed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::error::{Result, TestkitError};

const WATCHDOG: &str = r#"
dir="$1"; signal="$2"; shift 2
if [ "$#" -gt 0 ]; then
  "$@" </dev/null >>"$dir.log" 2>&1 &
  pid=$!
fi
while read -r _; do :; done
if [ -n "${pid:-}" ]; then
  kill "-$signal" "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$dir" "$dir.log"
"#;

/// A folder, and optionally a server, removed and stopped when this value or the whole process goes away.
pub(crate) struct Watchdog {
    child: Child,
    dir: PathBuf,
}

impl Watchdog {
    /// Starts `command` (if any) in the background; on exit sends it `signal`, waits up to 10 s, kills it,
    /// and removes `dir`. The server's output goes to `<dir>.log`.
    pub(crate) fn spawn(dir: &Path, signal: &str, command: &[&str]) -> Result<Watchdog> {
        let child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("watchdog")
            .arg(dir)
            .arg(signal)
            .args(command)
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| TestkitError::io("could not start the watchdog shell `sh`", error))?;
        Ok(Watchdog {
            child,
            dir: dir.to_path_buf(),
        })
    }

    /// The server's log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        let mut log = self.dir.clone().into_os_string();
        log.push(".log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Whether the watchdog (and so the server) has already exited.
    pub(crate) fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Closing stdin tells the watchdog to stop the server; wait briefly so a test that drops a server
        // and starts another does not race the cleanup.
        drop(self.child.stdin.take());
        for _ in 0..150 {
            if self.has_exited() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Runs a command to completion, turning failure into an error that shows its output.
pub(crate) fn run(what: &str, command: &mut Command) -> Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| TestkitError::io(&format!("could not run {what}"), error))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(TestkitError::new(format!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// Whether this process runs as root; database servers refuse to run as root, so they are then started as
/// their own system user.
pub(crate) fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|line| line.starts_with("Uid:")).map(|line| {
                line.split_whitespace().nth(2) == Some("0") // effective uid
            })
        })
        .unwrap_or(false)
}

/// A command run as `user` when this process is root (through `setpriv`, which execs rather than forks, so
/// signals reach the server itself), or as the current user otherwise.
pub(crate) fn as_service_user(user: &str, program: &Path) -> Vec<String> {
    let program = program.display().to_string();
    if running_as_root() {
        [
            "setpriv",
            "--reuid",
            user,
            "--regid",
            user,
            "--init-groups",
            "--",
            program.as_str(),
        ]
        .map(str::to_owned)
        .to_vec()
    } else {
        vec![program]
    }
}

/// Gives `path` (recursively) to `user` when running as root, so a server running as that user can write it.
pub(crate) fn hand_over(path: &Path, user: &str) -> Result<()> {
    if running_as_root() {
        run(
            &format!("chown -R {user}"),
            Command::new("chown").arg("-R").arg(format!("{user}:")).arg(path),
        )?;
    }
    Ok(())
}

/// A fresh folder under the system temp dir, not removed automatically: its watchdog removes it.
pub(crate) fn scratch_dir(prefix: &str) -> Result<PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|error| TestkitError::io("could not create a temporary folder", error))?;
    Ok(dir.keep())
}

/// Finds an executable in the given folders or on `PATH`.
pub(crate) fn find_program(name: &str, extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
    extra_dirs
        .iter()
        .cloned()
        .chain(path_dirs.unwrap_or_default())
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A port on 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|error| TestkitError::io("could not find a free port on 127.0.0.1", error))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|error| TestkitError::io("could not read the free port", error))
}

/// A random lowercase hex string of `bytes * 2` characters, for passwords and unique names.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    if getrandom::fill(&mut buffer).is_err() {
        // No OS randomness is a broken machine; fall back to time and pid so names stay unique.
        let seed = format!(
            "{:?}{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default(),
            std::process::id()
        );
        buffer = seed.bytes().rev().take(bytes).collect();
    }
    hex::encode(buffer)
}
