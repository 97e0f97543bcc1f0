//! The radar model: what a sensor can see, what it measures, and the false alarms it makes.
//!
//! A target is visible when it is within the maximum slant range, above the minimum elevation
//! (measured from the site's geodetic horizontal, so the Earth's curvature hides what is below
//! the horizon) and inside the azimuth sector. Measurements are the true azimuth, elevation and
//! range plus independent Gaussian noise. False alarms are spread uniformly in azimuth over the
//! sector, in elevation over [min, max] and in range over [0, max range].

use nalgebra::Vector3;
use rand::Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use trilink_geo::{wrap_two_pi, Aer, Enu, LocalFrame};

use crate::SensorSpec;

/// A sensor ready to scan: its frame and noise distributions built once.
#[derive(Debug, Clone)]
pub struct Radar {
    pub spec: SensorSpec,
    frame: LocalFrame,
    max_range2_m2: f64,
    sin_min_el: f64,
    cos_min_el: f64,
    false_alarms: Option<Poisson<f64>>,
}

impl Radar {
    /// Builds the radar of a validated sensor (σ > 0, mean false alarms ≥ 0 and finite).
    pub fn new(spec: &SensorSpec) -> Self {
        Self {
            frame: LocalFrame::new(spec.site),
            max_range2_m2: spec.max_range_m * spec.max_range_m,
            sin_min_el: spec.min_elevation_rad.sin(),
            cos_min_el: spec.min_elevation_rad.cos(),
            false_alarms: if spec.false_alarms_per_scan > 0.0 {
                Poisson::new(spec.false_alarms_per_scan).ok()
            } else {
                None
            },
            spec: spec.clone(),
        }
    }

    pub fn frame(&self) -> &LocalFrame {
        &self.frame
    }

    /// The true azimuth, elevation and range of an ECEF point, when the radar can see it.
    pub fn visible(&self, p_ecef_m: &Vector3<f64>) -> Option<Aer> {
        let d = p_ecef_m - self.frame.origin().0;
        if d.norm_squared() > self.max_range2_m2 {
            return None;
        }
        let enu = self.frame.rotate_to_enu(&d);
        let horizontal_m = enu.x.hypot(enu.y);
        // el ≥ min_el without an atan2: u·cos(min_el) ≥ h·sin(min_el) for h ≥ 0.
        if enu.z * self.cos_min_el < horizontal_m * self.sin_min_el {
            return None;
        }
        let aer = Enu(enu).to_aer();
        if aer.el_rad < self.spec.min_elevation_rad || !self.spec.sector.contains(aer.az_rad) {
            return None;
        }
        Some(aer)
    }

    /// Whether a visible target is detected in this scan (probability `p_detection`).
    pub fn detects<R: Rng>(&self, rng: &mut R) -> bool {
        rng.random::<f64>() < self.spec.p_detection
    }

    /// A noisy measurement of a true AER: azimuth wrapped to [0, 2π), range kept non-negative.
    pub fn measure<R: Rng>(&self, truth: &Aer, rng: &mut R) -> Aer {
        let s = &self.spec;
        let mut z = || -> f64 { rng.sample(StandardNormal) };
        let range_m = truth.range_m + s.sigma_range_m * z();
        let az_rad = wrap_two_pi(truth.az_rad + s.sigma_azimuth_rad * z());
        let el_rad = truth.el_rad + s.sigma_elevation_rad * z();
        Aer {
            az_rad,
            el_rad,
            // A negative range is physically meaningless; reflecting keeps the distribution's
            // width, and it only happens within a few σ of the antenna.
            range_m: range_m.abs(),
        }
    }

    /// How many false alarms this scan makes (Poisson with the configured mean).
    pub fn false_alarm_count<R: Rng>(&self, rng: &mut R) -> u64 {
        match &self.false_alarms {
            Some(p) => p.sample(rng) as u64,
            None => 0,
        }
    }

    /// One false alarm, uniform over the coverage.
    pub fn false_alarm<R: Rng>(&self, rng: &mut R) -> Aer {
        let s = &self.spec;
        let az_rad = wrap_two_pi(s.sector.start_rad + rng.random::<f64>() * s.sector.width_rad);
        let el_rad =
            s.min_elevation_rad + rng.random::<f64>() * (s.max_elevation_rad - s.min_elevation_rad);
        let range_m = rng.random::<f64>() * s.max_range_m;
        Aer {
            az_rad,
            el_rad,
            range_m,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AzimuthSector, SensorKind};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use trilink_geo::{geodesic_direct, Geodetic};

    fn spec() -> SensorSpec {
        SensorSpec {
            id: "T".into(),
            nation: "JP".into(),
            kind: SensorKind::XBand,
            site: Geodetic::from_degrees(38.0, 138.5, 50.0).unwrap(),
            lat_deg: 38.0,
            lon_deg: 138.5,
            max_range_m: 2.0e6,
            min_elevation_rad: 0.0,
            max_elevation_rad: 90f64.to_radians(),
            sector: AzimuthSector {
                start_rad: 200f64.to_radians(),
                width_rad: 120f64.to_radians(),
            },
            revisit_s: 1.0,
            phase_s: 0.0,
            sigma_range_m: 15.0,
            sigma_azimuth_rad: 2e-3,
            sigma_elevation_rad: 1e-3,
            p_detection: 0.9,
            false_alarms_per_scan: 2.0,
        }
    }

    fn point_at(site: &Geodetic, az_deg: f64, ground_m: f64, alt_m: f64) -> Vector3<f64> {
        let g = geodesic_direct(site, az_deg.to_radians(), ground_m);
        Geodetic { alt_m, ..g }.to_ecef().0
    }

    #[test]
    fn object_below_the_horizon_is_not_detected() {
        let r = Radar::new(&spec());
        let site = spec().site;
        // 1,000 km away, the horizon of a site near sea level is about 78 km up
        // (h ≈ d²/2R); 10 km is well below it, 300 km well above it. Azimuth 270° is in the
        // sector and 1,000 km is within range.
        let low = point_at(&site, 270.0, 1.0e6, 10_000.0);
        let high = point_at(&site, 270.0, 1.0e6, 300_000.0);
        assert!(r.visible(&low).is_none());
        let aer = r.visible(&high).expect("visible above the horizon");
        assert!(aer.el_rad > 0.0);
    }

    #[test]
    fn object_outside_the_sector_or_range_is_not_detected() {
        let r = Radar::new(&spec());
        let site = spec().site;
        assert!(r
            .visible(&point_at(&site, 90.0, 5.0e5, 300_000.0))
            .is_none());
        assert!(r
            .visible(&point_at(&site, 210.0, 5.0e5, 300_000.0))
            .is_some());
        assert!(r.visible(&point_at(&site, 270.0, 2.5e6, 1.0e6)).is_none());
    }

    #[test]
    fn measurement_noise_has_the_configured_sigma() {
        let r = Radar::new(&spec());
        let truth = Aer {
            az_rad: 0.0005, // near north, so wrapping is exercised
            el_rad: 0.3,
            range_m: 8.0e5,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 10_000;
        let (mut sr, mut sa, mut se) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let m = r.measure(&truth, &mut rng);
            sr.push(m.range_m - truth.range_m);
            sa.push(trilink_geo::wrap_pi(m.az_rad - truth.az_rad));
            se.push(m.el_rad - truth.el_rad);
            assert!((0.0..std::f64::consts::TAU).contains(&m.az_rad));
        }
        let stats = |v: &[f64]| {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
            (mean, var.sqrt())
        };
        // For 10k draws the sample σ has a relative standard error of 1/√(2n) ≈ 0.7 %; 3 %
        // is over four standard errors. The mean's standard error is σ/100.
        for (v, sigma) in [(&sr, 15.0), (&sa, 2e-3), (&se, 1e-3)] {
            let (mean, sd) = stats(v);
            eprintln!(
                "sigma {sigma:e}: sample sd {sd:e} ({:+.2} %), mean {mean:e}",
                (sd / sigma - 1.0) * 100.0
            );
            assert!((sd / sigma - 1.0).abs() < 0.03, "sd {sd} vs {sigma}");
            assert!(mean.abs() < 4.0 * sigma / 100.0, "mean {mean}");
        }
    }

    #[test]
    fn false_alarms_fill_the_coverage_with_the_configured_mean() {
        let r = Radar::new(&spec());
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let scans = 5_000;
        let mut total = 0u64;
        for _ in 0..scans {
            let k = r.false_alarm_count(&mut rng);
            total += k;
            for _ in 0..k {
                let a = r.false_alarm(&mut rng);
                assert!(r.spec.sector.contains(a.az_rad));
                assert!(a.el_rad >= 0.0 && a.el_rad <= 90f64.to_radians());
                assert!(a.range_m >= 0.0 && a.range_m <= 2.0e6);
            }
        }
        // Poisson mean 2 over 5,000 scans: total has σ = √10,000 = 100 about 10,000.
        assert!((total as f64 - 10_000.0).abs() < 400.0, "total {total}");
    }
}
