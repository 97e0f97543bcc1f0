//! Data association: chi-square gating, clustering of the gate graph into independent groups,
//! and global-nearest-neighbour assignment inside each group.

use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;

/// A (track, detection) pair inside the gate, indices local to one scan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GatedPair {
    pub track: u32,
    pub det: u32,
    /// Normalised distance squared `yᵀ S⁻¹ y` (finite, ≥ 0, ≤ the gate).
    pub cost: f64,
}

/// Which detection goes with which track.
pub trait Associator {
    /// Chooses at most one detection per track and one track per detection among `pairs`, each
    /// of which is inside the gate `gate`. Writes the chosen `(track, det)` pairs to `out`.
    fn assign(
        &mut self,
        n_tracks: usize,
        n_dets: usize,
        pairs: &[GatedPair],
        gate: f64,
        out: &mut Vec<(u32, u32)>,
    );
}

/// Global nearest neighbour: minimum total normalised distance, where leaving a track without
/// a detection costs the gate value. Solved per connected component of the gate graph with
/// `pathfinding`'s Kuhn–Munkres on integer costs, so the work grows with the size of the
/// clusters, not with the number of objects.
#[derive(Debug, Default, Clone)]
pub struct Gnn {
    parent: Vec<u32>,
    comp_pairs: Vec<(u32, usize)>,
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[parent[i as usize] as usize];
        parent[i as usize] = p;
        i = p;
    }
    i
}

/// Integer cost scale: 1e-6 in normalised distance squared is finer than any decision needs.
const SCALE: f64 = 1e6;

impl Associator for Gnn {
    fn assign(
        &mut self,
        n_tracks: usize,
        n_dets: usize,
        pairs: &[GatedPair],
        gate: f64,
        out: &mut Vec<(u32, u32)>,
    ) {
        if pairs.is_empty() {
            return;
        }
        // Union-find over tracks (0..n_tracks) and detections (n_tracks..).
        let n = n_tracks + n_dets;
        self.parent.clear();
        self.parent.extend(0..n as u32);
        for p in pairs {
            let a = find(&mut self.parent, p.track);
            let b = find(&mut self.parent, n_tracks as u32 + p.det);
            if a != b {
                self.parent[a as usize] = b;
            }
        }
        self.comp_pairs.clear();
        for (k, p) in pairs.iter().enumerate() {
            let root = find(&mut self.parent, p.track);
            self.comp_pairs.push((root, k));
        }
        self.comp_pairs.sort_unstable();
        let miss_cost = (gate * SCALE).round() as i64;
        // Larger than any sum of misses in a cluster, yet far from overflow.
        let forbidden = miss_cost.saturating_mul(4).saturating_add(1);
        let mut start = 0;
        while start < self.comp_pairs.len() {
            let root = self.comp_pairs[start].0;
            let mut end = start;
            while end < self.comp_pairs.len() && self.comp_pairs[end].0 == root {
                end += 1;
            }
            let group = &self.comp_pairs[start..end];
            if group.len() == 1 {
                let p = pairs[group[0].1];
                out.push((p.track, p.det));
            } else {
                let mut tracks: Vec<u32> = group.iter().map(|&(_, k)| pairs[k].track).collect();
                tracks.sort_unstable();
                tracks.dedup();
                let mut dets: Vec<u32> = group.iter().map(|&(_, k)| pairs[k].det).collect();
                dets.sort_unstable();
                dets.dedup();
                let rows = tracks.len();
                // One dummy column per track ("no detection"), so rows ≤ columns always holds.
                let cols = dets.len() + rows;
                let mut m = Matrix::new(rows, cols, forbidden);
                for r in 0..rows {
                    for c in dets.len()..cols {
                        m[(r, c)] = miss_cost;
                    }
                }
                for &(_, k) in group {
                    let p = pairs[k];
                    let r = tracks.binary_search(&p.track).unwrap_or(0);
                    let c = dets.binary_search(&p.det).unwrap_or(0);
                    let cost = if p.cost.is_finite() {
                        (p.cost.clamp(0.0, gate) * SCALE).round() as i64
                    } else {
                        forbidden
                    };
                    m[(r, c)] = cost;
                }
                let (_, assignment) = kuhn_munkres_min(&m);
                for (r, &c) in assignment.iter().enumerate() {
                    if c < dets.len() && m[(r, c)] < forbidden {
                        out.push((tracks[r], dets[c]));
                    }
                }
            }
            start = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(track: u32, det: u32, cost: f64) -> GatedPair {
        GatedPair { track, det, cost }
    }

    #[test]
    fn global_optimum_beats_greedy() {
        // Greedy would give track 0 det 0 (cost 1) and leave track 1 with det 1 at cost 9;
        // the optimum total is 2 + 2.
        let pairs = [
            pair(0, 0, 1.0),
            pair(0, 1, 2.0),
            pair(1, 0, 2.0),
            pair(1, 1, 9.0),
        ];
        let mut out = Vec::new();
        Gnn::default().assign(2, 2, &pairs, 16.0, &mut out);
        out.sort_unstable();
        assert_eq!(out, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn more_tracks_than_detections_leaves_one_unassigned() {
        let pairs = [pair(0, 0, 1.0), pair(1, 0, 0.5), pair(2, 0, 3.0)];
        let mut out = Vec::new();
        Gnn::default().assign(3, 1, &pairs, 16.0, &mut out);
        assert_eq!(out, vec![(1, 0)]);
    }

    #[test]
    fn independent_clusters_are_solved_separately() {
        let pairs = [
            pair(0, 1, 1.0),
            pair(1, 0, 1.0),
            pair(2, 2, 0.1),
            pair(2, 3, 0.2),
        ];
        let mut out = Vec::new();
        Gnn::default().assign(3, 4, &pairs, 16.0, &mut out);
        out.sort_unstable();
        assert_eq!(out, vec![(0, 1), (1, 0), (2, 2)]);
    }
}
