//! The shareable track report and its checks.
//!
//! Sanitisation is by construction: [`TrackReport`] (and its protobuf form) has fields for the
//! track only. Whatever a tracker knows about which sensor saw what stays in the tracker's own
//! types; converting to a `TrackReport` cannot carry it.
use crate::pb;
pub use trilink_domain::track::{FlightPhase, PointEstimate, Provenance, TrackEstimate};
use trilink_domain::Nation;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ReportError {
    #[error("track {track_number}: field {field} is not finite ({value})")]
    NonFinite {
        track_number: u64,
        field: &'static str,
        value: f64,
    },
    #[error("track {track_number}: covariance is not symmetric positive-definite (pivot {pivot} of the Cholesky factorisation is {value:e})")]
    NotSpd {
        track_number: u64,
        pivot: usize,
        value: f64,
    },
    #[error(
        "track {track_number}: covariance has {len} values, expected 21 (upper triangle of 6x6)"
    )]
    CovarianceLength { track_number: u64, len: usize },
    #[error("track {track_number}: no state")]
    MissingState { track_number: u64 },
    #[error("track {track_number}: quality {value} is outside [0, 1]")]
    Quality { track_number: u64, value: f64 },
    #[error("track {track_number}: source {value:?} is not a nation code")]
    BadSource { track_number: u64, value: String },
}

/// One national track at one time, as shared with allies.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackReport {
    pub track_number: u64,
    pub time_s: f64,
    /// ECEF (x, y, z) in m, (vx, vy, vz) in m/s.
    pub state: [f64; 6],
    /// Upper triangle of the 6x6 covariance, row by row (see the .proto file).
    pub covariance_upper: [f64; 21],
    pub quality: f64,
    pub phase: FlightPhase,
    pub launch: Option<PointEstimate>,
    pub impact: Option<PointEstimate>,
    /// Who the information is from, when it is more than the origin's own national track.
    pub provenance: Provenance,
}

/// Index of (row, col) of a symmetric 6x6 matrix in the row-major upper triangle.
pub fn upper_index(row: usize, col: usize) -> usize {
    let (r, c) = if row <= col { (row, col) } else { (col, row) };
    // Rows before r contribute 6 + 5 + ... entries.
    r * 6 - r * (r.saturating_sub(1)) / 2 + (c - r)
}

/// Packs a full 6x6 covariance into the upper triangle.
pub fn pack_upper(full: &[[f64; 6]; 6]) -> [f64; 21] {
    let mut out = [0.0; 21];
    for r in 0..6 {
        for c in r..6 {
            out[upper_index(r, c)] = full[r][c];
        }
    }
    out
}

/// Cholesky factorisation of the symmetric matrix given by its upper triangle. Returns the
/// first non-positive pivot, if any. A pivot must exceed a tiny fraction of the diagonal's
/// scale so that a matrix that is only positive-definite by rounding is refused.
// The negated comparison also rejects NaN, which the flipped comparison would let through.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub fn check_spd(upper: &[f64; 21]) -> Result<(), (usize, f64)> {
    let mut l = [[0.0f64; 6]; 6];
    let scale = (0..6)
        .map(|i| upper[upper_index(i, i)].abs())
        .fold(0.0, f64::max);
    let floor = scale * 1e-15;
    for j in 0..6 {
        let mut d = upper[upper_index(j, j)];
        for &ljk in &l[j][..j] {
            d -= ljk * ljk;
        }
        if !(d > floor) {
            return Err((j, d));
        }
        let djj = d.sqrt();
        l[j][j] = djj;
        for i in (j + 1)..6 {
            let mut s = upper[upper_index(i, j)];
            for (lik, ljk) in l[i][..j].iter().zip(&l[j][..j]) {
                s -= lik * ljk;
            }
            l[i][j] = s / djj;
        }
    }
    Ok(())
}

impl TrackReport {
    /// Checks what a receiver must refuse: non-finite numbers, a covariance that is not
    /// symmetric positive-definite (symmetry holds by the packed form), a quality out of range.
    pub fn validate(&self) -> Result<(), ReportError> {
        let tn = self.track_number;
        let nf = |field: &'static str, value: f64| ReportError::NonFinite {
            track_number: tn,
            field,
            value,
        };
        if !self.time_s.is_finite() {
            return Err(nf("time_s", self.time_s));
        }
        const STATE: [&str; 6] = ["x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps"];
        for (v, name) in self.state.iter().zip(STATE) {
            if !v.is_finite() {
                return Err(nf(name, *v));
            }
        }
        for v in &self.covariance_upper {
            if !v.is_finite() {
                return Err(nf("covariance_upper", *v));
            }
        }
        if !self.quality.is_finite() {
            return Err(nf("quality", self.quality));
        }
        if !(0.0..=1.0).contains(&self.quality) {
            return Err(ReportError::Quality {
                track_number: tn,
                value: self.quality,
            });
        }
        for (p, name) in [(&self.launch, "launch"), (&self.impact, "impact")] {
            if let Some(p) = p {
                for v in [
                    p.time_s,
                    p.lat_deg,
                    p.lon_deg,
                    p.semi_major_m,
                    p.semi_minor_m,
                    p.orientation_deg,
                ] {
                    if !v.is_finite() {
                        return Err(nf(name, v));
                    }
                }
            }
        }
        check_spd(&self.covariance_upper).map_err(|(pivot, value)| ReportError::NotSpd {
            track_number: tn,
            pivot,
            value,
        })
    }

    pub fn to_pb(&self) -> pb::TrackReport {
        let s = &self.state;
        pb::TrackReport {
            track_number: self.track_number,
            time_s: self.time_s,
            state: Some(pb::EcefState {
                x_m: s[0],
                y_m: s[1],
                z_m: s[2],
                vx_mps: s[3],
                vy_mps: s[4],
                vz_mps: s[5],
            }),
            covariance_upper: self.covariance_upper.to_vec(),
            quality: self.quality,
            phase: phase_to_pb(self.phase) as i32,
            launch: self.launch.map(point_to_pb),
            impact: self.impact.map(point_to_pb),
            sources: self
                .provenance
                .nations
                .iter()
                .map(|n| n.as_str().to_string())
                .collect(),
            common_track: self.provenance.common_track.unwrap_or(0),
        }
    }

    /// Converts from the wire form, checking shape only; call [`TrackReport::validate`] for
    /// the numbers.
    pub fn from_pb(p: &pb::TrackReport) -> Result<Self, ReportError> {
        let tn = p.track_number;
        let s = p
            .state
            .as_ref()
            .ok_or(ReportError::MissingState { track_number: tn })?;
        let covariance_upper: [f64; 21] =
            p.covariance_upper.as_slice().try_into().map_err(|_| {
                ReportError::CovarianceLength {
                    track_number: tn,
                    len: p.covariance_upper.len(),
                }
            })?;
        Ok(TrackReport {
            track_number: tn,
            time_s: p.time_s,
            state: [s.x_m, s.y_m, s.z_m, s.vx_mps, s.vy_mps, s.vz_mps],
            covariance_upper,
            quality: p.quality,
            phase: phase_from_pb(p.phase),
            launch: p.launch.as_ref().map(point_from_pb),
            impact: p.impact.as_ref().map(point_from_pb),
            provenance: Provenance {
                nations: p
                    .sources
                    .iter()
                    .map(|s| {
                        s.parse::<Nation>().map_err(|_| ReportError::BadSource {
                            track_number: tn,
                            value: s.clone(),
                        })
                    })
                    .collect::<Result<_, _>>()?,
                common_track: (p.common_track != 0).then_some(p.common_track),
            },
        })
    }
}

fn phase_to_pb(p: FlightPhase) -> pb::FlightPhase {
    match p {
        FlightPhase::Unspecified => pb::FlightPhase::Unspecified,
        FlightPhase::Boost => pb::FlightPhase::Boost,
        FlightPhase::Midcourse => pb::FlightPhase::Midcourse,
        FlightPhase::Terminal => pb::FlightPhase::Terminal,
        FlightPhase::Landed => pb::FlightPhase::Landed,
    }
}

fn phase_from_pb(v: i32) -> FlightPhase {
    // Unknown values from a newer schema read as Unspecified rather than failing.
    match pb::FlightPhase::try_from(v) {
        Ok(pb::FlightPhase::Boost) => FlightPhase::Boost,
        Ok(pb::FlightPhase::Midcourse) => FlightPhase::Midcourse,
        Ok(pb::FlightPhase::Terminal) => FlightPhase::Terminal,
        Ok(pb::FlightPhase::Landed) => FlightPhase::Landed,
        _ => FlightPhase::Unspecified,
    }
}

fn point_to_pb(p: PointEstimate) -> pb::PointEstimate {
    pb::PointEstimate {
        time_s: p.time_s,
        lat_deg: p.lat_deg,
        lon_deg: p.lon_deg,
        semi_major_m: p.semi_major_m,
        semi_minor_m: p.semi_minor_m,
        orientation_deg: p.orientation_deg,
    }
}

fn point_from_pb(p: &pb::PointEstimate) -> PointEstimate {
    PointEstimate {
        time_s: p.time_s,
        lat_deg: p.lat_deg,
        lon_deg: p.lon_deg,
        semi_major_m: p.semi_major_m,
        semi_minor_m: p.semi_minor_m,
        orientation_deg: p.orientation_deg,
    }
}

/// Heartbeat payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    pub last_sequence: u64,
    pub confirmed_tracks: u32,
}

/// A plausible midcourse report (300 km up over the Sea of Japan, 3 km/s, a diagonal-dominant
/// SPD covariance) for tests, benches and fuzz seeds. Not a measurement of anything.
pub fn example_report(track_number: u64, time_s: f64) -> TrackReport {
    let mut full = [[0.0; 6]; 6];
    for (i, row) in full.iter_mut().enumerate() {
        row[i] = if i < 3 { 250.0 * 250.0 } else { 15.0 * 15.0 };
    }
    // Position-velocity correlation as a constant-velocity filter would leave it.
    for i in 0..3 {
        full[i][i + 3] = 0.5 * 250.0 * 15.0;
        full[i + 3][i] = full[i][i + 3];
    }
    TrackReport {
        track_number,
        time_s,
        state: [
            -3_300_000.0,
            3_900_000.0,
            4_150_000.0,
            1_500.0,
            -2_000.0,
            1_800.0,
        ],
        covariance_upper: pack_upper(&full),
        quality: 0.9,
        phase: FlightPhase::Midcourse,
        launch: Some(PointEstimate {
            time_s: 0.0,
            lat_deg: 39.0,
            lon_deg: 125.7,
            semi_major_m: 3_000.0,
            semi_minor_m: 1_500.0,
            orientation_deg: 40.0,
        }),
        impact: Some(PointEstimate {
            time_s: 600.0,
            lat_deg: 40.5,
            lon_deg: 136.0,
            semi_major_m: 20_000.0,
            semi_minor_m: 8_000.0,
            orientation_deg: 85.0,
        }),
        provenance: Provenance::default(),
    }
}

impl TrackReport {
    /// The shareable report of an estimate (the estimate type has no field for a sensor).
    pub fn from_estimate(e: &TrackEstimate, provenance: Provenance) -> Self {
        TrackReport {
            track_number: e.track_number,
            time_s: e.time_s,
            state: e.state,
            covariance_upper: pack_upper(&e.covariance),
            quality: e.quality,
            phase: e.phase,
            launch: e.launch,
            impact: e.impact,
            provenance,
        }
    }

    /// The estimate a receiver fuses; call after [`TrackReport::validate`].
    pub fn to_estimate(&self) -> TrackEstimate {
        let mut cov = [[0.0; 6]; 6];
        for (r, row) in cov.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = self.covariance_upper[upper_index(r, c)];
            }
        }
        TrackEstimate {
            track_number: self.track_number,
            time_s: self.time_s,
            state: self.state,
            covariance: cov,
            quality: self.quality,
            phase: self.phase,
            launch: self.launch,
            impact: self.impact,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_index_enumerates_the_triangle_row_by_row() {
        let mut k = 0;
        for r in 0..6 {
            for c in r..6 {
                assert_eq!(upper_index(r, c), k);
                assert_eq!(upper_index(c, r), k);
                k += 1;
            }
        }
        assert_eq!(k, 21);
    }

    fn diag(v: f64) -> [f64; 21] {
        let mut u = [0.0; 21];
        for i in 0..6 {
            u[upper_index(i, i)] = v;
        }
        u
    }

    #[test]
    fn spd_accepts_identity_and_refuses_indefinite() {
        assert!(check_spd(&diag(1.0)).is_ok());
        // [[1,2],[2,1]] block has eigenvalues 3 and -1.
        let mut u = diag(1.0);
        u[upper_index(0, 1)] = 2.0;
        assert_eq!(check_spd(&u).map_err(|(p, _)| p), Err(1));
        assert!(check_spd(&diag(0.0)).is_err());
        assert!(check_spd(&diag(-1.0)).is_err());
    }

    #[test]
    fn spd_refuses_rank_deficient_matrix() {
        // Covariance of x = y exactly: [[1,1],[1,1]] in the x,y block, singular.
        let mut u = diag(1.0);
        u[upper_index(0, 1)] = 1.0;
        assert!(check_spd(&u).is_err());
    }
}
