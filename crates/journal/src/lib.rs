//! trilink-journal: a node's own durable record of every envelope it sent, received or
//! rejected (with the reason).
//!
//! The bus acknowledges "stored", which is not "durable" (BRIEF §3.4), so the journal, not the
//! bus, is the record. Rules the node follows, which make a restart lose and duplicate nothing:
//! - outbound: an envelope is journaled (committed) *before* it is published, as `pending`, and
//!   marked `published` once the bus acknowledges it; a restarted node republishes what is still
//!   pending with the same message id, and takes its next sequence number from here;
//! - inbound: an envelope is committed here *before* it is acknowledged to the bus; it is keyed
//!   on (origin, node_id, sequence), so a redelivery after a crash is recognised and not
//!   processed twice.
//!
//! SQLite runs in WAL mode. `synchronous=FULL` (the default here) syncs the WAL at every commit,
//! so a committed transaction survives power loss as well as a killed process;
//! `synchronous=NORMAL` survives a killed process but may lose the last commits on power loss
//! (see docs/decisions/0203).
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
}

pub type Result<T> = std::result::Result<T, JournalError>;

/// How hard each commit pushes to the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPolicy {
    /// `synchronous=FULL`: durable across power loss.
    Full,
    /// `synchronous=NORMAL`: durable across a killed process only.
    Normal,
}

/// An envelope this node sent (or will send).
pub struct Sent<'a> {
    pub sequence: u64,
    pub t_unix_us: i64,
    pub kind: &'a str,
    /// Destinations, comma-joined (`JP,US`).
    pub rel_to: &'a str,
    pub reports: u32,
    pub bytes: &'a [u8],
}

/// An envelope this node accepted.
pub struct Received<'a> {
    pub origin: &'a str,
    pub node_id: &'a str,
    pub sequence: u64,
    pub t_unix_us: i64,
    pub send_time_unix_us: i64,
    pub kind: &'a str,
    pub reports: u32,
    pub bytes: &'a [u8],
}

/// An envelope this node refused.
pub struct RejectedRow<'a> {
    pub t_unix_us: i64,
    pub origin: Option<&'a str>,
    pub node_id: Option<&'a str>,
    pub sequence: Option<u64>,
    pub reason: &'a str,
    pub detail: &'a str,
    pub bytes: &'a [u8],
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: u64,
    pub sent_reports: u64,
    pub pending: u64,
    pub received: u64,
    pub received_reports: u64,
    /// (reason, count), by reason.
    pub rejected: Vec<(String, u64)>,
}

pub struct Journal {
    conn: Connection,
    path: String,
    run_id: i64,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    pid INTEGER NOT NULL,
    started_unix_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sent (
    sequence INTEGER PRIMARY KEY,
    t_unix_us INTEGER NOT NULL,
    kind TEXT NOT NULL,
    rel_to TEXT NOT NULL,
    reports INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'published')),
    bytes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS received (
    origin TEXT NOT NULL,
    node_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    t_unix_us INTEGER NOT NULL,
    send_time_unix_us INTEGER NOT NULL,
    kind TEXT NOT NULL,
    reports INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (origin, node_id, sequence)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    t_unix_us INTEGER NOT NULL,
    origin TEXT,
    node_id TEXT,
    sequence INTEGER,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    bytes BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS rejected_reason ON rejected(reason);
CREATE TABLE IF NOT EXISTS warnings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id TEXT NOT NULL,
    state TEXT NOT NULL,
    time_s REAL NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    mode TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    row TEXT NOT NULL,
    UNIQUE (mode, warning_id, state, time_s)
);
";

/// A public warning this node issued, updated or cancelled. The journal keeps the row as the
/// warnings crate wrote it (`row`, one warnings.csv line) so that a restarted node can rebuild
/// its warning state from exactly what it said.
pub struct WarningRecord<'a> {
    pub warning_id: &'a str,
    pub state: &'a str,
    pub time_s: f64,
    pub kind: &'a str,
    pub region: &'a str,
    /// `shared` (the node's real picture) or `alone` (the comparison without allies).
    pub mode: &'a str,
    pub row: &'a str,
}

impl Journal {
    pub fn open(path: &Path, sync: SyncPolicy) -> Result<Self> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| JournalError::Sqlite {
            path: p.clone(),
            source: e,
        })?;
        Self::init(conn, p, sync)
    }

    /// Opens an existing journal for reading only (no run is recorded), e.g. to inspect a
    /// journal another process is writing.
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let p = path.display().to_string();
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| JournalError::Sqlite {
                path: p.clone(),
                source: e,
            })?;
        Ok(Journal {
            conn,
            path: p,
            run_id: 0,
        })
    }

    pub fn open_in_memory() -> Result<Self> {
        let p = ":memory:".to_string();
        let conn = Connection::open_in_memory().map_err(|e| JournalError::Sqlite {
            path: p.clone(),
            source: e,
        })?;
        Self::init(conn, p, SyncPolicy::Normal)
    }

    fn init(conn: Connection, path: String, sync: SyncPolicy) -> Result<Self> {
        let err = |e| JournalError::Sqlite {
            path: path.clone(),
            source: e,
        };
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(err)?;
        debug_assert!(mode == "wal" || mode == "memory");
        let sync_sql = match sync {
            SyncPolicy::Full => "PRAGMA synchronous=FULL",
            SyncPolicy::Normal => "PRAGMA synchronous=NORMAL",
        };
        conn.execute_batch(sync_sql).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.execute(
            "INSERT INTO runs (pid, started_unix_us) VALUES (?1, ?2)",
            params![std::process::id(), now_unix_us()],
        )
        .map_err(err)?;
        let run_id = conn.last_insert_rowid();
        Ok(Journal { conn, path, run_id })
    }

    fn err(&self, e: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.clone(),
            source: e,
        }
    }

    /// This process's run number (one per `open`), recorded with everything it received.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Runs `f` in one transaction: everything in it is committed together or not at all, and
    /// one commit costs one sync however many rows it holds.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Batch<'_>) -> Result<T>) -> Result<T> {
        let path = self.path.clone();
        let run_id = self.run_id;
        let tx = self.conn.transaction().map_err(|e| JournalError::Sqlite {
            path: path.clone(),
            source: e,
        })?;
        let mut b = Batch {
            tx: &tx,
            path: &path,
            run_id,
        };
        let out = f(&mut b)?;
        tx.commit()
            .map_err(|e| JournalError::Sqlite { path, source: e })?;
        Ok(out)
    }

    /// The sequence number to use next: one past the highest ever journaled as sent.
    pub fn next_sequence(&self) -> Result<u64> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT MAX(sequence) FROM sent", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(max.map_or(1, |m| m as u64 + 1))
    }

    /// Envelopes journaled as sent but not yet acknowledged by the bus, oldest first.
    pub fn pending(&self) -> Result<Vec<(u64, String, Vec<u8>)>> {
        let mut st = self
            .conn
            .prepare("SELECT sequence, rel_to, bytes FROM sent WHERE status = 'pending' ORDER BY sequence")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The most recent `limit` accepted sequence numbers per (origin, node_id), to refill the
    /// replay window after a restart.
    pub fn recent_received(&self, limit: u64) -> Result<Vec<(String, String, u64)>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT r.origin, r.node_id, r.sequence FROM received r
                 JOIN (SELECT origin, node_id, MAX(sequence) AS hi FROM received GROUP BY origin, node_id) m
                   ON r.origin = m.origin AND r.node_id = m.node_id
                 WHERE r.sequence + ?1 > m.hi",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    pub fn counts(&self) -> Result<Counts> {
        let q = |sql: &str| -> Result<u64> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
                .map(|v| v.unwrap_or(0) as u64)
                .map_err(|e| self.err(e))
        };
        let mut c = Counts {
            sent: q("SELECT COUNT(*) FROM sent")?,
            sent_reports: q("SELECT SUM(reports) FROM sent")?,
            pending: q("SELECT COUNT(*) FROM sent WHERE status = 'pending'")?,
            received: q("SELECT COUNT(*) FROM received")?,
            received_reports: q("SELECT SUM(reports) FROM received")?,
            rejected: Vec::new(),
        };
        let mut st = self
            .conn
            .prepare("SELECT reason, COUNT(*) FROM rejected GROUP BY reason ORDER BY reason")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .map_err(|e| self.err(e))?;
        c.rejected = rows
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))?;
        Ok(c)
    }

    /// Every warning row journaled for `mode`, in the order issued (time, then insertion).
    pub fn warnings(&self, mode: &str) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT row FROM warnings WHERE mode = ?1 ORDER BY time_s, id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([mode], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// Read access for reports and tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// The writes of one transaction.
pub struct Batch<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    path: &'a str,
    run_id: i64,
}

impl Batch<'_> {
    fn err(&self, e: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.to_string(),
            source: e,
        }
    }

    /// Records a warning row; the same (mode, id, state, time) again is a no-op, so replaying
    /// a run's warnings into its journal never doubles one. Returns whether it was new.
    pub fn warning(&mut self, w: &WarningRecord<'_>) -> Result<bool> {
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO warnings (warning_id, state, time_s, kind, region, mode, run_id, row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    w.warning_id,
                    w.state,
                    w.time_s,
                    w.kind,
                    w.region,
                    w.mode,
                    self.run_id,
                    w.row
                ])
            })
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }

    pub fn sent(&mut self, s: &Sent<'_>) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sent (sequence, t_unix_us, kind, rel_to, reports, status, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    s.sequence as i64,
                    s.t_unix_us,
                    s.kind,
                    s.rel_to,
                    s.reports,
                    s.bytes
                ])
            })
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn published(&mut self, sequence: u64) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE sent SET status = 'published' WHERE sequence = ?1")
            .and_then(|mut st| st.execute([sequence as i64]))
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Returns false, and writes nothing, if (origin, node_id, sequence) is already journaled:
    /// the caller must then not process it again.
    pub fn received(&mut self, r: &Received<'_>) -> Result<bool> {
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO received
                 (origin, node_id, sequence, t_unix_us, send_time_unix_us, kind, reports, run_id, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    r.origin,
                    r.node_id,
                    r.sequence as i64,
                    r.t_unix_us,
                    r.send_time_unix_us,
                    r.kind,
                    r.reports,
                    self.run_id,
                    r.bytes
                ])
            })
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }

    pub fn rejected(&mut self, r: &RejectedRow<'_>) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO rejected (t_unix_us, origin, node_id, sequence, reason, detail, run_id, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    r.t_unix_us,
                    r.origin,
                    r.node_id,
                    r.sequence.map(|s| s as i64),
                    r.reason,
                    r.detail,
                    self.run_id,
                    r.bytes
                ])
            })
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Whether (origin, node_id, sequence) is already journaled as received.
    pub fn has_received(&mut self, origin: &str, node_id: &str, sequence: u64) -> Result<bool> {
        self.tx
            .prepare_cached(
                "SELECT 1 FROM received WHERE origin = ?1 AND node_id = ?2 AND sequence = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![origin, node_id, sequence as i64], |_| Ok(()))
                    .optional()
            })
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }
}

pub fn now_unix_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_warning_journaled_twice_is_kept_once_and_read_back_in_order() {
        let mut j = Journal::open_in_memory().unwrap();
        let rec =
            |id: &'static str, state: &'static str, t: f64, row: &'static str| WarningRecord {
                warning_id: id,
                state,
                time_s: t,
                kind: "impact",
                region: "Aomori",
                mode: "shared",
                row,
            };
        let fresh = j
            .batch(|b| {
                Ok((
                    b.warning(&rec("JP-2", "issued", 90.0, "b"))?,
                    b.warning(&rec("JP-1", "issued", 40.0, "a"))?,
                    b.warning(&rec("JP-1", "issued", 40.0, "a"))?,
                ))
            })
            .unwrap();
        assert_eq!(fresh, (true, true, false));
        assert_eq!(j.warnings("shared").unwrap(), vec!["a", "b"]);
        assert!(j.warnings("alone").unwrap().is_empty());
    }

    use super::*;

    fn rx<'a>(origin: &'a str, seq: u64) -> Received<'a> {
        Received {
            origin,
            node_id: "n1",
            sequence: seq,
            t_unix_us: 2,
            send_time_unix_us: 1,
            kind: "tracks",
            reports: 3,
            bytes: b"x",
        }
    }

    #[test]
    fn received_is_idempotent_on_origin_node_and_sequence() {
        let mut j = Journal::open_in_memory().unwrap();
        let fresh = j
            .batch(|b| {
                Ok([
                    b.received(&rx("KR", 1))?,
                    b.received(&rx("KR", 1))?,
                    b.received(&rx("JP", 1))?,
                ])
            })
            .unwrap();
        assert_eq!(fresh, [true, false, true]);
        assert_eq!(j.counts().unwrap().received, 2);
        assert_eq!(j.counts().unwrap().received_reports, 6);
    }

    #[test]
    fn survives_reopen_with_sequence_pending_and_replay_state() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.sqlite");
        {
            let mut j = Journal::open(&p, SyncPolicy::Full).unwrap();
            assert_eq!(j.next_sequence().unwrap(), 1);
            j.batch(|b| {
                for s in 1..=3 {
                    b.sent(&Sent {
                        sequence: s,
                        t_unix_us: 0,
                        kind: "tracks",
                        rel_to: "US",
                        reports: 1,
                        bytes: b"e",
                    })?;
                }
                b.published(1)?;
                for s in 1..=10 {
                    b.received(&rx("KR", s))?;
                }
                b.rejected(&RejectedRow {
                    t_unix_us: 0,
                    origin: None,
                    node_id: None,
                    sequence: None,
                    reason: "undecodable",
                    detail: "junk",
                    bytes: b"junk",
                })
            })
            .unwrap();
        }
        let j = Journal::open(&p, SyncPolicy::Full).unwrap();
        assert_eq!(j.run_id(), 2);
        assert_eq!(j.next_sequence().unwrap(), 4);
        let pend: Vec<u64> = j.pending().unwrap().into_iter().map(|p| p.0).collect();
        assert_eq!(pend, vec![2, 3]);
        let mut recent: Vec<u64> = j
            .recent_received(4)
            .unwrap()
            .into_iter()
            .map(|r| r.2)
            .collect();
        recent.sort();
        assert_eq!(recent, vec![7, 8, 9, 10]);
        assert_eq!(
            j.counts().unwrap().rejected,
            vec![("undecodable".to_string(), 1)]
        );
        let mode: String = j
            .connection()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_failed_batch_writes_nothing() {
        let mut j = Journal::open_in_memory().unwrap();
        let r = j.batch(|b| {
            b.sent(&Sent {
                sequence: 1,
                t_unix_us: 0,
                kind: "t",
                rel_to: "US",
                reports: 1,
                bytes: b"",
            })?;
            // Same sequence twice violates the primary key.
            b.sent(&Sent {
                sequence: 1,
                t_unix_us: 0,
                kind: "t",
                rel_to: "US",
                reports: 1,
                bytes: b"",
            })
        });
        assert!(r.is_err());
        assert_eq!(j.counts().unwrap().sent, 0);
    }
}
