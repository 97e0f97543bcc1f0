//! Where a point or a ground path lies relative to a warning region, on the WGS-84 ellipsoid.
//!
//! Regions are a few hundred kilometres across. Each keeps a local equirectangular plane about
//! its own centre (metres per degree of the ellipsoid at that latitude, longitudes unwrapped about
//! the centre so an outline across the antimeridian stays in one piece). Over a region's extent
//! the plane's scale error is below 1 %, far under the error of the coarse outlines themselves;
//! it makes the hot tests (thousands of samples per update) cheap. Circles are tested with the
//! geodesic distance where the caller asks one point at a time.
use trilink_domain::{RegionShape, RegionSpec};
use trilink_geo::wgs84::{A_M, E2};
use trilink_geo::{geodesic_inverse, Geodetic};

use crate::WarnError;

/// Longitude moved by whole turns to within 180° of `reference`.
pub(crate) fn unwrap_lon(lon_deg: f64, reference_deg: f64) -> f64 {
    lon_deg - 360.0 * ((lon_deg - reference_deg) / 360.0).round()
}

/// Longitude in (-180°, 180°].
pub(crate) fn normalize_lon(lon_deg: f64) -> f64 {
    let l = unwrap_lon(lon_deg, 0.0);
    if l <= -180.0 {
        l + 360.0
    } else {
        l
    }
}

/// A local east-north plane (m) about a point: equirectangular with the ellipsoid's radii of
/// curvature at the point's latitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plane {
    lat0_deg: f64,
    lon0_deg: f64,
    east_m_per_deg: f64,
    north_m_per_deg: f64,
}

impl Plane {
    pub(crate) fn new(lat0_deg: f64, lon0_deg: f64) -> Self {
        let s = lat0_deg.to_radians().sin();
        let w2 = 1.0 - E2 * s * s;
        let prime_vertical = A_M / w2.sqrt();
        let meridional = A_M * (1.0 - E2) / (w2 * w2.sqrt());
        let per_rad = std::f64::consts::PI / 180.0;
        Self {
            lat0_deg,
            lon0_deg,
            east_m_per_deg: prime_vertical * lat0_deg.to_radians().cos() * per_rad,
            north_m_per_deg: meridional * per_rad,
        }
    }

    pub(crate) fn to_xy(self, lat_deg: f64, lon_deg: f64) -> (f64, f64) {
        (
            (unwrap_lon(lon_deg, self.lon0_deg) - self.lon0_deg) * self.east_m_per_deg,
            (lat_deg - self.lat0_deg) * self.north_m_per_deg,
        )
    }

    pub(crate) fn to_lat_lon(self, x_m: f64, y_m: f64) -> (f64, f64) {
        (
            self.lat0_deg + y_m / self.north_m_per_deg,
            normalize_lon(self.lon0_deg + x_m / self.east_m_per_deg),
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Polygon {
        vertices_deg: Vec<(f64, f64)>,
        xy: Vec<(f64, f64)>,
    },
    Circle {
        center: Geodetic,
        radius_m: f64,
    },
}

/// A warning region prepared for the tests below.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    name: String,
    nation: String,
    shape: Shape,
    plane: Plane,
    /// Every point of the region lies within this distance of the plane's origin (m).
    bound_m: f64,
}

/// The area a CAP message or a map draws for a region.
#[derive(Debug, Clone, PartialEq)]
pub enum Outline {
    /// `(lat_deg, lon_deg)` vertices, not closed.
    Polygon(Vec<(f64, f64)>),
    Circle {
        lat_deg: f64,
        lon_deg: f64,
        radius_m: f64,
    },
}

impl Region {
    pub fn new(spec: &RegionSpec) -> Result<Self, WarnError> {
        let bad = |problem: String| WarnError::BadRegion {
            name: spec.name.clone(),
            problem,
        };
        match &spec.shape {
            RegionShape::Polygon(vertices) => {
                trilink_domain::check_polygon(vertices).map_err(|p| bad(p.to_string()))?;
                if vertices
                    .iter()
                    .any(|&(lat, lon)| !lat.is_finite() || !lon.is_finite())
                {
                    return Err(bad("a vertex is not finite".into()));
                }
                let lon_ref = vertices[0].1;
                let n = vertices.len() as f64;
                let lat0 = vertices.iter().map(|v| v.0).sum::<f64>() / n;
                let lon0 = vertices
                    .iter()
                    .map(|v| unwrap_lon(v.1, lon_ref))
                    .sum::<f64>()
                    / n;
                let plane = Plane::new(lat0, normalize_lon(lon0));
                let xy: Vec<(f64, f64)> =
                    vertices.iter().map(|&(a, o)| plane.to_xy(a, o)).collect();
                let bound_m = xy.iter().map(|p| p.0.hypot(p.1)).fold(0.0, f64::max);
                Ok(Self {
                    name: spec.name.clone(),
                    nation: spec.nation.clone(),
                    shape: Shape::Polygon {
                        vertices_deg: vertices.clone(),
                        xy,
                    },
                    plane,
                    bound_m,
                })
            }
            RegionShape::Circle { center, radius_m } => {
                if !(radius_m.is_finite() && *radius_m > 0.0) {
                    return Err(bad(format!("radius {radius_m} m is not a positive number")));
                }
                Ok(Self {
                    name: spec.name.clone(),
                    nation: spec.nation.clone(),
                    shape: Shape::Circle {
                        center: *center,
                        radius_m: *radius_m,
                    },
                    plane: Plane::new(center.lat_deg(), center.lon_deg()),
                    bound_m: *radius_m,
                })
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn nation(&self) -> &str {
        &self.nation
    }

    pub fn outline(&self) -> Outline {
        match &self.shape {
            Shape::Polygon { vertices_deg, .. } => Outline::Polygon(vertices_deg.clone()),
            Shape::Circle { center, radius_m } => Outline::Circle {
                lat_deg: center.lat_deg(),
                lon_deg: center.lon_deg(),
                radius_m: *radius_m,
            },
        }
    }

    /// The outline as a polygon (a circle as a 72-gon on the plane), for maps.
    pub fn polygon(&self) -> Vec<(f64, f64)> {
        match &self.shape {
            Shape::Polygon { vertices_deg, .. } => vertices_deg.clone(),
            Shape::Circle { radius_m, .. } => (0..72)
                .map(|k| {
                    let a = (k as f64) * 5.0_f64.to_radians();
                    self.plane
                        .to_lat_lon(radius_m * a.sin(), radius_m * a.cos())
                })
                .collect(),
        }
    }

    /// The centre of the region's plane and the radius (m) that bounds it.
    pub fn centre_and_bound(&self) -> ((f64, f64), f64) {
        ((self.plane.lat0_deg, self.plane.lon0_deg), self.bound_m)
    }

    /// Whether the point lies in the region (a circle by geodesic distance).
    pub fn contains(&self, lat_deg: f64, lon_deg: f64) -> bool {
        match &self.shape {
            Shape::Polygon { xy, .. } => point_in_polygon(self.plane.to_xy(lat_deg, lon_deg), xy),
            Shape::Circle { center, radius_m } => {
                let p = Geodetic {
                    lat_rad: lat_deg.to_radians(),
                    lon_rad: lon_deg.to_radians(),
                    alt_m: 0.0,
                };
                geodesic_inverse(center, &p).distance_m <= *radius_m
            }
        }
    }

    /// Distance (m) from the point to the nearest point of the region; zero inside.
    ///
    /// Polygons: the vertices are placed on an azimuthal-equidistant map about the point (exact
    /// geodesic distance and azimuth to each vertex), and the nearest point of each edge is found
    /// on that map; the error is that of treating a short edge as straight there, metres for
    /// edges of a few hundred kilometres seen from a few hundred kilometres away.
    pub fn distance_m(&self, lat_deg: f64, lon_deg: f64) -> f64 {
        let p = Geodetic {
            lat_rad: lat_deg.to_radians(),
            lon_rad: lon_deg.to_radians(),
            alt_m: 0.0,
        };
        match &self.shape {
            Shape::Circle { center, radius_m } => {
                (geodesic_inverse(center, &p).distance_m - radius_m).max(0.0)
            }
            Shape::Polygon { vertices_deg, .. } => {
                if self.contains(lat_deg, lon_deg) {
                    return 0.0;
                }
                let map: Vec<(f64, f64)> = vertices_deg
                    .iter()
                    .map(|&(a, o)| {
                        let v = Geodetic {
                            lat_rad: a.to_radians(),
                            lon_rad: o.to_radians(),
                            alt_m: 0.0,
                        };
                        let g = geodesic_inverse(&p, &v);
                        (
                            g.distance_m * g.azimuth1_rad.sin(),
                            g.distance_m * g.azimuth1_rad.cos(),
                        )
                    })
                    .collect();
                (0..map.len())
                    .map(|i| segment_distance((0.0, 0.0), map[i], map[(i + 1) % map.len()]))
                    .fold(f64::INFINITY, f64::min)
            }
        }
    }

    /// Whether a ground path (sub-points `(lat_deg, lon_deg)` in order) passes over the region:
    /// a sub-point inside it or a leg between two crossing it.
    pub fn path_passes_over(&self, path: &[(f64, f64)]) -> bool {
        let xy: Vec<(f64, f64)> = path.iter().map(|&(a, o)| self.plane.to_xy(a, o)).collect();
        match xy.as_slice() {
            [] => false,
            [p] => self.contains_xy(*p),
            _ => xy.windows(2).any(|w| self.segment_hits_xy(w[0], w[1])),
        }
    }

    pub(crate) fn plane(&self) -> &Plane {
        &self.plane
    }

    pub(crate) fn bound_m(&self) -> f64 {
        self.bound_m
    }

    /// Containment of a point already on the region's plane (a circle by plane distance: at a
    /// few tens of kilometres the plane and the geodesic differ by metres).
    pub(crate) fn contains_xy(&self, p: (f64, f64)) -> bool {
        match &self.shape {
            Shape::Polygon { xy, .. } => point_in_polygon(p, xy),
            Shape::Circle { radius_m, .. } => p.0.hypot(p.1) <= *radius_m,
        }
    }

    /// Whether the segment ab (on the region's plane) touches the region.
    pub(crate) fn segment_hits_xy(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        match &self.shape {
            Shape::Circle { radius_m, .. } => segment_distance((0.0, 0.0), a, b) <= *radius_m,
            Shape::Polygon { xy, .. } => {
                if point_in_polygon(a, xy) || point_in_polygon(b, xy) {
                    return true;
                }
                (0..xy.len()).any(|i| segments_cross(a, b, xy[i], xy[(i + 1) % xy.len()]))
            }
        }
    }
}

/// Even-odd rule: a ray to +x crosses the outline an odd number of times from inside.
fn point_in_polygon(p: (f64, f64), poly: &[(f64, f64)]) -> bool {
    let mut inside = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        if (a.1 > p.1) != (b.1 > p.1) {
            let x = a.0 + (p.1 - a.1) / (b.1 - a.1) * (b.0 - a.0);
            if p.0 < x {
                inside = !inside;
            }
        }
    }
    inside
}

fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p.0 - (a.0 + t * dx)).hypot(p.1 - (a.1 + t * dy))
}

fn cross(o: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

fn segments_cross(p1: (f64, f64), p2: (f64, f64), q1: (f64, f64), q2: (f64, f64)) -> bool {
    let d1 = cross(q1, q2, p1);
    let d2 = cross(q1, q2, p2);
    let d3 = cross(p1, p2, q1);
    let d4 = cross(p1, p2, q2);
    (d1 * d2 <= 0.0) && (d3 * d4 <= 0.0) && !(d1 == 0.0 && d2 == 0.0 && d3 == 0.0 && d4 == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poly(name: &str, v: &[(f64, f64)]) -> Region {
        Region::new(&RegionSpec {
            name: name.into(),
            nation: "JP".into(),
            shape: RegionShape::Polygon(v.to_vec()),
        })
        .expect("valid outline")
    }

    const AOMORI: [(f64, f64); 4] = [
        (41.55, 139.95),
        (41.55, 141.70),
        (40.20, 141.70),
        (40.20, 139.85),
    ];

    #[test]
    fn aomori_city_is_in_aomori_and_sapporo_is_not() {
        let r = poly("Aomori", &AOMORI);
        assert!(r.contains(40.82, 140.74));
        assert!(!r.contains(43.06, 141.35));
        assert_eq!(r.distance_m(40.82, 140.74), 0.0);
    }

    #[test]
    fn distance_to_a_polygon_matches_the_geodesic_to_its_nearest_edge() {
        let r = poly("Aomori", &AOMORI);
        // Due east of the eastern edge (lon 141.70) at its mid latitude: the nearest point is on
        // the edge, about one degree of longitude at 40.9° N.
        let d = r.distance_m(40.875, 142.70);
        let g = geodesic_inverse(
            &Geodetic::from_degrees(40.875, 142.70, 0.0).expect("finite"),
            &Geodetic::from_degrees(40.875, 141.70, 0.0).expect("finite"),
        )
        .distance_m;
        assert!((d - g).abs() < 200.0, "{d} vs {g}");
    }

    #[test]
    fn a_circle_holds_points_within_its_geodesic_radius() {
        let seoul = Region::new(&RegionSpec {
            name: "Seoul".into(),
            nation: "KR".into(),
            shape: RegionShape::Circle {
                center: Geodetic::from_degrees(37.57, 126.98, 0.0).expect("finite"),
                radius_m: 60_000.0,
            },
        })
        .expect("valid circle");
        let c = Geodetic::from_degrees(37.57, 126.98, 0.0).expect("finite");
        let inside = trilink_geo::geodesic_direct(&c, 1.0, 59_000.0);
        let outside = trilink_geo::geodesic_direct(&c, 1.0, 61_000.0);
        assert!(seoul.contains(inside.lat_deg(), inside.lon_deg()));
        assert!(!seoul.contains(outside.lat_deg(), outside.lon_deg()));
        assert!((seoul.distance_m(outside.lat_deg(), outside.lon_deg()) - 1_000.0).abs() < 1.0);
        assert!(seoul.contains_xy(seoul.plane().to_xy(inside.lat_deg(), inside.lon_deg())));
    }

    #[test]
    fn a_region_across_the_antimeridian_holds_points_on_both_sides() {
        let r = poly(
            "Dateline",
            &[(10.0, 179.0), (10.0, -179.0), (11.0, -179.0), (11.0, 179.0)],
        );
        assert!(r.contains(10.5, 179.5));
        assert!(r.contains(10.5, -179.5));
        assert!(r.contains(10.5, 180.0));
        assert!(!r.contains(10.5, 178.5));
        assert!(!r.contains(10.5, 0.0));
        assert!(r.path_passes_over(&[(10.5, 178.0), (10.5, -178.0)]));
        assert!(r.distance_m(10.5, 178.0) > 100_000.0);
    }

    #[test]
    fn a_path_over_aomori_passes_over_it_and_one_beside_it_does_not() {
        let r = poly("Aomori", &AOMORI);
        // Both ends outside; only the leg crosses.
        assert!(r.path_passes_over(&[(40.9, 138.0), (40.9, 143.0)]));
        assert!(!r.path_passes_over(&[(42.5, 138.0), (42.5, 143.0)]));
    }
}
