//! Warning regions: the areas a nation warns, as the scenario draws them, and the checks that
//! make a drawn outline usable (a region that cannot contain a point is a typo, not a region).
use trilink_geo::Geodetic;

/// The area a warning region covers.
#[derive(Debug, Clone, PartialEq)]
pub enum RegionShape {
    /// Vertices `(lat_deg, lon_deg)` in order; the polygon closes itself.
    Polygon(Vec<(f64, f64)>),
    Circle {
        center: Geodetic,
        radius_m: f64,
    },
}

/// An area a nation warns.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionSpec {
    pub name: String,
    pub nation: String,
    pub shape: RegionShape,
}

/// What is wrong with a drawn polygon.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolygonProblem {
    #[error("{count} vertices; a region needs at least 3")]
    TooFewVertices { count: usize },
    #[error("vertices {a} and {b} are the same point; every vertex must be distinct")]
    RepeatedVertex { a: usize, b: usize },
    #[error("edge {a}-{a_next} crosses edge {b}-{b_next}; the outline must not intersect itself")]
    SelfIntersecting {
        a: usize,
        a_next: usize,
        b: usize,
        b_next: usize,
    },
    #[error("it encloses no area (all vertices on one line)")]
    Degenerate,
    #[error("it spans {span_deg:.1}° of longitude; draw regions smaller than a hemisphere")]
    TooWide { span_deg: f64 },
}

/// Longitude of `lon` moved by whole turns to within 180° of `reference`, so that a polygon
/// across the antimeridian is checked as it is drawn on a map.
fn unwrap_lon(lon: f64, reference: f64) -> f64 {
    lon - 360.0 * ((lon - reference) / 360.0).round()
}

/// The polygon's vertices as planar (lon, lat) degrees with longitudes unwrapped about the
/// first vertex. Regions are a few degrees wide, where this plane is a fair map for topology
/// (crossing edges, zero area); distances and containment use the ellipsoid elsewhere.
pub fn planar(vertices: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let lon0 = vertices.first().map(|v| v.1).unwrap_or(0.0);
    vertices
        .iter()
        .map(|&(lat, lon)| (unwrap_lon(lon, lon0), lat))
        .collect()
}

fn cross(o: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Whether closed segments p1p2 and q1q2 share a point.
fn segments_touch(p1: (f64, f64), p2: (f64, f64), q1: (f64, f64), q2: (f64, f64)) -> bool {
    let d1 = cross(q1, q2, p1);
    let d2 = cross(q1, q2, p2);
    let d3 = cross(p1, p2, q1);
    let d4 = cross(p1, p2, q2);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    let on = |a: (f64, f64), b: (f64, f64), p: (f64, f64), d: f64| {
        d == 0.0
            && p.0 >= a.0.min(b.0)
            && p.0 <= a.0.max(b.0)
            && p.1 >= a.1.min(b.1)
            && p.1 <= a.1.max(b.1)
    };
    on(q1, q2, p1, d1) || on(q1, q2, p2, d2) || on(p1, p2, q1, d3) || on(p1, p2, q2, d4)
}

/// Twice the signed area of the planar polygon (positive counter-clockwise in lon/lat).
pub fn signed_area2(pts: &[(f64, f64)]) -> f64 {
    let n = pts.len();
    (0..n)
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Checks that a polygon of `(lat_deg, lon_deg)` vertices is a simple polygon with an area.
pub fn check_polygon(vertices: &[(f64, f64)]) -> Result<(), PolygonProblem> {
    let n = vertices.len();
    if n < 3 {
        return Err(PolygonProblem::TooFewVertices { count: n });
    }
    let pts = planar(vertices);
    let (lo, hi) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
    if hi - lo >= 180.0 {
        return Err(PolygonProblem::TooWide { span_deg: hi - lo });
    }
    for a in 0..n {
        for b in (a + 1)..n {
            if pts[a] == pts[b] {
                return Err(PolygonProblem::RepeatedVertex { a, b });
            }
        }
    }
    for a in 0..n {
        for b in (a + 1)..n {
            // Neighbouring edges share a vertex by construction.
            if b == a + 1 || (a == 0 && b == n - 1) {
                continue;
            }
            let (an, bn) = ((a + 1) % n, (b + 1) % n);
            if segments_touch(pts[a], pts[an], pts[b], pts[bn]) {
                return Err(PolygonProblem::SelfIntersecting {
                    a,
                    a_next: an,
                    b,
                    b_next: bn,
                });
            }
        }
    }
    // Relative to the bounding box, so a tiny but real region is not called degenerate.
    let (mut w, mut h) = (0.0f64, 0.0f64);
    for p in &pts {
        w = w.max((p.0 - pts[0].0).abs());
        h = h.max((p.1 - pts[0].1).abs());
    }
    if signed_area2(&pts).abs() <= 1e-9 * (w * h).max(f64::MIN_POSITIVE) {
        return Err(PolygonProblem::Degenerate);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simple_outline_passes() {
        let aomori = [
            (41.55, 139.95),
            (41.55, 141.70),
            (40.20, 141.70),
            (40.20, 139.85),
        ];
        assert_eq!(check_polygon(&aomori), Ok(()));
    }

    #[test]
    fn a_bow_tie_is_self_intersecting() {
        let bow = [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0)];
        assert!(matches!(
            check_polygon(&bow),
            Err(PolygonProblem::SelfIntersecting { .. })
        ));
    }

    #[test]
    fn collinear_and_short_outlines_are_refused() {
        assert_eq!(
            check_polygon(&[(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)]),
            Err(PolygonProblem::Degenerate)
        );
        assert_eq!(
            check_polygon(&[(0.0, 0.0), (1.0, 1.0)]),
            Err(PolygonProblem::TooFewVertices { count: 2 })
        );
        assert_eq!(
            check_polygon(&[(0.0, 0.0), (1.0, 1.0), (0.0, 0.0), (1.0, 0.0)]),
            Err(PolygonProblem::RepeatedVertex { a: 0, b: 2 })
        );
    }

    #[test]
    fn an_outline_across_the_antimeridian_is_checked_as_drawn() {
        let p = [(10.0, 179.0), (10.0, -179.0), (11.0, -179.0), (11.0, 179.0)];
        assert_eq!(check_polygon(&p), Ok(()));
    }
}
