//! The 95 % error ellipse of a ground point and the east-north covariance it stands for.
//!
//! A 2-D Gaussian holds 95 % of its mass inside the ellipse whose semi-axes are √(χ²₂(0.95) λᵢ),
//! χ²₂(0.95) = −2 ln 0.05 = 5.991, λᵢ the covariance's eigenvalues.
use nalgebra::{Matrix2, SymmetricEigen, Vector2};

pub const CHI2_2_95: f64 = 5.991_464_547_107_979;

/// A 95 % ellipse: semi-axes (m) and the major axis' orientation, degrees clockwise from north
/// in [0, 180).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipse {
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    pub orientation_deg: f64,
}

impl Ellipse {
    /// The east-north covariance (m²) whose 95 % ellipse this is.
    pub fn covariance_en(&self) -> Matrix2<f64> {
        let th = self.orientation_deg.to_radians();
        // Unit vectors in (east, north): clockwise from north.
        let major = Vector2::new(th.sin(), th.cos());
        let minor = Vector2::new(th.cos(), -th.sin());
        let (la, lb) = (
            self.semi_major_m.powi(2) / CHI2_2_95,
            self.semi_minor_m.powi(2) / CHI2_2_95,
        );
        major * major.transpose() * la + minor * minor.transpose() * lb
    }

    pub fn from_covariance_en(c: &Matrix2<f64>) -> Self {
        let sym = 0.5 * (c + c.transpose());
        let eig = SymmetricEigen::new(sym);
        let (i_major, i_minor) = if eig.eigenvalues[0] >= eig.eigenvalues[1] {
            (0, 1)
        } else {
            (1, 0)
        };
        let v = eig.eigenvectors.column(i_major);
        let orientation_deg = v[0].atan2(v[1]).to_degrees().rem_euclid(180.0);
        Self {
            semi_major_m: (eig.eigenvalues[i_major].max(0.0) * CHI2_2_95).sqrt(),
            semi_minor_m: (eig.eigenvalues[i_minor].max(0.0) * CHI2_2_95).sqrt(),
            orientation_deg: if orientation_deg >= 180.0 {
                0.0
            } else {
                orientation_deg
            },
        }
    }

    /// One-sigma spread (m) along the horizontal unit direction `(east, north)`.
    pub fn sigma_along(&self, dir_en: (f64, f64)) -> f64 {
        let u = Vector2::new(dir_en.0, dir_en.1);
        (u.transpose() * self.covariance_en() * u)[(0, 0)]
            .max(0.0)
            .sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ellipse_survives_the_round_trip_through_its_covariance() {
        let e = Ellipse {
            semi_major_m: 30_000.0,
            semi_minor_m: 8_000.0,
            orientation_deg: 63.0,
        };
        let back = Ellipse::from_covariance_en(&e.covariance_en());
        assert!((back.semi_major_m - e.semi_major_m).abs() < 1e-6);
        assert!((back.semi_minor_m - e.semi_minor_m).abs() < 1e-6);
        assert!((back.orientation_deg - e.orientation_deg).abs() < 1e-9);
        // Along the major axis, σ = a / √χ².
        let th = 63.0_f64.to_radians();
        let s = e.sigma_along((th.sin(), th.cos()));
        assert!((s - 30_000.0 / CHI2_2_95.sqrt()).abs() < 1e-6);
    }
}
