//! The posterior Cramér–Rao lower bound (PCRLB) in the recursive information form of
//! Tichavský, Muravchik and Nehorai (IEEE TSP 46(5), 1998).
//!
//! With process noise Q the recursion is `J⁺ = D22 − D21 (J + D11)⁻¹ D12 + E[Hᵀ R⁻¹ H]`. The truth
//! trajectories trilink scores are deterministic (no process noise), and for Q → 0 the recursion
//! becomes `J⁺ = Φ⁻ᵀ J Φ⁻¹ + Hᵀ R⁻¹ H`: information carried along the state transition matrix Φ
//! of the true trajectory, plus the Fisher information of each measurement. That is what
//! [`Information`] implements. Conditioning choices (realised detection sequence, diffuse prior
//! at first detection, known dynamics) are in docs/decisions/0501.

use nalgebra::{Matrix3, Matrix6, SMatrix, Vector3};
use trilink_geo::wgs84::OMEGA_RAD_PER_S;
use trilink_geo::LocalFrame;
use trilink_physics::gravity;

/// Fisher information of an N-dimensional state, starting diffuse (zero information).
#[derive(Debug, Clone, PartialEq)]
pub struct Information<const N: usize> {
    j: SMatrix<f64, N, N>,
}

impl<const N: usize> Default for Information<N> {
    fn default() -> Self {
        Self::diffuse()
    }
}

impl<const N: usize> Information<N> {
    /// No prior information at all.
    pub fn diffuse() -> Self {
        Self {
            j: SMatrix::zeros(),
        }
    }

    pub fn matrix(&self) -> &SMatrix<f64, N, N> {
        &self.j
    }

    /// Carries the information across a deterministic transition `x⁺ = Φ x`.
    /// Returns false (and leaves the information as it was) if Φ is singular.
    pub fn predict(&mut self, phi: &SMatrix<f64, N, N>) -> bool {
        let Some(phi_inv) = phi.try_inverse() else {
            return false;
        };
        let j = phi_inv.transpose() * self.j * phi_inv;
        self.j = 0.5 * (j + j.transpose());
        true
    }

    /// Adds the information `Hᵀ R⁻¹ H` of one measurement.
    pub fn update<const M: usize>(&mut self, h: &SMatrix<f64, M, N>, r_inv: &SMatrix<f64, M, M>) {
        let add = h.transpose() * r_inv * h;
        self.j += 0.5 * (add + add.transpose());
    }

    /// The bound `J⁻¹`, or `None` while some direction of the state is still unobserved.
    ///
    /// Observability is judged on the correlation form `C = D J D` (D = diag(J)^-½), which is
    /// scale-free: `trace(C⁻¹) ≥ 1/λ_min(C)`, so requiring it below 1e12 keeps λ_min above
    /// 1e-12. Below that the state is not determined to f64 precision and the "bound" would be
    /// rounding noise.
    pub fn bound(&self) -> Option<SMatrix<f64, N, N>> {
        let mut d = SMatrix::<f64, N, N>::zeros();
        for i in 0..N {
            let jii = self.j[(i, i)];
            if !(jii > 0.0 && jii.is_finite()) {
                return None;
            }
            d[(i, i)] = 1.0 / jii.sqrt();
        }
        let corr = d * self.j * d;
        let inv_corr = corr.cholesky()?.inverse();
        let trace = inv_corr.trace();
        if !trace.is_finite() || trace >= 1e12 || (0..N).any(|i| inv_corr[(i, i)] <= 0.0) {
            return None;
        }
        Some(d * inv_corr * d)
    }
}

/// ∂(az, el, range)/∂(ECEF position) of a point seen from a site. Rows: azimuth (rad/m),
/// elevation (rad/m), range (m/m). `None` at the site itself or straight overhead, where
/// azimuth has no derivative.
pub fn aer_jacobian(frame: &LocalFrame, p_ecef: &Vector3<f64>) -> Option<Matrix3<f64>> {
    let rot = frame.ecef_to_enu_rotation();
    let enu = rot * (p_ecef - frame.origin().0);
    let (e, n, u) = (enu.x, enu.y, enu.z);
    let h2 = e * e + n * n;
    let r2 = h2 + u * u;
    if h2 <= 0.0 || h2.is_nan() {
        return None;
    }
    let h = h2.sqrt();
    let r = r2.sqrt();
    #[rustfmt::skip]
    let d_enu = Matrix3::new(
        n / h2,              -e / h2,             0.0,
        -e * u / (r2 * h),   -n * u / (r2 * h),   h / r2,
        e / r,               n / r,               u / r,
    );
    Some(d_enu * rot)
}

/// ∂(acceleration)/∂(position, velocity) of free flight in the rotating ECEF frame: the gravity
/// gradient (point mass + J2) plus the centrifugal and Coriolis terms.
pub fn free_flight_jacobian(r_m: &Vector3<f64>) -> Matrix6<f64> {
    let w = OMEGA_RAD_PER_S;
    let g = gravity::gradient(r_m);
    let mut a = Matrix6::zeros();
    a.fixed_view_mut::<3, 3>(0, 3).fill_with_identity();
    let mut dadr = g;
    // −ω×(ω×r) = (w²x, w²y, 0).
    dadr[(0, 0)] += w * w;
    dadr[(1, 1)] += w * w;
    a.fixed_view_mut::<3, 3>(3, 0).copy_from(&dadr);
    // −2ω×v = (2w·vy, −2w·vx, 0).
    a[(3, 4)] = 2.0 * w;
    a[(4, 3)] = -2.0 * w;
    a
}

/// The state transition matrix Φ(t1, t0) along a trajectory whose position at any time is given
/// by `position_at`, by RK4 on `dΦ/dt = A(r(t)) Φ` with steps of at most `max_step_s`.
pub fn transition_matrix(
    t0_s: f64,
    t1_s: f64,
    max_step_s: f64,
    position_at: impl Fn(f64) -> Vector3<f64>,
) -> Matrix6<f64> {
    let span = t1_s - t0_s;
    let mut phi = Matrix6::identity();
    if span == 0.0 {
        return phi;
    }
    let steps = (span.abs() / max_step_s).ceil().max(1.0) as usize;
    let h = span / steps as f64;
    for k in 0..steps {
        let t = t0_s + h * k as f64;
        let a0 = free_flight_jacobian(&position_at(t));
        let am = free_flight_jacobian(&position_at(t + 0.5 * h));
        let a1 = free_flight_jacobian(&position_at(t + h));
        let k1 = a0 * phi;
        let k2 = am * (phi + 0.5 * h * k1);
        let k3 = am * (phi + 0.5 * h * k2);
        let k4 = a1 * (phi + h * k3);
        phi += (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    phi
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix1, Matrix1x2, Matrix2, Vector6};
    use trilink_geo::Geodetic;
    use trilink_physics::free_flight_acceleration;
    use trilink_physics::integrate::{position, rk4_step};

    #[test]
    fn static_target_with_n_direct_measurements_has_bound_sigma_squared_over_n() {
        // Classical result: n independent measurements of a constant with variance σ² give an
        // efficient estimate (the mean) with variance σ²/n on each axis.
        let sigma = 30.0;
        let r_inv = Matrix3::identity() / (sigma * sigma);
        let mut info = Information::<3>::diffuse();
        for n in 1..=25 {
            info.predict(&Matrix3::identity());
            info.update(&Matrix3::identity(), &r_inv);
            let b = info.bound().unwrap();
            for i in 0..3 {
                let expected = sigma * sigma / n as f64;
                assert!((b[(i, i)] - expected).abs() < 1e-9 * expected, "n={n}");
            }
        }
    }

    #[test]
    fn constant_velocity_bound_is_the_least_squares_line_fit_covariance() {
        // Positions of a 1-D constant-velocity target measured at t_i with noise σ: the bound at
        // the last time is the covariance of the least-squares line fit evaluated there, i.e.
        // var(slope) = σ²/Σ(t−t̄)², var(x(t_n)) = σ²(1/n + (t_n−t̄)²/Σ(t−t̄)²).
        let sigma = 5.0;
        let times = [0.0, 1.0, 2.5, 4.0, 7.0, 8.0];
        let mut info = Information::<2>::diffuse();
        let h = Matrix1x2::new(1.0, 0.0);
        let r_inv = Matrix1::new(1.0 / (sigma * sigma));
        let mut prev = times[0];
        for &t in &times {
            let dt = t - prev;
            info.predict(&Matrix2::new(1.0, dt, 0.0, 1.0));
            info.update(&h, &r_inv);
            prev = t;
        }
        let b = info.bound().unwrap();
        let n = times.len() as f64;
        let mean = times.iter().sum::<f64>() / n;
        let sxx: f64 = times.iter().map(|t| (t - mean) * (t - mean)).sum();
        let tn = times[times.len() - 1];
        let var_v = sigma * sigma / sxx;
        let var_x = sigma * sigma * (1.0 / n + (tn - mean) * (tn - mean) / sxx);
        assert!(
            (b[(1, 1)] - var_v).abs() < 1e-9 * var_v,
            "{} vs {var_v}",
            b[(1, 1)]
        );
        assert!(
            (b[(0, 0)] - var_x).abs() < 1e-9 * var_x,
            "{} vs {var_x}",
            b[(0, 0)]
        );
    }

    #[test]
    fn one_position_fix_leaves_velocity_unobserved() {
        let mut info = Information::<2>::diffuse();
        info.update(&Matrix1x2::new(1.0, 0.0), &Matrix1::new(1.0));
        assert!(info.bound().is_none());
    }

    #[test]
    fn repeated_radar_looks_at_a_static_point_bound_each_aer_axis_by_sigma_squared_over_n() {
        // A static point seen n times by one radar: mapped back through the AER Jacobian, the
        // position bound gives exactly diag(σ_az², σ_el², σ_r²)/n in measurement space.
        let site = Geodetic::from_degrees(36.0, 127.0, 100.0).unwrap();
        let frame = LocalFrame::new(site);
        let target = Geodetic::from_degrees(39.0, 125.5, 300e3)
            .unwrap()
            .to_ecef()
            .0;
        let h = aer_jacobian(&frame, &target).unwrap();
        let sig = Vector3::new(1e-3, 2e-3, 50.0);
        let r_inv = Matrix3::from_diagonal(&sig.map(|s| 1.0 / (s * s)));
        let n = 12.0;
        let mut info = Information::<3>::diffuse();
        for _ in 0..12 {
            info.update(&h, &r_inv);
        }
        let b = h * info.bound().unwrap() * h.transpose();
        for i in 0..3 {
            let expected = sig[i] * sig[i] / n;
            assert!((b[(i, i)] - expected).abs() < 1e-6 * expected, "axis {i}");
        }
    }

    #[test]
    fn aer_jacobian_matches_finite_differences() {
        let frame = LocalFrame::new(Geodetic::from_degrees(35.0, 139.0, 20.0).unwrap());
        let p = Geodetic::from_degrees(38.5, 133.0, 450e3)
            .unwrap()
            .to_ecef()
            .0;
        let h = aer_jacobian(&frame, &p).unwrap();
        let aer = |q: &Vector3<f64>| {
            let a = frame.aer_of(&trilink_geo::Ecef(*q));
            Vector3::new(a.az_rad, a.el_rad, a.range_m)
        };
        for i in 0..3 {
            let mut dp = Vector3::zeros();
            dp[i] = 1.0;
            let col = (aer(&(p + dp)) - aer(&(p - dp))) / 2.0;
            for k in 0..3 {
                let scale = h.row(k).norm();
                assert!((h[(k, i)] - col[k]).abs() < 1e-6 * scale, "d{k}/dx{i}");
            }
        }
    }

    #[test]
    fn transition_matrix_matches_finite_differences_of_the_flow() {
        // Φ maps a small initial perturbation to the final one: compare with propagating
        // perturbed free-flight states by RK4 (the truth propagator of trilink_physics).
        let r0 = Vector3::new(-3.05e6, 4.05e6, 3.95e6);
        let v0 = Vector3::new(1.2e3, 2.1e3, 3.3e3);
        let s0 = Vector6::new(r0.x, r0.y, r0.z, v0.x, v0.y, v0.z);
        let flow = |s: &Vector6<f64>, span: f64| {
            let mut x = *s;
            let n = 600;
            for k in 0..n {
                x = rk4_step(
                    k as f64 * span / n as f64,
                    &x,
                    span / n as f64,
                    |_, r, v| free_flight_acceleration(r, v),
                );
            }
            x
        };
        let span = 60.0;
        // Reference trajectory sampled finely, interpolated linearly for the Jacobian.
        let n_ref = 600;
        let mut traj = vec![s0];
        for k in 0..n_ref {
            let prev = traj[k];
            traj.push(rk4_step(0.0, &prev, span / n_ref as f64, |_, r, v| {
                free_flight_acceleration(r, v)
            }));
        }
        let position_at = |t: f64| {
            let x = t / span * n_ref as f64;
            let i = (x.floor() as usize).min(n_ref - 1);
            let f = x - i as f64;
            position(&traj[i]) * (1.0 - f) + position(&traj[i + 1]) * f
        };
        let phi = transition_matrix(0.0, span, 1.0, position_at);
        let steps = [10.0, 10.0, 10.0, 0.01, 0.01, 0.01];
        for i in 0..6 {
            let mut d = Vector6::zeros();
            d[i] = steps[i];
            let col = (flow(&(s0 + d), span) - flow(&(s0 - d), span)) / (2.0 * steps[i]);
            for k in 0..6 {
                let tol = 1e-5 * phi.row(k).norm().max(1.0);
                assert!(
                    (phi[(k, i)] - col[k]).abs() < tol,
                    "Φ[{k},{i}] {} vs {}",
                    phi[(k, i)],
                    col[k]
                );
            }
        }
    }
}
