//! The generalised optimal sub-pattern assignment metric (GOSPA) of Rahmathullah,
//! García-Fernández and Svensson (Fusion 2017, arXiv:1601.05585), with α = 2.
//!
//! For truth set X, estimate set Y, cut-off c and order p, with α = 2 the metric is
//!
//! ```text
//! d(X, Y) = [ min_γ  Σ_{(i,j)∈γ} d(x_i, y_j)^p  +  (c^p / 2) (|X| + |Y| − 2|γ|) ]^(1/p)
//! ```
//!
//! over partial assignments γ whose pairs are closer than c. Only for α = 2 does the value split
//! into localisation, missed and false parts (García-Fernández's gospapy issue #1), which is why
//! α is not a parameter here.
//!
//! Because a pair at or beyond c costs exactly as much as leaving both points unassigned, the
//! problem falls apart into the connected components of the graph whose edges are the pairs
//! closer than c. Each component is solved on its own with the Hungarian method, so a
//! thousand well-separated objects cost a thousand tiny problems, not one n³ problem.

use std::collections::HashMap;

use nalgebra::Vector3;
use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;
use serde::Serialize;

use crate::EvalError;

/// Integer resolution of the assignment costs: costs are `min(d, c)^p / c^p` scaled by this.
/// pathfinding's Hungarian method needs an exact (integer) cost type; 1e9 steps over [0, c^p]
/// resolve 5 µm at c = 5 km, p = 1, far below any tracking error, and a component of a million
/// pairs still sums inside i64.
const COST_STEPS: f64 = 1e9;

/// GOSPA parameters (α = 2 always).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GospaParams {
    /// Cut-off distance c (m).
    pub c_m: f64,
    /// Order p (1 ≤ p < ∞).
    pub p: f64,
}

impl GospaParams {
    pub fn new(c_m: f64, p: f64) -> Result<Self, EvalError> {
        if !(c_m.is_finite() && c_m > 0.0) {
            return Err(EvalError::Parameter {
                name: "gospa c",
                value: c_m,
                expected: "a finite distance greater than zero (m)",
            });
        }
        if !(p.is_finite() && p >= 1.0) {
            return Err(EvalError::Parameter {
                name: "gospa p",
                value: p,
                expected: "a finite order of at least 1",
            });
        }
        Ok(Self { c_m, p })
    }

    /// The values the brief fixes for trilink: p = 1, c = 5 km.
    pub fn trilink() -> Self {
        Self {
            c_m: 5_000.0,
            p: 1.0,
        }
    }
}

/// GOSPA of one pair of sets, with its split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GospaValue {
    /// The metric itself (m).
    pub gospa_m: f64,
    /// Σ d^p over assigned pairs: the localisation part of GOSPA^p (m^p; metres for p = 1).
    pub localisation: f64,
    /// (c^p / 2) · missed: the missed-target part of GOSPA^p.
    pub missed: f64,
    /// (c^p / 2) · false: the false-target part of GOSPA^p.
    pub false_: f64,
    pub n_missed: usize,
    pub n_false: usize,
    /// Assigned pairs `(truth index, estimate index)`, each closer than c.
    #[serde(skip)]
    pub pairs: Vec<(usize, usize)>,
}

/// GOSPA between truth points `x` and estimate points `y` (positions in metres, any common
/// Cartesian frame).
pub fn gospa(x: &[Vector3<f64>], y: &[Vector3<f64>], params: GospaParams) -> GospaValue {
    let c = params.c_m;
    let p = params.p;
    let pairs = optimal_pairs(x, y, params);
    let localisation: f64 = pairs
        .iter()
        .map(|&(i, j)| (x[i] - y[j]).norm().powf(p))
        .sum();
    let half_cp = 0.5 * c.powf(p);
    let n_missed = x.len() - pairs.len();
    let n_false = y.len() - pairs.len();
    let missed = half_cp * n_missed as f64;
    let false_ = half_cp * n_false as f64;
    GospaValue {
        gospa_m: (localisation + missed + false_).powf(1.0 / p),
        localisation,
        missed,
        false_,
        n_missed,
        n_false,
        pairs,
    }
}

/// The optimal assignment: pairs `(i, j)` with `|x_i − y_j| < c`, sorted by `i`.
pub fn optimal_pairs(
    x: &[Vector3<f64>],
    y: &[Vector3<f64>],
    params: GospaParams,
) -> Vec<(usize, usize)> {
    let c = params.c_m;
    if x.is_empty() || y.is_empty() {
        return Vec::new();
    }
    let edges = close_pairs(x, y, c);
    if edges.is_empty() {
        return Vec::new();
    }
    // Components over nodes 0..n (truth) and n..n+m (estimates).
    let n = x.len();
    let mut uf = UnionFind::new(n + y.len());
    for &(i, j, _) in &edges {
        uf.union(i, n + j);
    }
    let mut components: HashMap<usize, (Vec<usize>, Vec<usize>)> = HashMap::new();
    for &(i, j, _) in &edges {
        let root = uf.find(i);
        let comp = components.entry(root).or_default();
        comp.0.push(i);
        comp.1.push(j);
    }
    let mut distance: HashMap<(usize, usize), f64> = HashMap::with_capacity(edges.len());
    for &(i, j, d) in &edges {
        distance.insert((i, j), d);
    }
    let mut pairs = Vec::new();
    for (_, (mut ti, mut ej)) in components {
        ti.sort_unstable();
        ti.dedup();
        ej.sort_unstable();
        ej.dedup();
        if ti.len() == 1 && ej.len() == 1 {
            pairs.push((ti[0], ej[0]));
            continue;
        }
        let cost = |i: usize, j: usize| -> i64 {
            match distance.get(&(i, j)) {
                Some(&d) => ((d / c).powf(params.p) * COST_STEPS).round() as i64,
                None => COST_STEPS as i64,
            }
        };
        // kuhn_munkres_min needs rows ≤ columns: put the smaller set on the rows.
        let truth_on_rows = ti.len() <= ej.len();
        let (rows, cols) = if truth_on_rows {
            (&ti, &ej)
        } else {
            (&ej, &ti)
        };
        let weights = Matrix::from_fn(rows.len(), cols.len(), |(r, k)| {
            if truth_on_rows {
                cost(rows[r], cols[k])
            } else {
                cost(cols[k], rows[r])
            }
        });
        let (_, assignment) = kuhn_munkres_min(&weights);
        for (r, &k) in assignment.iter().enumerate() {
            let (i, j) = if truth_on_rows {
                (rows[r], cols[k])
            } else {
                (cols[k], rows[r])
            };
            // A pair at or beyond c is the same as none: both points are missed/false.
            if distance.contains_key(&(i, j)) {
                pairs.push((i, j));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// All pairs `(i, j, d)` with `d = |x_i − y_j| < c`, found through a hash grid of cell size c.
fn close_pairs(x: &[Vector3<f64>], y: &[Vector3<f64>], c: f64) -> Vec<(usize, usize, f64)> {
    let cell = |p: &Vector3<f64>| -> (i64, i64, i64) {
        (
            (p.x / c).floor() as i64,
            (p.y / c).floor() as i64,
            (p.z / c).floor() as i64,
        )
    };
    let mut grid: HashMap<(i64, i64, i64), Vec<usize>> = HashMap::with_capacity(y.len());
    for (j, p) in y.iter().enumerate() {
        grid.entry(cell(p)).or_default().push(j);
    }
    let mut out = Vec::new();
    for (i, p) in x.iter().enumerate() {
        let (cx, cy, cz) = cell(p);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(js) = grid.get(&(cx + dx, cy + dy, cz + dz)) {
                        for &j in js {
                            let d = (p - y[j]).norm();
                            if d < c {
                                out.push((i, j, d));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut a: usize) -> usize {
        while self.parent[a] != a {
            self.parent[a] = self.parent[self.parent[a]];
            a = self.parent[a];
        }
        a
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra] = rb;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f64, y: f64, z: f64) -> Vector3<f64> {
        Vector3::new(x, y, z)
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn identical_sets_score_zero() {
        let x = vec![v(0.0, 0.0, 0.0), v(1e5, 0.0, 0.0)];
        let g = gospa(&x, &x, GospaParams::trilink());
        assert_eq!(g.gospa_m, 0.0);
        assert_eq!((g.n_missed, g.n_false), (0, 0));
    }

    #[test]
    fn empty_estimate_costs_half_c_per_missed_target() {
        // By hand: p = 1, c = 5000 → 3 missed × 2500 = 7500.
        let x = vec![v(0.0, 0.0, 0.0), v(1e5, 0.0, 0.0), v(0.0, 1e5, 0.0)];
        let g = gospa(&x, &[], GospaParams::trilink());
        assert_eq!(g.gospa_m, 7_500.0);
        assert_eq!(g.missed, 7_500.0);
        assert_eq!(g.n_missed, 3);
    }

    #[test]
    fn hand_case_with_localisation_missed_and_false() {
        // Truth A at origin, B at 100 km; estimates 300 m from A (3-4-5 triangle: 180, 240, 0)
        // and one far false track. By hand: 300 + 2500 (B missed) + 2500 (false) = 5300.
        let x = vec![v(0.0, 0.0, 0.0), v(1e5, 0.0, 0.0)];
        let y = vec![v(180.0, 240.0, 0.0), v(0.0, 0.0, 5e5)];
        let g = gospa(&x, &y, GospaParams::trilink());
        assert!(close(g.gospa_m, 5_300.0, 1e-9), "{g:?}");
        assert!(close(g.localisation, 300.0, 1e-9));
        assert_eq!((g.n_missed, g.n_false), (1, 1));
        assert_eq!(g.pairs, vec![(0, 0)]);
    }

    #[test]
    fn a_pair_beyond_the_cutoff_counts_as_missed_plus_false() {
        // 6 km apart with c = 5 km: min(6000, 5000) = 5000 = 2500 + 2500.
        let g = gospa(
            &[v(0.0, 0.0, 0.0)],
            &[v(6e3, 0.0, 0.0)],
            GospaParams::trilink(),
        );
        assert_eq!(g.gospa_m, 5_000.0);
        assert!(g.pairs.is_empty());
        // 4 km apart is assigned: 4000.
        let g = gospa(
            &[v(0.0, 0.0, 0.0)],
            &[v(4e3, 0.0, 0.0)],
            GospaParams::trilink(),
        );
        assert!(close(g.gospa_m, 4_000.0, 1e-9));
    }

    #[test]
    fn crossing_pairs_take_the_optimal_not_the_greedy_assignment() {
        // Truth at 0 and 3000 on a line; estimates at 1600 and 4700. Greedy nearest-first would
        // take (3000,1600) = 1400 then (0,4700) = 4700 → 6100. Optimal:
        // (0,1600) + (3000,4700) = 1600 + 1700 = 3300.
        let x = vec![v(0.0, 0.0, 0.0), v(3_000.0, 0.0, 0.0)];
        let y = vec![v(1_600.0, 0.0, 0.0), v(4_700.0, 0.0, 0.0)];
        let g = gospa(&x, &y, GospaParams::trilink());
        assert!(close(g.gospa_m, 3_300.0, 1e-6), "{g:?}");
        assert_eq!(g.pairs, vec![(0, 0), (1, 1)]);
    }

    #[test]
    fn more_estimates_than_truths_in_one_cluster_does_not_panic() {
        // Rows > columns is transposed before the Hungarian method. Two truths, three estimates
        // all within c: best is 100 + 100 + one false (2500) = 2700.
        let x = vec![v(0.0, 0.0, 0.0), v(1_000.0, 0.0, 0.0)];
        let y = vec![v(100.0, 0.0, 0.0), v(1_100.0, 0.0, 0.0), v(500.0, 0.0, 0.0)];
        let g = gospa(&x, &y, GospaParams::trilink());
        assert!(close(g.gospa_m, 2_700.0, 1e-6), "{g:?}");
        let g = gospa(&y, &x, GospaParams::trilink());
        assert!(close(g.gospa_m, 2_700.0, 1e-6), "{g:?}");
        assert_eq!((g.n_missed, g.n_false), (1, 0));
    }

    #[test]
    fn order_two_follows_the_definition() {
        // p = 2, c = 10: one pair at 3, one missed → sqrt(9 + 100/2) = sqrt(59).
        let params = GospaParams::new(10.0, 2.0).unwrap();
        let g = gospa(
            &[v(0.0, 0.0, 0.0), v(100.0, 0.0, 0.0)],
            &[v(0.0, 3.0, 0.0)],
            params,
        );
        assert!(close(g.gospa_m, 59f64.sqrt(), 1e-12), "{g:?}");
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(GospaParams::new(0.0, 1.0).is_err());
        assert!(GospaParams::new(5e3, 0.5).is_err());
        assert!(GospaParams::new(f64::NAN, 1.0).is_err());
    }
}
