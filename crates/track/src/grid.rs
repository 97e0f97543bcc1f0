//! A uniform hash grid over ECEF positions, so that gating looks only at nearby tracks and
//! initiation only at nearby seeds: the cost per detection stays flat as objects are added.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use nalgebra::Vector3;

/// Multiplicative hash for packed cell keys; SipHash is needlessly slow for this.
#[derive(Default, Clone, Copy)]
pub struct CellHasher(u64);

impl Hasher for CellHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0 ^ i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 ^= self.0 >> 29;
    }
}

type CellMap = HashMap<u64, Vec<u32>, BuildHasherDefault<CellHasher>>;

/// Coarser levels above the base cell, each twice the cell of the one below: with a 60 km base,
/// items reaching up to 480 km are indexed; anything wider is visited by every query.
const COARSE_LEVELS: usize = 4;

#[derive(Clone, Debug)]
struct Level {
    cell_m: f64,
    cells: CellMap,
    /// The largest reach of any item in this level since the last clear (m): how far a query
    /// must look beyond its own reach.
    max_reach_m: f64,
    len: usize,
}

impl Level {
    fn new(cell_m: f64) -> Self {
        Self {
            cell_m,
            cells: CellMap::default(),
            max_reach_m: 0.0,
            len: 0,
        }
    }

    fn cell(&self, p: &Vector3<f64>) -> [i64; 3] {
        [
            (p.x / self.cell_m).floor() as i64,
            (p.y / self.cell_m).floor() as i64,
            (p.z / self.cell_m).floor() as i64,
        ]
    }

    fn clear(&mut self) {
        for v in self.cells.values_mut() {
            v.clear();
        }
        // Drop empty cells now and then so the map does not grow without bound.
        if self.cells.len() > 4096 {
            self.cells.retain(|_, v| !v.is_empty());
        }
        self.max_reach_m = 0.0;
        self.len = 0;
    }

    fn insert(&mut self, p: &Vector3<f64>, reach_m: f64, item: u32) {
        let k = key(self.cell(p));
        self.cells.entry(k).or_default().push(item);
        self.max_reach_m = self.max_reach_m.max(reach_m);
        self.len += 1;
    }

    /// Every item whose position may lie within `reach_m` plus the level's largest item reach
    /// of `p`: the cells overlapping that axis-aligned box, or every cell when the box holds
    /// more cells than the level has.
    fn for_within(&self, p: &Vector3<f64>, reach_m: f64, f: &mut impl FnMut(u32)) {
        if self.len == 0 {
            return;
        }
        let r = reach_m + self.max_reach_m;
        let lo = self.cell(&p.add_scalar(-r));
        let hi = self.cell(&p.add_scalar(r));
        let span = |a: usize| (hi[a] - lo[a] + 1).max(0) as u128;
        if !r.is_finite() || span(0) * span(1) * span(2) > self.cells.len() as u128 {
            for v in self.cells.values() {
                v.iter().for_each(|&i| f(i));
            }
            return;
        }
        for x in lo[0]..=hi[0] {
            for y in lo[1]..=hi[1] {
                for z in lo[2]..=hi[2] {
                    if let Some(v) = self.cells.get(&key([x, y, z])) {
                        v.iter().for_each(|&i| f(i));
                    }
                }
            }
        }
    }
}

/// A uniform hash grid (the base level, [`Grid::insert`] and [`Grid::for_near`]) with coarser
/// levels above it for items that reach far ([`Grid::insert_reach`] and [`Grid::for_within`]):
/// a new track's uncertainty can span 100 km while a settled one spans a few, and a single cell
/// size either scans every wide item for each query or makes the settled ones crowd few cells.
#[derive(Clone, Debug)]
pub struct Grid {
    /// `levels[0]` is the base level; level k has cells 2^k times as large.
    levels: Vec<Level>,
    /// Items reaching beyond half the top level's cell, or with a reach that is not finite.
    far: Vec<u32>,
}

fn key(c: [i64; 3]) -> u64 {
    // 21 bits per axis covers ±1e6 cells: at ≥ 10 km per cell, far beyond the Moon.
    let m = (1i64 << 21) - 1;
    ((c[0] & m) as u64) | (((c[1] & m) as u64) << 21) | (((c[2] & m) as u64) << 42)
}

impl Grid {
    pub fn new(cell_m: f64) -> Self {
        Self {
            levels: (0..=COARSE_LEVELS)
                .map(|k| Level::new(cell_m * f64::from(1u32 << k)))
                .collect(),
            far: Vec::new(),
        }
    }

    pub fn cell_m(&self) -> f64 {
        self.levels[0].cell_m
    }

    pub fn clear(&mut self) {
        for l in &mut self.levels {
            l.clear();
        }
        self.far.clear();
    }

    /// Puts `item` in the base cell of `p`; it is found by [`Grid::for_near`] within one cell,
    /// and by [`Grid::for_within`] as if it reached half a cell.
    pub fn insert(&mut self, p: &Vector3<f64>, item: u32) {
        let half_m = 0.5 * self.levels[0].cell_m;
        self.levels[0].insert(p, half_m, item);
    }

    /// Puts `item`, which stands for everything within `reach_m` of `p`, in the finest level
    /// whose half cell covers that reach. Items that fit the base level are also found by
    /// [`Grid::for_near`]; wider ones only by [`Grid::for_within`]. A reach that is not a
    /// number counts as fitting the base level (as [`Grid::insert`] would place it).
    pub fn insert_reach(&mut self, p: &Vector3<f64>, reach_m: f64, item: u32) {
        // NaN goes to the base level, where `insert` would have put it.
        let fits = |l: &&mut Level| reach_m.is_nan() || reach_m <= 0.5 * l.cell_m;
        match self.levels.iter_mut().find(fits) {
            Some(l) => l.insert(p, reach_m, item),
            None => self.far.push(item),
        }
    }

    /// Removes `item` from the base cell of `p` (where [`Grid::insert`] put it).
    pub fn remove(&mut self, p: &Vector3<f64>, item: u32) {
        let l = &mut self.levels[0];
        let k = key(l.cell(p));
        if let Some(v) = l.cells.get_mut(&k) {
            if let Some(i) = v.iter().position(|&x| x == item) {
                v.swap_remove(i);
                l.len -= 1;
            }
        }
    }

    /// Calls `f` for every base-level item in the 27 cells around `p`: everything within one
    /// cell size of `p` is visited (and some more).
    #[inline]
    pub fn for_near(&self, p: &Vector3<f64>, mut f: impl FnMut(u32)) {
        let l = &self.levels[0];
        let c = l.cell(p);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(v) = l.cells.get(&key([c[0] + dx, c[1] + dy, c[2] + dz])) {
                        for &i in v {
                            f(i);
                        }
                    }
                }
            }
        }
    }

    /// Calls `f` at least once for every item whose own reach overlaps the ball of `reach_m`
    /// around `p` (the distance between the two positions is at most the sum of the reaches),
    /// and possibly for others; never twice for one insertion.
    #[inline]
    pub fn for_within(&self, p: &Vector3<f64>, reach_m: f64, mut f: impl FnMut(u32)) {
        for l in &self.levels {
            l.for_within(p, reach_m, &mut f);
        }
        self.far.iter().for_each(|&i| f(i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn point() -> impl Strategy<Value = Vector3<f64>> {
        // A region a few times the base cell, around a point on the Earth's surface, so that
        // items share and straddle cells on every level.
        (-300e3..300e3f64, -300e3..300e3f64, -300e3..300e3f64)
            .prop_map(|(x, y, z)| Vector3::new(6_378_137.0 + x, 1_000e3 + y, -2_000e3 + z))
    }

    fn reach() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => 0.0..30e3f64,
            3 => 30e3..500e3f64,
            1 => 500e3..3_000e3f64,
            1 => Just(f64::INFINITY),
        ]
    }

    proptest! {
        /// `for_within` visits every item a brute-force search over all pairs finds (positions
        /// within the sum of the two reaches), and none twice.
        #[test]
        fn for_within_finds_every_pair_brute_force_finds(
            items in prop::collection::vec((point(), reach()), 0..60),
            queries in prop::collection::vec((point(), 0.0..40e3f64), 1..20),
        ) {
            let mut g = Grid::new(60_000.0);
            for (i, (p, r)) in items.iter().enumerate() {
                g.insert_reach(p, *r, i as u32);
            }
            for (q, rq) in &queries {
                let mut seen = vec![0u32; items.len()];
                g.for_within(q, *rq, |i| seen[i as usize] += 1);
                for (i, (p, r)) in items.iter().enumerate() {
                    prop_assert!(seen[i] <= 1, "item {i} visited {} times", seen[i]);
                    if (p - q).norm() <= r + rq {
                        prop_assert_eq!(seen[i], 1, "item {} at {} m with reach {} missed", i, (p - q).norm(), r);
                    }
                }
            }
        }

        /// Items that fit the base level are placed as `insert` places them: `for_near` sees
        /// exactly the same ones either way, so callers that search the base level only (the
        /// duplicate check, the initiator) are unaffected by `insert_reach`.
        #[test]
        fn base_level_is_shared_by_insert_and_insert_reach(
            items in prop::collection::vec((point(), reach()), 0..60),
            q in point(),
        ) {
            let mut a = Grid::new(60_000.0);
            let mut b = Grid::new(60_000.0);
            for (i, (p, r)) in items.iter().enumerate() {
                if *r <= 30_000.0 {
                    a.insert(p, i as u32);
                }
                b.insert_reach(p, *r, i as u32);
            }
            let (mut va, mut vb) = (Vec::new(), Vec::new());
            a.for_near(&q, |i| va.push(i));
            b.for_near(&q, |i| vb.push(i));
            va.sort_unstable();
            vb.sort_unstable();
            prop_assert_eq!(va, vb);
        }

        /// After `clear` nothing is found, and items inserted again are.
        #[test]
        fn clear_forgets_everything(items in prop::collection::vec((point(), reach()), 1..30)) {
            let mut g = Grid::new(60_000.0);
            for (i, (p, r)) in items.iter().enumerate() {
                g.insert_reach(p, *r, i as u32);
            }
            g.clear();
            let mut n = 0;
            g.for_within(&items[0].0, f64::INFINITY, |_| n += 1);
            prop_assert_eq!(n, 0);
            g.insert_reach(&items[0].0, items[0].1, 7);
            let mut found = Vec::new();
            g.for_within(&items[0].0, 0.0, |i| found.push(i));
            prop_assert_eq!(found, vec![7]);
        }
    }

    #[test]
    fn for_near_covers_one_cell_around_the_point() {
        let mut g = Grid::new(60_000.0);
        let q = Vector3::new(6_378_137.0, 0.0, 0.0);
        // Just inside one cell size along a diagonal, and well outside.
        let inside = q + Vector3::new(59e3, -59e3, 59e3);
        let outside = q + Vector3::new(125e3, 0.0, 0.0);
        g.insert(&inside, 1);
        g.insert(&outside, 2);
        let mut v = Vec::new();
        g.for_near(&q, |i| v.push(i));
        assert_eq!(v, vec![1]);
    }
}
