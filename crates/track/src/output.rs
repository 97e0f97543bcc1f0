//! Rows of the interchange files (BRIEF §3.2) made from tracker output.
//!
//! `tracks.csv` carries the contract's named columns followed by three extra ones that readers
//! who do not know them ignore: `nis` and `nis_dof` (the normalised innovation squared of the
//! update and its degrees of freedom, for consistency checks) and `phase`.

use std::io::{self, Write};

use serde::Deserialize;
use trilink_interchange::fastfmt::write_fields;
use trilink_interchange::{ImpactRow, LaunchRow, Record, TrackRow};

use crate::{GroundPoint, TrackUpdate};

/// A `tracks.csv` row with the extra columns `nis`, `nis_dof`, `phase`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TrackOutRow {
    #[serde(flatten)]
    pub track: TrackRow,
    pub nis: f64,
    pub nis_dof: u32,
    pub phase: String,
}

impl Record for TrackOutRow {
    const COLUMNS: &'static [&'static str] = &[
        "time_s", "track_id", "x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps", "cov_xx",
        "cov_xy", "cov_xz", "cov_yy", "cov_yz", "cov_zz", "nis", "nis_dof", "phase",
    ];
    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        self.track.check()
    }
    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        self.track.write_row(w)?;
        w.write_all(b",")?;
        write_fields(w, &[&self.nis, &self.nis_dof, &self.phase])
    }
}

impl TrackOutRow {
    pub fn from_update(u: &TrackUpdate) -> Self {
        let (x, p) = (&u.x, &u.p);
        Self {
            track: TrackRow {
                time_s: u.time_s,
                track_id: u.track_id,
                x_m: x[0],
                y_m: x[1],
                z_m: x[2],
                vx_mps: x[3],
                vy_mps: x[4],
                vz_mps: x[5],
                cov_xx: p[(0, 0)],
                cov_xy: p[(0, 1)],
                cov_xz: p[(0, 2)],
                cov_yy: p[(1, 1)],
                cov_yz: p[(1, 2)],
                cov_zz: p[(2, 2)],
            },
            nis: u.nis,
            nis_dof: u.nis_dof,
            phase: u.phase.as_str().to_string(),
        }
    }
}

/// The `impacts.csv` row of an update that carries a new impact prediction.
pub fn impact_row(u: &TrackUpdate) -> Option<ImpactRow> {
    let g = u.impact.as_ref()?;
    Some(ImpactRow {
        time_s: u.time_s,
        track_id: u.track_id,
        impact_time_s: g.t_s,
        impact_lat_deg: g.site.lat_deg(),
        impact_lon_deg: trilink_geo::wrap_pi(g.site.lon_rad).to_degrees(),
        semi_major_m: g.semi_major_m,
        semi_minor_m: g.semi_minor_m,
        orientation_deg: g.orientation_deg,
    })
}

/// The `launches.csv` row of a track's launch-point estimate.
pub fn launch_row(track_id: u64, g: &GroundPoint) -> LaunchRow {
    LaunchRow {
        track_id,
        launch_time_s: g.t_s,
        launch_lat_deg: g.site.lat_deg(),
        launch_lon_deg: trilink_geo::wrap_pi(g.site.lon_rad).to_degrees(),
        semi_major_m: g.semi_major_m,
        semi_minor_m: g.semi_minor_m,
        orientation_deg: g.orientation_deg,
    }
}
