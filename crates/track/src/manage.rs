//! Track management: initiation from two detections of one sensor, M-of-N confirmation and
//! deletion.

use nalgebra::{Matrix3, Vector3};

use crate::grid::Grid;
use crate::motion::{StateCov, StateVec};

/// A detection no track took, in ECEF with its first-order covariance.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub t_s: f64,
    pub p: Vector3<f64>,
    pub cov: Matrix3<f64>,
}

/// A tentative track to start.
#[derive(Debug, Clone, Copy)]
pub struct NewTrack {
    pub x: StateVec,
    pub p: StateCov,
}

/// Starts tentative tracks from detections that no track took.
pub trait Initiator {
    /// Offers the unused detections of one scan of `sensor`; pushes the tracks to start to `out`.
    fn initiate(&mut self, sensor: usize, unused: &[Candidate], out: &mut Vec<NewTrack>);
    /// Forgets what is too old to matter at `now_s`.
    fn prune(&mut self, now_s: f64);
}

/// Two-point initiation: an unused detection pairs with earlier unused detections ("seeds") of
/// the same sensor that a body no faster than `max_speed_mps` could have come from. Position is
/// the newer detection; velocity is the difference quotient corrected for gravity over the
/// interval, with the covariance of the difference plus an allowance `accel_mps2` for unknown
/// thrust (conservative on purpose; three-point gating at the next scan decides).
#[derive(Debug, Clone)]
pub struct TwoPointInitiator {
    pub max_speed_mps: f64,
    pub max_age_s: f64,
    pub accel_mps2: f64,
    /// At most this many seeds per detection (nearest first).
    pub max_pairs: usize,
    seeds: Vec<Vec<Candidate>>,
    grids: Vec<Grid>,
    near: Vec<(f64, u32)>,
}

impl TwoPointInitiator {
    pub fn new(n_sensors: usize, max_speed_mps: f64, max_age_s: f64, accel_mps2: f64) -> Self {
        let cell = (max_speed_mps * max_age_s).max(20_000.0);
        Self {
            max_speed_mps,
            max_age_s,
            accel_mps2,
            max_pairs: 3,
            seeds: vec![Vec::new(); n_sensors],
            grids: vec![Grid::new(cell); n_sensors],
            near: Vec::new(),
        }
    }

    pub fn seed_count(&self) -> usize {
        self.seeds.iter().map(Vec::len).sum()
    }
}

impl Initiator for TwoPointInitiator {
    fn initiate(&mut self, sensor: usize, unused: &[Candidate], out: &mut Vec<NewTrack>) {
        let Some(seeds) = self.seeds.get_mut(sensor) else {
            return;
        };
        let grid = &mut self.grids[sensor];
        let cell = grid.cell_m();
        for c in unused {
            self.near.clear();
            let sig_c = c.cov.trace();
            grid.for_near(&c.p, |k| {
                let s = &seeds[k as usize];
                let dt = c.t_s - s.t_s;
                if dt <= 0.0 || dt > self.max_age_s {
                    return;
                }
                let d = (c.p - s.p).norm();
                let reach =
                    (self.max_speed_mps * dt + 3.0 * (sig_c + s.cov.trace()).sqrt()).min(cell);
                if d <= reach {
                    self.near.push((d, k));
                }
            });
            self.near.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            for &(_, k) in self.near.iter().take(self.max_pairs) {
                let s = &seeds[k as usize];
                let dt = c.t_s - s.t_s;
                let g = trilink_physics::gravity::acceleration(&c.p);
                let v = (c.p - s.p) / dt + 0.5 * dt * g;
                let mut p = StateCov::zeros();
                let a2 = (0.5 * self.accel_mps2 * dt).powi(2);
                let pvv = (c.cov + s.cov) / (dt * dt) + Matrix3::identity() * a2;
                let prv = c.cov / dt;
                p.fixed_view_mut::<3, 3>(0, 0).copy_from(&c.cov);
                p.fixed_view_mut::<3, 3>(0, 3).copy_from(&prv);
                p.fixed_view_mut::<3, 3>(3, 0).copy_from(&prv.transpose());
                p.fixed_view_mut::<3, 3>(3, 3).copy_from(&pvv);
                out.push(NewTrack {
                    x: StateVec::new(c.p.x, c.p.y, c.p.z, v.x, v.y, v.z),
                    p,
                });
            }
        }
        for c in unused {
            grid.insert(&c.p, seeds.len() as u32);
            seeds.push(*c);
        }
    }

    fn prune(&mut self, now_s: f64) {
        for (seeds, grid) in self.seeds.iter_mut().zip(self.grids.iter_mut()) {
            let before = seeds.len();
            seeds.retain(|s| now_s - s.t_s <= self.max_age_s);
            if seeds.len() != before {
                grid.clear();
                for (k, s) in seeds.iter().enumerate() {
                    grid.insert(&s.p, k as u32);
                }
            }
        }
    }
}

/// Whether a track is still a candidate or reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Tentative,
    Confirmed,
}

/// What a deleter needs to know about a track.
#[derive(Debug, Clone, Copy)]
pub struct TrackSummary {
    pub status: Status,
    pub hits: u32,
    pub t_last_update_s: f64,
    /// Scans of the initiating sensor since initiation.
    pub scans_since_init: u64,
    /// Position standard deviation (√trace) extrapolated to now (m).
    pub position_sigma_m: f64,
}

/// Decides when a track ends.
pub trait Deleter {
    fn should_delete(&self, s: &TrackSummary, now_s: f64) -> bool;
}

/// M-of-N for tentative tracks, missed-update time and covariance growth for confirmed ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MofNDeleter {
    pub confirm_m: u32,
    pub confirm_n: u32,
    pub tentative_max_gap_s: f64,
    pub max_coast_s: f64,
    pub max_position_sigma_m: f64,
}

impl Deleter for MofNDeleter {
    fn should_delete(&self, s: &TrackSummary, now_s: f64) -> bool {
        let gap = now_s - s.t_last_update_s;
        match s.status {
            Status::Tentative => {
                (s.scans_since_init >= u64::from(self.confirm_n) && s.hits < self.confirm_m)
                    || gap > self.tentative_max_gap_s
            }
            Status::Confirmed => {
                gap > self.max_coast_s || s.position_sigma_m > self.max_position_sigma_m
            }
        }
    }
}
