use std::fs::File;
use std::io::{BufReader, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use csv::{ErrorKind, StringRecord};

use crate::{InterchangeError, Record};

/// Reads rows of one interchange file one at a time, so a consumer can stream a file far larger
/// than memory. Yields `Err` for the first bad row and nothing after it.
pub struct CsvReader<T: Record, R: Read = BufReader<File>> {
    file: PathBuf,
    inner: csv::Reader<R>,
    headers: StringRecord,
    record: StringRecord,
    failed: bool,
    _row: PhantomData<T>,
}

fn expected_columns<T: Record>() -> String {
    T::COLUMNS.join(",")
}

impl<T: Record> CsvReader<T> {
    pub fn open(path: &Path) -> Result<Self, InterchangeError> {
        let file = File::open(path).map_err(|source| InterchangeError::Open {
            file: path.to_path_buf(),
            source,
        })?;
        Self::from_reader(path, BufReader::with_capacity(1 << 16, file))
    }
}

impl<T: Record, R: Read> CsvReader<T, R> {
    /// Reads from any byte source; `name` is used in error messages in place of a path.
    pub fn from_reader(name: &Path, reader: R) -> Result<Self, InterchangeError> {
        let file = name.to_path_buf();
        // Fields are trimmed in `next` only when they need it: csv's own field trimming copies
        // every record twice (a byte pass, then a Unicode pass), a tenth of reading time.
        let mut inner = csv::ReaderBuilder::new()
            .trim(csv::Trim::Headers)
            .from_reader(reader);
        let headers = inner
            .headers()
            .map_err(|e| InterchangeError::Malformed {
                file: file.clone(),
                line: 1,
                message: e.to_string(),
            })?
            .clone();
        if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
            return Err(InterchangeError::Empty {
                file,
                expected: expected_columns::<T>(),
            });
        }
        for &column in T::COLUMNS {
            if !headers.iter().any(|h| h == column) {
                return Err(InterchangeError::MissingColumn {
                    file,
                    column,
                    expected: expected_columns::<T>(),
                });
            }
        }
        Ok(Self {
            file,
            inner,
            headers,
            record: StringRecord::new(),
            failed: false,
            _row: PhantomData,
        })
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The 1-based line of the row most recently returned.
    pub fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    fn row_error(&self, e: csv::Error) -> InterchangeError {
        let line = e.position().map_or_else(|| self.line(), |p| p.line());
        let file = self.file.clone();
        match e.kind() {
            ErrorKind::UnequalLengths { expected_len, len, .. } => InterchangeError::Malformed {
                file,
                line,
                message: format!(
                    "row has {len} fields but the header has {expected_len} (truncated or malformed line)"
                ),
            },
            ErrorKind::Deserialize { err, .. } => {
                let column_index = err.field().map(|i| i as usize);
                let column = column_index.and_then(|i| self.headers.get(i)).unwrap_or("?").to_string();
                let value = column_index.and_then(|i| self.record.get(i)).unwrap_or("").to_string();
                InterchangeError::Malformed {
                    file,
                    line,
                    message: format!("column `{column}` = {value:?}: {}", err.kind()),
                }
            }
            _ => InterchangeError::Malformed { file, line, message: e.to_string() },
        }
    }
}

impl<T: Record, R: Read> Iterator for CsvReader<T, R> {
    type Item = Result<T, InterchangeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let read = self.inner.read_record(&mut self.record);
        if self.record.iter().any(|f| f.trim().len() != f.len()) {
            // The same Unicode trim as `csv::Trim::All`; keeps the record's position.
            self.record.trim();
        }
        let result = match read {
            Ok(false) => return None,
            Ok(true) => match self.record.deserialize::<T>(Some(&self.headers)) {
                Ok(row) => match row.check() {
                    Ok(()) => Ok(row),
                    Err((column, value, expected)) => Err(InterchangeError::BadValue {
                        file: self.file.clone(),
                        line: self.line(),
                        column,
                        value,
                        expected,
                    }),
                },
                Err(e) => Err(self.row_error(e)),
            },
            Err(e) => Err(self.row_error(e)),
        };
        self.failed = result.is_err();
        Some(result)
    }
}

/// Reads a whole file into memory.
pub fn read_all<T: Record>(path: &Path) -> Result<Vec<T>, InterchangeError> {
    CsvReader::<T>::open(path)?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DetectionRow, SensorRow, TruthRow};

    fn read<T: Record>(text: &str) -> Result<Vec<T>, InterchangeError> {
        CsvReader::<T, _>::from_reader(Path::new("test.csv"), text.as_bytes())?.collect()
    }

    #[test]
    fn unknown_columns_are_ignored_and_order_is_free() {
        let rows: Vec<SensorRow> =
            read("note,alt_m,nation,sensor_id,lat_deg,lon_deg\nhello,12.5,JP,J1,35.1,139.2\n")
                .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].sensor_id, "J1");
        assert_eq!(rows[0].alt_m, 12.5);
    }

    #[test]
    fn spaces_around_fields_and_headers_are_ignored() {
        let rows: Vec<DetectionRow> = read(
            " time_s , sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad\n\
             1.5,S1,1000,0.1,0.2,30,0.001,0.001\n\
             \t2.5 , S2\u{a0},  2000,0.1,0.2,30,0.001,0.001 \n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].time_s, rows[0].sensor_id.as_str()), (1.5, "S1"));
        assert_eq!(
            (rows[1].time_s, rows[1].sensor_id.as_str(), rows[1].range_m),
            (2.5, "S2", 2000.0)
        );
        // A bad value after padding still names its line and column.
        let err = read::<DetectionRow>(
            "time_s,sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad\n\
             1,S,1000,0.1,0.2,30,0.001,0.001\n\
             2 , S , x ,0.1,0.2,30,0.001,0.001\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("test.csv:3") && msg.contains("range_m"),
            "{msg}"
        );
    }

    #[test]
    fn missing_column_names_the_column() {
        let err = read::<SensorRow>("sensor_id,nation,lat_deg,lon_deg\nA,KR,1,2\n").unwrap_err();
        assert!(
            matches!(
                err,
                InterchangeError::MissingColumn {
                    column: "alt_m",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn nan_value_names_line_and_column() {
        let text = "time_s,object_id,x_m,y_m,z_m,vx_mps,vy_mps,vz_mps\n0,1,1,2,3,4,5,6\n0.1,1,NaN,2,3,4,5,6\n";
        let err = read::<TruthRow>(text).unwrap_err();
        match err {
            InterchangeError::BadValue { line, column, .. } => {
                assert_eq!((line, column), (3, "x_m"));
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn negative_sigma_is_rejected() {
        let text = "time_s,sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad\n\
                    1,S,1000,0.1,0.2,-5,0.001,0.001\n";
        let err = read::<DetectionRow>(text).unwrap_err();
        assert!(
            matches!(
                err,
                InterchangeError::BadValue {
                    column: "sigma_range_m",
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn truncated_last_line_is_reported_with_its_line() {
        let text = "sensor_id,nation,lat_deg,lon_deg,alt_m\nA,KR,1,2,3\nB,JP,4";
        let err = read::<SensorRow>(text).unwrap_err();
        assert!(
            matches!(err, InterchangeError::Malformed { line: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn text_in_a_number_column_names_the_column() {
        let err = read::<SensorRow>("sensor_id,nation,lat_deg,lon_deg,alt_m\nA,KR,north,2,3\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("test.csv:2") && msg.contains("lat_deg"),
            "{msg}"
        );
    }

    #[test]
    fn empty_file_says_what_header_is_expected() {
        let err = read::<SensorRow>("").unwrap_err();
        assert!(err.to_string().contains("sensor_id,nation"), "{err}");
    }
}
