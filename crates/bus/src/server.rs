//! Starting a real `nats-server` for tests and benchmarks, on loopback, in a temporary directory.
//!
//! The binary is `$TRILINK_NATS_SERVER` if set, else `nats-server` on `PATH`
//! (`scripts/install-nats.sh` installs it). When it is missing, [`require_binary`] fails the
//! test if the `CI` environment variable is set, and otherwise prints a notice and lets the test
//! skip.
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BusError;

pub fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TRILINK_NATS_SERVER") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

/// The server binary, or `None` (with a notice) when it is absent outside CI.
///
/// # Panics
/// When the binary is absent and `CI` is set: a CI run must not pass without exercising NATS.
pub fn require_binary(test: &str) -> Option<PathBuf> {
    match find_binary() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!(
            "{test}: nats-server not found (set TRILINK_NATS_SERVER or put nats-server on PATH; \
             run `bash scripts/install-nats.sh`)"
        ),
        None => {
            eprintln!("NOTICE {test}: skipped, nats-server not found (run `bash scripts/install-nats.sh`)");
            None
        }
    }
}

/// Ports handed out by [`free_port`] are drawn from here: below Linux's default ephemeral range
/// (32768–60999). A port taken from the ephemeral range is released before the server binds
/// it, and in that gap the kernel may give the very same number to an outgoing connection (one
/// cluster member dialling another), so the server fails with "address already in use". CI
/// saw exactly that.
const TEST_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A port that was free a moment ago on 127.0.0.1, outside the ephemeral range, and never
/// handed out before by this process (so parallel tests and the ports of one cluster differ).
pub fn free_port() -> std::io::Result<u16> {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let span = u32::from(TEST_PORTS.end - TEST_PORTS.start);
    // Start at a place that differs between processes, so concurrent test binaries spread out.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let start = (std::process::id().wrapping_mul(7919) ^ nanos) % span;
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    for i in 0..span {
        let port = TEST_PORTS.start + ((start + i) % span) as u16;
        if given.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return Ok(port);
        }
    }
    // The whole range is busy: fall back to whatever the kernel offers.
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A running server, killed when dropped.
pub struct NatsServer {
    child: Child,
    pub url: String,
    pub port: u16,
}

impl NatsServer {
    /// Starts `binary -c config` and waits until `127.0.0.1:port` accepts connections.
    pub fn start(binary: &Path, config: &Path, port: u16, log: &Path) -> Result<Self, BusError> {
        let err = |detail: String| BusError::Config {
            path: config.display().to_string(),
            detail,
        };
        let log_file =
            std::fs::File::create(log).map_err(|e| err(format!("log {}: {e}", log.display())))?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| err(format!("starting {}: {e}", binary.display())))?;
        let mut s = NatsServer {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            port,
        };
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = s.child.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(err(format!("nats-server exited with {status}: {text}")));
            }
            if t0.elapsed() > Duration::from_secs(15) {
                return Err(err("nats-server did not listen within 15 s".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(s)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether the server understands `sync_interval` (added in nats-server 2.10).
pub fn supports_sync_interval(binary: &Path) -> bool {
    let out = match Command::new(binary).arg("--version").output() {
        Ok(o) => {
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
        }
        Err(_) => return false,
    };
    // "nats-server: v2.15.1"
    let v = out.split('v').nth(1).unwrap_or("");
    let mut it = v.split('.').map(|p| p.trim().parse::<u32>().unwrap_or(0));
    let (major, minor) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (major, minor) >= (2, 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_bindable_and_outside_the_ephemeral_range() {
        let ports: Vec<u16> = (0..6).map(|_| free_port().unwrap()).collect();
        let unique: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(unique.len(), ports.len(), "{ports:?}");
        for p in ports {
            assert!(TEST_PORTS.contains(&p), "{p}");
            std::net::TcpListener::bind(("127.0.0.1", p)).unwrap();
        }
    }
}
