use std::fs;
use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::{InterchangeError, Record};

/// Writes one interchange file atomically: rows go to a hidden temporary file in the target's
/// directory, which [`CsvWriter::finish`] flushes, syncs and renames over the target. Dropping the
/// writer without finishing removes the temporary file and leaves any old target untouched.
pub struct CsvWriter<T: Record> {
    target: PathBuf,
    out: BufWriter<NamedTempFile>,
    rows: u64,
    _row: PhantomData<T>,
}

impl<T: Record> CsvWriter<T> {
    pub fn create(target: &Path) -> Result<Self, InterchangeError> {
        let err = |source| InterchangeError::Write {
            file: target.to_path_buf(),
            source,
        };
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".trilink-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(err)?;
        let mut out = BufWriter::with_capacity(1 << 20, tmp);
        writeln!(out, "{}", T::COLUMNS.join(",")).map_err(err)?;
        Ok(Self {
            target: target.to_path_buf(),
            out,
            rows: 0,
            _row: PhantomData,
        })
    }

    pub fn write(&mut self, row: &T) -> Result<(), InterchangeError> {
        let result = row
            .write_row(&mut self.out)
            .and_then(|()| self.out.write_all(b"\n"));
        result.map_err(|source| InterchangeError::Write {
            file: self.target.clone(),
            source,
        })?;
        self.rows += 1;
        Ok(())
    }

    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Makes the file visible under its final name. Returns the number of rows written.
    pub fn finish(self) -> Result<u64, InterchangeError> {
        let target = self.target;
        let err = |source| InterchangeError::Write {
            file: target.clone(),
            source,
        };
        let tmp = self.out.into_inner().map_err(|e| err(e.into_error()))?;
        // The temporary file is created private (0600); the result is an ordinary data file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(fs::Permissions::from_mode(0o644))
                .map_err(err)?;
        }
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(&target).map_err(|e| err(e.error))?;
        Ok(self.rows)
    }
}

/// Writes all rows to `target` atomically.
pub fn write_all<'a, T: Record + 'a>(
    target: &Path,
    rows: impl IntoIterator<Item = &'a T>,
) -> Result<u64, InterchangeError> {
    let mut w = CsvWriter::create(target)?;
    for row in rows {
        w.write(row)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_all, TrackRow};

    #[test]
    fn written_rows_read_back_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tracks.csv");
        let row = TrackRow {
            time_s: 0.1 + 0.2,
            track_id: 7,
            x_m: -3_123_456.789_012_345,
            y_m: 4.0e6 / 3.0,
            z_m: f64::MIN_POSITIVE,
            vx_mps: 1e-300,
            vy_mps: -0.0,
            vz_mps: 7_000.125,
            cov_xx: 1e4,
            cov_xy: -3.3,
            cov_xz: 0.0,
            cov_yy: 2e4,
            cov_yz: 1.0 / 7.0,
            cov_zz: 9e4,
        };
        write_all(&path, [&row]).unwrap();
        let back: Vec<TrackRow> = read_all(&path).unwrap();
        assert_eq!(back, vec![row]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(
                mode, 0o644,
                "an output file is readable by others, like any data file"
            );
        }
    }

    #[test]
    fn unfinished_writer_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tracks.csv");
        {
            let w = CsvWriter::<TrackRow>::create(&path).unwrap();
            drop(w);
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
