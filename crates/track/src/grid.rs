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

#[derive(Clone, Debug)]
pub struct Grid {
    cell_m: f64,
    cells: CellMap,
}

fn key(c: [i64; 3]) -> u64 {
    // 21 bits per axis covers ±1e6 cells: at ≥ 10 km per cell, far beyond the Moon.
    let m = (1i64 << 21) - 1;
    ((c[0] & m) as u64) | (((c[1] & m) as u64) << 21) | (((c[2] & m) as u64) << 42)
}

impl Grid {
    pub fn new(cell_m: f64) -> Self {
        Self {
            cell_m,
            cells: CellMap::default(),
        }
    }

    pub fn cell_m(&self) -> f64 {
        self.cell_m
    }

    fn cell(&self, p: &Vector3<f64>) -> [i64; 3] {
        [
            (p.x / self.cell_m).floor() as i64,
            (p.y / self.cell_m).floor() as i64,
            (p.z / self.cell_m).floor() as i64,
        ]
    }

    pub fn clear(&mut self) {
        for v in self.cells.values_mut() {
            v.clear();
        }
        // Drop empty cells now and then so the map does not grow without bound.
        if self.cells.len() > 4096 {
            self.cells.retain(|_, v| !v.is_empty());
        }
    }

    pub fn insert(&mut self, p: &Vector3<f64>, item: u32) {
        let k = key(self.cell(p));
        self.cells.entry(k).or_default().push(item);
    }

    /// Removes `item` from the cell of `p` (where it was inserted).
    pub fn remove(&mut self, p: &Vector3<f64>, item: u32) {
        let k = key(self.cell(p));
        if let Some(v) = self.cells.get_mut(&k) {
            if let Some(i) = v.iter().position(|&x| x == item) {
                v.swap_remove(i);
            }
        }
    }

    /// Calls `f` for every item in the 27 cells around `p`: everything within one cell size of
    /// `p` is visited (and some more).
    #[inline]
    pub fn for_near(&self, p: &Vector3<f64>, mut f: impl FnMut(u32)) {
        let c = self.cell(p);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(v) = self.cells.get(&key([c[0] + dx, c[1] + dy, c[2] + dz])) {
                        for &i in v {
                            f(i);
                        }
                    }
                }
            }
        }
    }
}
