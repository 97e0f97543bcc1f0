use std::io::{self, Write};

use serde::Deserialize;

use crate::fastfmt::write_fields;

/// A row of one of the interchange files.
pub trait Record: for<'de> Deserialize<'de> {
    /// The named columns, in order, exactly as the contract spells them.
    const COLUMNS: &'static [&'static str];

    /// Checks values a type cannot: finiteness, signs, ranges. Returns the offending column, its
    /// value and what was expected.
    fn check(&self) -> Result<(), (&'static str, String, &'static str)>;

    /// Writes the row (without newline) in column order. Floats use Rust's shortest round-trip
    /// form, so reading a file back gives the very same numbers.
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()>;
}

fn finite(column: &'static str, v: f64) -> Result<(), (&'static str, String, &'static str)> {
    if v.is_finite() {
        Ok(())
    } else {
        Err((column, v.to_string(), "a finite number"))
    }
}

fn positive(column: &'static str, v: f64) -> Result<(), (&'static str, String, &'static str)> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err((column, v.to_string(), "a finite number greater than zero"))
    }
}

fn non_negative(column: &'static str, v: f64) -> Result<(), (&'static str, String, &'static str)> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err((column, v.to_string(), "a finite number not below zero"))
    }
}

fn identifier(column: &'static str, s: &str) -> Result<(), (&'static str, String, &'static str)> {
    if !s.is_empty() && !s.contains([',', '"', '\n', '\r']) {
        Ok(())
    } else {
        Err((
            column,
            format!("{s:?}"),
            "a non-empty identifier without commas, quotes or newlines",
        ))
    }
}

macro_rules! check_all {
    ($($e:expr),* $(,)?) => {{ $($e?;)* Ok(()) }};
}

/// `sensors.csv`: one row per sensor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SensorRow {
    pub sensor_id: String,
    pub nation: String,
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub alt_m: f64,
}

impl Record for SensorRow {
    const COLUMNS: &'static [&'static str] =
        &["sensor_id", "nation", "lat_deg", "lon_deg", "alt_m"];
    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        check_all!(
            identifier("sensor_id", &self.sensor_id),
            identifier("nation", &self.nation),
            finite("lat_deg", self.lat_deg),
            if (-90.0..=90.0).contains(&self.lat_deg) {
                Ok(())
            } else {
                Err((
                    "lat_deg",
                    self.lat_deg.to_string(),
                    "a latitude in [-90, 90]",
                ))
            },
            finite("lon_deg", self.lon_deg),
            finite("alt_m", self.alt_m),
        )
    }
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        write_fields(
            w,
            &[
                &self.sensor_id,
                &self.nation,
                &self.lat_deg,
                &self.lon_deg,
                &self.alt_m,
            ],
        )
    }
}

/// `detections.csv`: one row per detection, in time order; false alarms are ordinary rows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DetectionRow {
    pub time_s: f64,
    pub sensor_id: String,
    pub range_m: f64,
    pub azimuth_rad: f64,
    pub elevation_rad: f64,
    pub sigma_range_m: f64,
    pub sigma_azimuth_rad: f64,
    pub sigma_elevation_rad: f64,
}

impl Record for DetectionRow {
    const COLUMNS: &'static [&'static str] = &[
        "time_s",
        "sensor_id",
        "range_m",
        "azimuth_rad",
        "elevation_rad",
        "sigma_range_m",
        "sigma_azimuth_rad",
        "sigma_elevation_rad",
    ];
    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        check_all!(
            finite("time_s", self.time_s),
            identifier("sensor_id", &self.sensor_id),
            non_negative("range_m", self.range_m),
            finite("azimuth_rad", self.azimuth_rad),
            finite("elevation_rad", self.elevation_rad),
            positive("sigma_range_m", self.sigma_range_m),
            positive("sigma_azimuth_rad", self.sigma_azimuth_rad),
            positive("sigma_elevation_rad", self.sigma_elevation_rad),
        )
    }
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        write_fields(
            w,
            &[
                &self.time_s,
                &self.sensor_id,
                &self.range_m,
                &self.azimuth_rad,
                &self.elevation_rad,
                &self.sigma_range_m,
                &self.sigma_azimuth_rad,
                &self.sigma_elevation_rad,
            ],
        )
    }
}

/// `truth.csv`: ECEF state of every object, at 10 Hz or faster.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TruthRow {
    pub time_s: f64,
    pub object_id: u64,
    pub x_m: f64,
    pub y_m: f64,
    pub z_m: f64,
    pub vx_mps: f64,
    pub vy_mps: f64,
    pub vz_mps: f64,
}

impl Record for TruthRow {
    const COLUMNS: &'static [&'static str] = &[
        "time_s",
        "object_id",
        "x_m",
        "y_m",
        "z_m",
        "vx_mps",
        "vy_mps",
        "vz_mps",
    ];
    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        check_all!(
            finite("time_s", self.time_s),
            finite("x_m", self.x_m),
            finite("y_m", self.y_m),
            finite("z_m", self.z_m),
            finite("vx_mps", self.vx_mps),
            finite("vy_mps", self.vy_mps),
            finite("vz_mps", self.vz_mps),
        )
    }
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        write_fields(
            w,
            &[
                &self.time_s,
                &self.object_id,
                &self.x_m,
                &self.y_m,
                &self.z_m,
                &self.vx_mps,
                &self.vy_mps,
                &self.vz_mps,
            ],
        )
    }
}

/// `labels.csv`: the answer key for evaluation, one row per detection row in the same order;
/// `object_id` 0 marks a false alarm.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LabelRow {
    pub time_s: f64,
    pub sensor_id: String,
    pub object_id: u64,
}

impl Record for LabelRow {
    const COLUMNS: &'static [&'static str] = &["time_s", "sensor_id", "object_id"];
    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        check_all!(
            finite("time_s", self.time_s),
            identifier("sensor_id", &self.sensor_id)
        )
    }
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        write_fields(w, &[&self.time_s, &self.sensor_id, &self.object_id])
    }
}

/// `tracks.csv`: one row per confirmed track per update; position covariance upper triangle.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TrackRow {
    pub time_s: f64,
    pub track_id: u64,
    pub x_m: f64,
    pub y_m: f64,
    pub z_m: f64,
    pub vx_mps: f64,
    pub vy_mps: f64,
    pub vz_mps: f64,
    pub cov_xx: f64,
    pub cov_xy: f64,
    pub cov_xz: f64,
    pub cov_yy: f64,
    pub cov_yz: f64,
    pub cov_zz: f64,
}

impl Record for TrackRow {
    const COLUMNS: &'static [&'static str] = &[
        "time_s", "track_id", "x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps", "cov_xx",
        "cov_xy", "cov_xz", "cov_yy", "cov_yz", "cov_zz",
    ];
    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        check_all!(
            finite("time_s", self.time_s),
            finite("x_m", self.x_m),
            finite("y_m", self.y_m),
            finite("z_m", self.z_m),
            finite("vx_mps", self.vx_mps),
            finite("vy_mps", self.vy_mps),
            finite("vz_mps", self.vz_mps),
            non_negative("cov_xx", self.cov_xx),
            finite("cov_xy", self.cov_xy),
            finite("cov_xz", self.cov_xz),
            non_negative("cov_yy", self.cov_yy),
            finite("cov_yz", self.cov_yz),
            non_negative("cov_zz", self.cov_zz),
        )
    }
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        write_fields(
            w,
            &[
                &self.time_s,
                &self.track_id,
                &self.x_m,
                &self.y_m,
                &self.z_m,
                &self.vx_mps,
                &self.vy_mps,
                &self.vz_mps,
                &self.cov_xx,
                &self.cov_xy,
                &self.cov_xz,
                &self.cov_yy,
                &self.cov_yz,
                &self.cov_zz,
            ],
        )
    }
}

/// `impacts.csv`: each new impact-point prediction with its 95 % ellipse (orientation of the
/// major axis clockwise from north).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ImpactRow {
    pub time_s: f64,
    pub track_id: u64,
    pub impact_time_s: f64,
    pub impact_lat_deg: f64,
    pub impact_lon_deg: f64,
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    pub orientation_deg: f64,
}

impl Record for ImpactRow {
    const COLUMNS: &'static [&'static str] = &[
        "time_s",
        "track_id",
        "impact_time_s",
        "impact_lat_deg",
        "impact_lon_deg",
        "semi_major_m",
        "semi_minor_m",
        "orientation_deg",
    ];
    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        check_all!(
            finite("time_s", self.time_s),
            finite("impact_time_s", self.impact_time_s),
            finite("impact_lat_deg", self.impact_lat_deg),
            finite("impact_lon_deg", self.impact_lon_deg),
            non_negative("semi_major_m", self.semi_major_m),
            non_negative("semi_minor_m", self.semi_minor_m),
            finite("orientation_deg", self.orientation_deg),
        )
    }
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        write_fields(
            w,
            &[
                &self.time_s,
                &self.track_id,
                &self.impact_time_s,
                &self.impact_lat_deg,
                &self.impact_lon_deg,
                &self.semi_major_m,
                &self.semi_minor_m,
                &self.orientation_deg,
            ],
        )
    }
}

/// `launches.csv`: the estimated launch point of a track with its 95 % ellipse.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LaunchRow {
    pub track_id: u64,
    pub launch_time_s: f64,
    pub launch_lat_deg: f64,
    pub launch_lon_deg: f64,
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    pub orientation_deg: f64,
}

impl Record for LaunchRow {
    const COLUMNS: &'static [&'static str] = &[
        "track_id",
        "launch_time_s",
        "launch_lat_deg",
        "launch_lon_deg",
        "semi_major_m",
        "semi_minor_m",
        "orientation_deg",
    ];
    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        check_all!(
            finite("launch_time_s", self.launch_time_s),
            finite("launch_lat_deg", self.launch_lat_deg),
            finite("launch_lon_deg", self.launch_lon_deg),
            non_negative("semi_major_m", self.semi_major_m),
            non_negative("semi_minor_m", self.semi_minor_m),
            finite("orientation_deg", self.orientation_deg),
        )
    }
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        write_fields(
            w,
            &[
                &self.track_id,
                &self.launch_time_s,
                &self.launch_lat_deg,
                &self.launch_lon_deg,
                &self.semi_major_m,
                &self.semi_minor_m,
                &self.orientation_deg,
            ],
        )
    }
}

#[cfg(test)]
mod write_tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn bytes<T: Record>(r: &T) -> String {
        let mut out = Vec::new();
        r.write_row(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Every row type writes exactly what `format!` with `{}` wrote before the fast path, for
    /// values of the sizes the files hold and for arbitrary bit patterns.
    #[test]
    fn rows_match_std_display() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for i in 0..20_000u64 {
            let mut f = || {
                if rng.random_bool(0.2) {
                    f64::from_bits(rng.random::<u64>())
                } else {
                    (rng.random::<f64>() - 0.5) * 10f64.powi(rng.random_range(-4..8))
                }
            };
            let (a, b, c, d, e, g, h) = (f(), f(), f(), f(), f(), f(), f());
            let t = TrackRow {
                time_s: a,
                track_id: i,
                x_m: b,
                y_m: c,
                z_m: d,
                vx_mps: e,
                vy_mps: g,
                vz_mps: h,
                cov_xx: a * b,
                cov_xy: -0.0,
                cov_xz: 0.0,
                cov_yy: c,
                cov_yz: d,
                cov_zz: e,
            };
            assert_eq!(
                bytes(&t),
                format!(
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    t.time_s,
                    t.track_id,
                    t.x_m,
                    t.y_m,
                    t.z_m,
                    t.vx_mps,
                    t.vy_mps,
                    t.vz_mps,
                    t.cov_xx,
                    t.cov_xy,
                    t.cov_xz,
                    t.cov_yy,
                    t.cov_yz,
                    t.cov_zz
                )
            );
            let tr = TruthRow {
                time_s: a,
                object_id: i * 977,
                x_m: b,
                y_m: c,
                z_m: d,
                vx_mps: e,
                vy_mps: g,
                vz_mps: h,
            };
            assert_eq!(
                bytes(&tr),
                format!("{},{},{},{},{},{},{},{}", a, tr.object_id, b, c, d, e, g, h)
            );
            let det = DetectionRow {
                time_s: a,
                sensor_id: "JP-EW-NORTH".into(),
                range_m: b,
                azimuth_rad: c,
                elevation_rad: d,
                sigma_range_m: e,
                sigma_azimuth_rad: g,
                sigma_elevation_rad: h,
            };
            assert_eq!(
                bytes(&det),
                format!("{a},JP-EW-NORTH,{b},{c},{d},{e},{g},{h}")
            );
            let imp = ImpactRow {
                time_s: a,
                track_id: i,
                impact_time_s: b,
                impact_lat_deg: c,
                impact_lon_deg: d,
                semi_major_m: e,
                semi_minor_m: g,
                orientation_deg: h,
            };
            assert_eq!(bytes(&imp), format!("{a},{i},{b},{c},{d},{e},{g},{h}"));
            let l = LaunchRow {
                track_id: i,
                launch_time_s: a,
                launch_lat_deg: b,
                launch_lon_deg: c,
                semi_major_m: d,
                semi_minor_m: e,
                orientation_deg: g,
            };
            assert_eq!(bytes(&l), format!("{i},{a},{b},{c},{d},{e},{g}"));
            let lab = LabelRow {
                time_s: a,
                sensor_id: "S1".into(),
                object_id: i,
            };
            assert_eq!(bytes(&lab), format!("{a},S1,{i}"));
            let s = SensorRow {
                sensor_id: "KR-1".into(),
                nation: "KR".into(),
                lat_deg: b,
                lon_deg: c,
                alt_m: d,
            };
            assert_eq!(bytes(&s), format!("KR-1,KR,{b},{c},{d}"));
        }
    }
}
