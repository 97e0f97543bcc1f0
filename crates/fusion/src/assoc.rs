//! Assignment of a source's new tracks to system tracks.
use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;

/// Which column (system track) each row (new source track) goes to.
pub trait Associator {
    /// `costs[row][col]` is the gated d² of a pair, `None` where the pair fails the gate;
    /// `gate` is the cost of leaving a row unassigned (it then starts a system track).
    /// Returns, per row, the chosen column or `None`.
    fn assign(&self, costs: &[Vec<Option<f64>>], columns: usize, gate: f64) -> Vec<Option<usize>>;
}

/// Global nearest neighbour: the assignment of least total d², by Kuhn–Munkres on integer
/// costs (d² × 10⁶, rounded), with one "new track" column per row at the gate value, so that
/// rows never outnumber columns and no cost is infinite.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gnn;

const SCALE: f64 = 1e6;

impl Associator for Gnn {
    fn assign(&self, costs: &[Vec<Option<f64>>], columns: usize, gate: f64) -> Vec<Option<usize>> {
        let rows = costs.len();
        if rows == 0 {
            return Vec::new();
        }
        if columns == 0 || costs.iter().all(|r| r.iter().all(Option::is_none)) {
            return vec![None; rows];
        }
        let miss = (gate.max(0.0) * SCALE).round() as i64 + 1;
        // Above any assignment that uses only gated pairs and misses, so it is never chosen.
        let forbidden = miss.saturating_mul(rows as i64 + 2);
        let mut m = Matrix::new(rows, columns + rows, forbidden);
        for (r, row) in costs.iter().enumerate() {
            for c in 0..rows {
                m[(r, columns + c)] = miss;
            }
            for (c, cost) in row.iter().enumerate().take(columns) {
                if let Some(d2) = cost.filter(|d| d.is_finite()) {
                    m[(r, c)] = (d2.clamp(0.0, gate) * SCALE).round() as i64;
                }
            }
        }
        let (_, assignment) = kuhn_munkres_min(&m);
        assignment
            .iter()
            .enumerate()
            .map(|(r, &c)| (c < columns && m[(r, c)] < forbidden).then_some(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cheapest_joint_assignment_wins_over_greedy_choice() {
        // Row 0 is closest to column 0, but row 1 can only go there: jointly 0→1, 1→0.
        let costs = vec![vec![Some(1.0), Some(2.0)], vec![Some(1.5), None]];
        assert_eq!(Gnn.assign(&costs, 2, 20.0), vec![Some(1), Some(0)]);
    }

    #[test]
    fn a_row_that_gates_with_nothing_starts_a_new_track() {
        let costs = vec![vec![None, None], vec![Some(3.0), None]];
        assert_eq!(Gnn.assign(&costs, 2, 20.0), vec![None, Some(0)]);
        assert_eq!(Gnn.assign(&[vec![], vec![]], 0, 20.0), vec![None, None]);
    }
}
