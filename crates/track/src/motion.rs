//! Motion models: what a state does between two times.
//!
//! The state is `[x, y, z, vx, vy, vz]` in the rotating ECEF frame of WGS-84 (m, m/s). The
//! deterministic part uses exactly the simulator's equations of motion
//! (`trilink_physics::free_flight_acceleration`: point mass + J2 + Coriolis + centrifugal), so
//! truth and prediction never disagree about the Earth. Process noise is documented in
//! docs/decisions/0401-ballistic-motion-and-process-noise.md.

use nalgebra::storage::Storage;
use nalgebra::{Const, Matrix, Matrix3, Matrix6, SMatrix, SVector, Vector3, Vector6, U3};
use trilink_geo::wgs84::{A_M, B_M, E2, GM_M3_PER_S2, OMEGA_RAD_PER_S};
use trilink_physics::atmosphere::{density_kg_m3, DRAG_CEILING_ALT_M};
use trilink_physics::free_flight_acceleration;

/// Kinematic state: ECEF position (m) and velocity (m/s). What a track reports.
pub type StateVec = Vector6<f64>;
/// Covariance of the kinematic state.
pub type StateCov = Matrix6<f64>;

/// Dimension of the filter's augmented state.
pub const NX: usize = 10;
/// Index of the first of the three thrust-acceleration components (ECEF, m/s²).
pub const IA: usize = 6;
/// Index of the inverse ballistic coefficient k = 1/β = C_d·A/m (m²/kg).
pub const IK: usize = 9;
/// The filter's state: `[x, y, z, vx, vy, vz, ax, ay, az, k]`. Position and velocity in the
/// rotating ECEF frame; `a` the non-gravitational acceleration of thrust (m/s²); `k` the inverse
/// ballistic coefficient of drag. Every IMM model carries all ten, so mixing stays exact; a
/// model without thrust holds `a` at zero, one without drag leaves `k` as it is.
pub type AugVec = SVector<f64, NX>;
/// Covariance of the augmented state.
pub type AugCov = SMatrix<f64, NX, NX>;
/// The kinematic rows of Φ, over the columns a model's Φ can fill: all of them but the
/// thrust's (re-entry: the kinematics and k, 6 × 7, k last) or all but k's (boost: 6 × 9).
/// The columns left out stay exactly zero over any prediction (a model without thrust holds
/// the thrust at zero and nothing in its dynamics reads it; the boost model has no drag), so
/// integrating them only multiplied zeros (docs/decisions/0418).
type Top<const C: usize> = SMatrix<f64, 6, C>;
/// Columns of [`Top`] for the re-entry model: the six kinematic ones and k.
const DRAG_COLS: usize = 7;
/// Columns of [`Top`] for the boost model: the six kinematic ones and the thrust's three.
const THRUST_COLS: usize = 9;

/// The kinematic part of an augmented state and covariance.
pub fn kinematic(x: &AugVec, p: &AugCov) -> (StateVec, StateCov) {
    (
        x.fixed_rows::<6>(0).into_owned(),
        p.fixed_view::<6, 6>(0, 0).into_owned(),
    )
}

/// An augmented state from a kinematic one, with no thrust (σ `accel_sigma_mps2` per axis) and
/// inverse ballistic coefficient `k` (σ `k_sigma`), uncorrelated with the kinematics.
pub fn augment(
    x: &StateVec,
    p: &StateCov,
    accel_sigma_mps2: f64,
    k: f64,
    k_sigma: f64,
) -> (AugVec, AugCov) {
    let mut xa = AugVec::zeros();
    xa.fixed_rows_mut::<6>(0).copy_from(x);
    xa[IK] = k;
    let mut pa = AugCov::zeros();
    pa.fixed_view_mut::<6, 6>(0, 0).copy_from(p);
    for i in IA..IA + 3 {
        pa[(i, i)] = accel_sigma_mps2 * accel_sigma_mps2;
    }
    pa[(IK, IK)] = k_sigma * k_sigma;
    (xa, pa)
}

/// The outcome of propagating a state: the new state, the state-transition matrix (Jacobian of
/// the new state with respect to the old) and the process noise accumulated over the interval.
#[derive(Debug, Clone, Copy)]
pub struct Prediction {
    pub x: AugVec,
    pub stm: AugCov,
    pub q: AugCov,
}

/// What a state does between two times.
pub trait MotionModel {
    /// Propagates `x` by `dt_s` (which may be negative, for back-propagation; process noise is
    /// then still added, as uncertainty grows in both directions).
    fn predict(&self, x: &AugVec, dt_s: f64) -> Prediction;
    /// The state alone propagated by `dt_s`, by the same deterministic dynamics as
    /// [`MotionModel::predict`] (so a sigma-point filter and the EKF share one gravity model).
    /// Models that can skip the state-transition matrix should: the unscented filter calls this
    /// once per sigma point.
    fn propagate_state(&self, x: &AugVec, dt_s: f64) -> AugVec {
        self.predict(x, dt_s).x
    }
    /// A short name for reports ("ballistic", "boost").
    fn name(&self) -> &'static str;
    /// Process noise alone over `dt_s`.
    fn noise(&self, dt_s: f64) -> AugCov;
    /// `true` if `other` has the same deterministic dynamics and differs only in its noise, so
    /// that an IMM can propagate one state-transition matrix for both.
    fn same_dynamics(&self, _other: &Self) -> bool {
        false
    }
}

/// The non-gravitational force a model believes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Force {
    /// None: free flight; the thrust acceleration is held at zero.
    None,
    /// Thrust: the acceleration state acts on the velocity, grows as the rocket equation says
    /// ([`ThrustDrift`]) and wanders as a Wiener process around that growth.
    Thrust,
    /// Drag of the US76 atmosphere at the estimated inverse ballistic coefficient; the thrust
    /// acceleration is held at zero.
    Drag,
}

/// Flight in the rotating frame with the simulator's gravity, one non-gravitational [`Force`],
/// and white-noise acceleration of power spectral density `q_psd_m2_s3` on each axis for
/// whatever the model leaves out.
///
/// The state is integrated with classical RK4 together with the variational equations
/// `Φ' = A(x(t)) Φ`, where `A` is the Jacobian of the dynamics; the gravity gradient in `A` is the
/// point-mass one (the J2 part is 1e-3 of it and changes the covariance by far less than the
/// process noise does; the state itself uses full J2). Thrust and `k` are constant over one
/// prediction, so only the six kinematic rows of Φ are integrated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ballistic {
    pub q_psd_m2_s3: f64,
    pub force: Force,
    /// [`Force::Thrust`]: PSD of the white jerk that moves the thrust acceleration (m²/s⁵).
    pub q_jerk_m2_s5: f64,
    /// [`Force::Thrust`]: effective exhaust velocity vₑ (m/s) of the rocket equation that makes
    /// the thrust acceleration grow as the propellant burns ([`ThrustDrift`]); infinite for a
    /// thrust acceleration that only wanders.
    pub exhaust_velocity_mps: f64,
    /// [`Force::Drag`]: PSD of the random walk of k (m⁴ kg⁻² s⁻¹).
    pub q_inv_beta: f64,
    /// Models without thrust: σ of the acceleration state they reset to zero (m/s²). It is
    /// what the boost model inherits, through mixing, when thrust starts again.
    pub accel_sigma_mps2: f64,
    /// Longest RK4 step (s); RK4 at 10 s keeps the state error at the millimetre level.
    pub max_step_s: f64,
    pub name: &'static str,
}

impl Ballistic {
    pub fn free_flight(q_psd_m2_s3: f64) -> Self {
        Self {
            q_psd_m2_s3,
            force: Force::None,
            q_jerk_m2_s5: 0.0,
            exhaust_velocity_mps: f64::INFINITY,
            q_inv_beta: 0.0,
            accel_sigma_mps2: 5.0,
            max_step_s: 10.0,
            name: "ballistic",
        }
    }

    /// A thrusting body: gravity plus the estimated thrust acceleration, which grows as the
    /// rocket equation says for an exhaust velocity `exhaust_velocity_mps` ([`ThrustDrift`];
    /// `f64::INFINITY` holds it constant) and wanders with white jerk of PSD `q_jerk_m2_s5`;
    /// `q_psd_m2_s3` covers what a slowly varying thrust leaves out (staging, throttling). The
    /// "boost" model of the IMM.
    pub fn boost(q_psd_m2_s3: f64, q_jerk_m2_s5: f64, exhaust_velocity_mps: f64) -> Self {
        Self {
            q_psd_m2_s3,
            force: Force::Thrust,
            q_jerk_m2_s5,
            exhaust_velocity_mps,
            q_inv_beta: 0.0,
            accel_sigma_mps2: 0.0,
            max_step_s: 5.0,
            name: "boost",
        }
    }

    /// Flight through the atmosphere with the ballistic coefficient estimated in the state:
    /// the "re-entry" model of the IMM (endo-atmospheric flight of short-range missiles
    /// included).
    pub fn reentry(q_psd_m2_s3: f64, q_inv_beta: f64) -> Self {
        Self {
            q_psd_m2_s3,
            force: Force::Drag,
            q_jerk_m2_s5: 0.0,
            exhaust_velocity_mps: f64::INFINITY,
            q_inv_beta,
            accel_sigma_mps2: 5.0,
            max_step_s: 2.0,
            name: "reentry",
        }
    }
}

/// `d/dt` of position and velocity for the augmented state `x` under `force`.
#[inline]
fn kin_deriv(x: &AugVec, force: Force) -> Vector6<f64> {
    let r = Vector3::new(x[0], x[1], x[2]);
    let v = Vector3::new(x[3], x[4], x[5]);
    let mut a = free_flight_acceleration(&r, &v);
    match force {
        Force::None => {}
        Force::Thrust => a += Vector3::new(x[IA], x[IA + 1], x[IA + 2]),
        Force::Drag => {
            if x[IK] > 0.0 {
                a += drag_per_k(&r, &v) * x[IK];
            }
        }
    }
    Vector6::new(v.x, v.y, v.z, a.x, a.y, a.z)
}

/// Drag acceleration at k = 1 m²/kg: drag is linear in k.
#[inline]
fn drag_per_k(r: &Vector3<f64>, v: &Vector3<f64>) -> Vector3<f64> {
    drag_acceleration(r, v, 1.0)
}

/// Spacing of the density table (m).
const AIR_TABLE_STEP_M: f64 = 10.0;
/// Top of the table (m): where US76's own layered formulation ends; above it the physics
/// crate's interpolation is one `exp` and is used as it is.
const AIR_TABLE_TOP_M: f64 = 86_000.0;

/// US76 density at 10 m intervals from the ground to 86 km, made once from
/// `trilink_physics::atmosphere::density_kg_m3`.
fn air_table() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let n = (AIR_TABLE_TOP_M / AIR_TABLE_STEP_M).round() as usize;
        // The top node from below: US76's formula and its upper-table interpolation meet at
        // 86 km with a small step, and the last cell lies below it.
        let below_table_top = f64::from_bits(AIR_TABLE_TOP_M.to_bits() - 1);
        (0..=n)
            .map(|i| density_kg_m3((i as f64 * AIR_TABLE_STEP_M).min(below_table_top)))
            .collect()
    })
}

/// The simulator's US76 density (kg/m³), below 86 km by linear interpolation in a 10 m table
/// instead of the standard's power law per call: the same air to within 1e-6 (relative)
/// between layer bases and 5e-5 next to them (a test sweeps it), for a fraction of the cost —
/// the power law was a sixth of the tracker's time (docs/decisions/0415). The filter's and
/// the impact search's drag use it; the simulator keeps the formula.
#[inline]
pub(crate) fn air_density_kg_m3(alt_m: f64) -> f64 {
    if (0.0..AIR_TABLE_TOP_M).contains(&alt_m) {
        let table = air_table();
        let s = alt_m / AIR_TABLE_STEP_M;
        let i = s as usize;
        let (lo, hi) = (table[i], table[i + 1]);
        lo + (s - i as f64) * (hi - lo)
    } else {
        density_kg_m3(alt_m)
    }
}

/// Height above the ellipsoid (m) for the drag model: `approx_height_m` (the radius less the
/// ellipsoid's radius in the same geocentric direction) with that radius, `b (1 − e² cos²φ)^−½`,
/// from its series to e⁶ instead of a second square root and division. The series' remainder
/// is under 4 mm; a test holds it to 1 cm of `approx_height_m`, and the drag cannot tell.
#[inline]
pub(crate) fn air_height_m(r_m: &Vector3<f64>, r2: f64) -> f64 {
    let x = E2 * (r_m.x * r_m.x + r_m.y * r_m.y) / r2;
    r2.sqrt() - B_M * (1.0 + x * (0.5 + x * (0.375 + x * 0.3125)))
}

/// `trilink_physics::atmosphere::drag_acceleration` with [`air_height_m`] and
/// [`air_density_kg_m3`]: the same ceiling, the same co-rotating air.
#[inline]
pub(crate) fn drag_acceleration(
    r_m: &Vector3<f64>,
    v_ecef_mps: &Vector3<f64>,
    beta_kg_m2: f64,
) -> Vector3<f64> {
    let bound = A_M + DRAG_CEILING_ALT_M;
    let r2 = r_m.norm_squared();
    if r2 > bound * bound {
        return Vector3::zeros();
    }
    let h = air_height_m(r_m, r2);
    if h > DRAG_CEILING_ALT_M {
        return Vector3::zeros();
    }
    let rho = air_density_kg_m3(h);
    -0.5 * rho * v_ecef_mps.norm() / beta_kg_m2 * v_ecef_mps
}

/// Derivatives of the drag acceleration `−½ ρ(h) k |v| v` (US76 density, k = 1/β).
struct DragJacobian {
    /// ∂a/∂r: through the density's fall with height.
    d_position: Matrix3<f64>,
    /// ∂a/∂v: drag grows with the square of the speed, so along the velocity it is twice the
    /// drag over the speed; this is what damps a velocity error in the air.
    d_velocity: Matrix3<f64>,
    /// ∂a/∂k.
    d_k: Vector3<f64>,
}

/// The drag Jacobian at `r`, `v` for `k` ≥ 0, at the height `h_m` (below the ceiling) where the
/// density is `rho`: the filter's Φ and the impact search's share it.
#[inline]
fn drag_jacobian(r: &Vector3<f64>, v: &Vector3<f64>, k: f64, h_m: f64, rho: f64) -> DragJacobian {
    let speed = v.norm();
    let d_velocity = if speed > 0.0 {
        -0.5 * rho * k * (speed * Matrix3::identity() + v * v.transpose() / speed)
    } else {
        Matrix3::zeros()
    };
    // Density falls with height along the local vertical (the radial direction is within 0.2°
    // of it).
    let step = 50.0;
    let drho_dh = (air_density_kg_m3(h_m + step) - air_density_kg_m3((h_m - step).max(0.0)))
        / (h_m + step - (h_m - step).max(0.0));
    let up = r / r.norm();
    DragJacobian {
        d_position: (-0.5 * speed * k * drho_dh) * v * up.transpose(),
        d_velocity,
        d_k: -0.5 * rho * speed * v,
    }
}

/// [`drag_jacobian`] wherever the body is: `None` above the atmosphere's ceiling, where drag
/// and all its derivatives are zero.
#[inline]
fn drag_jacobian_at(r: &Vector3<f64>, v: &Vector3<f64>, k: f64) -> Option<DragJacobian> {
    let h = air_height_m(r, r.norm_squared());
    (h < DRAG_CEILING_ALT_M).then(|| drag_jacobian(r, v, k, h, air_density_kg_m3(h)))
}
/// Least mass, as a fraction of the mass at its start, that one prediction lets a thrusting body
/// burn down to. The growth of [`ThrustDrift`] is singular where the propellant would run out
/// (at a 300 m/s² burnout and vₑ = 2,700 m/s that is 9 s ahead); a boost model left predicting
/// a body that has burnt out would otherwise send its thrust estimate to infinity. Between two
/// updates no stage burns half its mass: the kn-23 class takes 9 s to double its acceleration
/// at the end of its burn, and the revisit intervals are 1–5 s.
const MIN_MASS_FRACTION: f64 = 0.5;

/// The thrust acceleration of a rocket burning at constant thrust F and mass flow ṁ, over one
/// prediction from its estimate `a₀`. With vₑ = F/ṁ the effective exhaust velocity,
/// `m(τ)/m₀ = 1 − |a₀| τ / vₑ`, so `a(τ) = a₀ / (1 − |a₀| τ / vₑ)`: `da/dt = |a| a / vₑ`, the
/// growth a constant-acceleration model lags behind (the fitted kn-23 class goes from 61 to
/// 310 m/s² in its 30 s burn). Run backwards (τ < 0) it is the mass the body had, which is what
/// the launch point's back-propagation needs. Drag and the pitch programme are what the white
/// jerk still covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThrustDrift {
    a0: Vector3<f64>,
    /// |a₀| / vₑ (1/s): the fraction of the mass burnt per second at the start.
    burn_rate_per_s: f64,
    exhaust_velocity_mps: f64,
}

impl ThrustDrift {
    /// `None` when there is nothing to drift: no thrust estimate or an infinite vₑ.
    pub(crate) fn new(x: &AugVec, exhaust_velocity_mps: f64) -> Option<Self> {
        let a0 = Vector3::new(x[IA], x[IA + 1], x[IA + 2]);
        let burn_rate_per_s = a0.norm() / exhaust_velocity_mps;
        (burn_rate_per_s > 0.0 && burn_rate_per_s.is_finite()).then_some(Self {
            a0,
            burn_rate_per_s,
            exhaust_velocity_mps,
        })
    }

    /// The remaining mass fraction `τ` after the start, and whether it is floored at
    /// [`MIN_MASS_FRACTION`].
    #[inline]
    fn mass_fraction(&self, tau_s: f64) -> (f64, bool) {
        let f = 1.0 - self.burn_rate_per_s * tau_s;
        if f < MIN_MASS_FRACTION {
            (MIN_MASS_FRACTION, true)
        } else {
            (f, false)
        }
    }

    /// The thrust acceleration `τ` after the start (m/s²).
    #[inline]
    pub(crate) fn accel(&self, tau_s: f64) -> Vector3<f64> {
        self.a0 / self.mass_fraction(tau_s).0
    }

    /// `∂a(τ)/∂a₀`: `s I + s² (τ/vₑ) a₀ a₀ᵀ/|a₀|` with `s = 1/(1 − |a₀|τ/vₑ)`; only `s I` where
    /// the mass fraction is floored, since there `a` no longer depends on `|a₀|`.
    #[inline]
    pub(crate) fn jacobian(&self, tau_s: f64) -> Matrix3<f64> {
        let (f, floored) = self.mass_fraction(tau_s);
        let s = 1.0 / f;
        let mut j = Matrix3::from_diagonal_element(s);
        if !floored {
            let norm = self.burn_rate_per_s * self.exhaust_velocity_mps;
            j += (s * s * tau_s / (self.exhaust_velocity_mps * norm))
                * (self.a0 * self.a0.transpose());
        }
        j
    }

    /// `x` with its thrust acceleration replaced by the one `τ` after the start.
    #[inline]
    fn set(&self, x: &mut AugVec, tau_s: f64) {
        let a = self.accel(tau_s);
        for i in 0..3 {
            x[IA + i] = a[i];
        }
    }
}

/// `a · b` for a 3 × 3 `a` and a 3 × C `b`, each entry's three products summed in the order
/// nalgebra's product sums them (so the result is the same to the bit), written out: for the
/// 3 × 7 and 3 × 9 blocks of [`stage_rates`] nalgebra's generic product was not inlined and
/// cost more than the columns it was spared (docs/decisions/0418).
#[inline(always)]
fn mul3<const C: usize, S>(a: &Matrix3<f64>, b: &Matrix<f64, U3, Const<C>, S>) -> SMatrix<f64, 3, C>
where
    S: Storage<f64, U3, Const<C>>,
{
    let mut out = SMatrix::<f64, 3, C>::zeros();
    for c in 0..C {
        let (b0, b1, b2) = (b[(0, c)], b[(1, c)], b[(2, c)]);
        for i in 0..3 {
            out[(i, c)] = a[(i, 0)] * b0 + a[(i, 1)] * b1 + a[(i, 2)] * b2;
        }
    }
    out
}

/// [`kin_deriv`] at one RK4 stage, and `A·M + B` for the kinematic rows `M` (6 × 10) of Φ:
/// `A` the 6 × 6 Jacobian of the kinematics with respect to themselves, `B` their Jacobian
/// with respect to thrust and k (a and k are constant over a prediction, so their rows of Φ
/// stay `[0 I]`). Both share what they need: the height and the density at it. The arithmetic
/// of each is unchanged (docs/decisions/0415): the drag is [`drag_acceleration`] written out
/// with its own early-outs, and the drag terms of `A` are
/// computed only for the model that has drag (a zero block times `M` added nothing).
#[inline]
fn stage_rates<const C: usize>(
    x: &AugVec,
    m: &Top<C>,
    force: Force,
    thrust_jacobian: Option<&Matrix3<f64>>,
) -> (Vector6<f64>, Top<C>) {
    let r = Vector3::new(x[0], x[1], x[2]);
    let v = Vector3::new(x[3], x[4], x[5]);
    let mut a = free_flight_acceleration(&r, &v);
    let mut g = accel_position_jacobian(&r);
    let mut drag_terms = None;
    match force {
        Force::None => {}
        Force::Thrust => a += Vector3::new(x[IA], x[IA + 1], x[IA + 2]),
        Force::Drag => {
            let r2 = r.norm_squared();
            let h = air_height_m(&r, r2);
            let mut rho = None;
            if x[IK] > 0.0 {
                // `drag_acceleration(r, v, 1.0)` (this module's): zero outside the ceiling's
                // bounding sphere or above the ceiling.
                let bound = A_M + DRAG_CEILING_ALT_M;
                let per_k = if r2 > bound * bound || h > DRAG_CEILING_ALT_M {
                    Vector3::zeros()
                } else {
                    let rho_h = *rho.get_or_insert_with(|| air_density_kg_m3(h));
                    -0.5 * rho_h * v.norm() / 1.0 * v
                };
                a += per_k * x[IK];
            }
            if h < DRAG_CEILING_ALT_M {
                let rho = *rho.get_or_insert_with(|| air_density_kg_m3(h));
                let j = drag_jacobian(&r, &v, x[IK].max(0.0), h, rho);
                g += j.d_position;
                drag_terms = Some((j.d_velocity, j.d_k));
            }
        }
    }
    let w2 = 2.0 * OMEGA_RAD_PER_S;
    let mut out = Top::<C>::zeros();
    out.fixed_view_mut::<3, C>(0, 0)
        .copy_from(&m.fixed_view::<3, C>(3, 0));
    let top = m.fixed_view::<3, C>(0, 0);
    let bottom = m.fixed_view::<3, C>(3, 0);
    let mut lower = mul3(&g, &top);
    if let Some((dv, _)) = &drag_terms {
        lower += mul3(dv, &bottom);
    }
    // Coriolis: C = [[0, 2w, 0], [-2w, 0, 0], [0, 0, 0]]
    for c in 0..C {
        lower[(0, c)] += w2 * bottom[(1, c)];
        lower[(1, c)] -= w2 * bottom[(0, c)];
    }
    match force {
        Force::Thrust => match thrust_jacobian {
            // The velocity's rate depends on a(τ), which depends on a₀ through the drift.
            Some(j) => {
                for i in 0..3 {
                    for c in 0..3 {
                        lower[(i, IA + c)] += j[(i, c)];
                    }
                }
            }
            None => {
                for i in 0..3 {
                    lower[(i, IA + i)] += 1.0;
                }
            }
        },
        Force::Drag => {
            // Zero above the ceiling, as before (adding a zero changed nothing).
            // k is the last column (`IK` of the full Φ, 6 of the re-entry model's 6 × 7).
            if let Some((_, dk)) = &drag_terms {
                for i in 0..3 {
                    lower[(i, C - 1)] += dk[i];
                }
            }
        }
        Force::None => {}
    }
    out.fixed_view_mut::<3, C>(3, 0).copy_from(&lower);
    (Vector6::new(v.x, v.y, v.z, a.x, a.y, a.z), out)
}

/// The thrust of a [`ThrustDrift`] over one RK4 step: the drift and the step's start, counted
/// from the start of the prediction (s).
type DriftAt<'a> = Option<(&'a ThrustDrift, f64)>;

/// `x + s·d` in the kinematic elements, and the drifting thrust `τ` into the step.
#[inline]
fn stage_state(x: &AugVec, d: &Vector6<f64>, s: f64, drift: DriftAt, tau_s: f64) -> AugVec {
    let mut y = *x;
    for i in 0..6 {
        y[i] += s * d[i];
    }
    if let Some((dr, t0)) = drift {
        dr.set(&mut y, t0 + tau_s);
    }
    y
}

/// One RK4 step of the augmented state and the kinematic rows of its state-transition matrix.
/// With a drifting thrust, `x`'s thrust must be the drift's at the step's start.
fn rk4_aug_with_stm<const C: usize>(
    x: &AugVec,
    m: &Top<C>,
    h: f64,
    force: Force,
    drift: DriftAt,
) -> (AugVec, Top<C>) {
    let jac = |tau_s: f64| drift.map(|(dr, t0)| dr.jacobian(t0 + tau_s));
    let j1 = jac(0.0);
    let (k1, m1) = stage_rates(x, m, force, j1.as_ref());
    let x2 = stage_state(x, &k1, 0.5 * h, drift, 0.5 * h);
    let p2 = m + 0.5 * h * m1;
    let j2 = jac(0.5 * h);
    let (k2, m2) = stage_rates(&x2, &p2, force, j2.as_ref());
    let x3 = stage_state(x, &k2, 0.5 * h, drift, 0.5 * h);
    let p3 = m + 0.5 * h * m2;
    let (k3, m3) = stage_rates(&x3, &p3, force, j2.as_ref());
    let x4 = stage_state(x, &k3, h, drift, h);
    let p4 = m + h * m3;
    let (k4, m4) = stage_rates(&x4, &p4, force, jac(h).as_ref());
    let d = (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    (
        stage_state(x, &d, 1.0, drift, h),
        m + (h / 6.0) * (m1 + 2.0 * m2 + 2.0 * m3 + m4),
    )
}

/// One RK4 step of the augmented state alone (the same stages as [`rk4_aug_with_stm`]).
fn rk4_aug_state(x: &AugVec, h: f64, force: Force, drift: DriftAt) -> AugVec {
    let k1 = kin_deriv(x, force);
    let k2 = kin_deriv(&stage_state(x, &k1, 0.5 * h, drift, 0.5 * h), force);
    let k3 = kin_deriv(&stage_state(x, &k2, 0.5 * h, drift, 0.5 * h), force);
    let k4 = kin_deriv(&stage_state(x, &k3, h, drift, h), force);
    stage_state(
        x,
        &((h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)),
        1.0,
        drift,
        h,
    )
}

#[inline]
fn split(x: &StateVec) -> (Vector3<f64>, Vector3<f64>) {
    (
        Vector3::new(x[0], x[1], x[2]),
        Vector3::new(x[3], x[4], x[5]),
    )
}

#[inline]
fn deriv(x: &StateVec) -> StateVec {
    let (r, v) = split(x);
    let a = free_flight_acceleration(&r, &v);
    StateVec::new(v.x, v.y, v.z, a.x, a.y, a.z)
}

#[inline]
fn deriv_drag(x: &StateVec, beta: f64) -> StateVec {
    deriv_drag_parts(x, beta).0
}

/// The state's rate with drag at ballistic coefficient `beta` (kg/m², > 0), and the drag
/// acceleration that is part of it: the impact search sizes its steps by the drag at the
/// step's start, which is the first RK4 stage's own, so it is computed once for both
/// (with [`rk4_state_drag_from`] and [`rk4_with_stm_drag_from`]; the same operations as
/// [`rk4_state_drag`] and [`rk4_with_stm_drag`], bit for bit).
#[inline]
pub(crate) fn deriv_drag_parts(x: &StateVec, beta: f64) -> (StateVec, Vector3<f64>) {
    let (r, v) = split(x);
    let drag = drag_acceleration(&r, &v, beta);
    let a = free_flight_acceleration(&r, &v) + drag;
    (StateVec::new(v.x, v.y, v.z, a.x, a.y, a.z), drag)
}

/// One RK4 step of state and state-transition matrix with drag at ballistic coefficient
/// `beta` (kg/m²) in both: Φ carries drag's derivatives with respect to position and velocity,
/// so an error in velocity decays in the air as the body's does.
pub fn rk4_with_stm_drag(x: &StateVec, phi: &StateCov, h: f64, beta: f64) -> (StateVec, StateCov) {
    rk4_with_stm_drag_from(x, &deriv_drag(x, beta), phi, h, beta)
}

/// [`rk4_with_stm_drag`] with the first stage's rate `k1` (from [`deriv_drag_parts`] at `x`)
/// already known.
pub(crate) fn rk4_with_stm_drag_from(
    x: &StateVec,
    k1: &StateVec,
    phi: &StateCov,
    h: f64,
    beta: f64,
) -> (StateVec, StateCov) {
    let k1 = *k1;
    let k = if beta > 0.0 { 1.0 / beta } else { 0.0 };
    // Drag's Jacobian is taken once per step, at the midpoint the first stage reaches: the
    // density (a power law per layer) is the dearest thing in the loop, and a midpoint value
    // keeps Φ within a few per cent at the steps the impact search takes (test below).
    let x2 = x + 0.5 * h * k1;
    let (r_mid, v_mid) = split(&x2);
    let drag = drag_jacobian_at(&r_mid, &v_mid, k);
    // With drag, the velocity rows' rate is `(G + ∂a/∂r) Φ_r + (C + ∂a/∂v) Φ_v` (C the Coriolis
    // block): the blocks are summed before they multiply Φ, two 3 × 3 by 3 × 6 products per
    // stage instead of three and the Coriolis terms. Φ changes in its last bits only
    // (docs/decisions/0418).
    let velocity_block = drag.as_ref().map(|j| {
        let w2 = 2.0 * OMEGA_RAD_PER_S;
        let mut c = j.d_velocity;
        c[(0, 1)] += w2;
        c[(1, 0)] -= w2;
        c
    });
    let rate = |x: &StateVec, phi: &StateCov| {
        let g = accel_position_jacobian(&Vector3::new(x[0], x[1], x[2]));
        match (&drag, &velocity_block) {
            (Some(j), Some(cv)) => {
                let top = phi.fixed_view::<3, 6>(0, 0);
                let bottom = phi.fixed_view::<3, 6>(3, 0);
                let mut out = StateCov::zeros();
                out.fixed_view_mut::<3, 6>(0, 0).copy_from(&bottom);
                out.fixed_view_mut::<3, 6>(3, 0)
                    .copy_from(&((g + j.d_position) * top + cv * bottom));
                out
            }
            _ => a_times(phi, &g),
        }
    };
    let m1 = rate(x, phi);
    let p2 = phi + 0.5 * h * m1;
    let k2 = deriv_drag(&x2, beta);
    let m2 = rate(&x2, &p2);
    let x3 = x + 0.5 * h * k2;
    let p3 = phi + 0.5 * h * m2;
    let k3 = deriv_drag(&x3, beta);
    let m3 = rate(&x3, &p3);
    let x4 = x + h * k3;
    let p4 = phi + h * m3;
    let k4 = deriv_drag(&x4, beta);
    let m4 = rate(&x4, &p4);
    (
        x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4),
        phi + (h / 6.0) * (m1 + 2.0 * m2 + 2.0 * m3 + m4),
    )
}

/// ∂(acceleration)/∂r for the point-mass gravity plus the centrifugal term.
#[inline]
pub(crate) fn accel_position_jacobian(r: &Vector3<f64>) -> Matrix3<f64> {
    let r2 = r.norm_squared();
    let rn = r2.sqrt();
    let mu_r3 = GM_M3_PER_S2 / (r2 * rn);
    let u = r / rn;
    let mut g = mu_r3 * (3.0 * u * u.transpose() - Matrix3::identity());
    let w2 = OMEGA_RAD_PER_S * OMEGA_RAD_PER_S;
    g[(0, 0)] += w2;
    g[(1, 1)] += w2;
    g
}

/// `A Φ` for the block structure `A = [[0, I], [G, C]]` with the constant Coriolis block `C`,
/// computed by blocks to avoid a full 6×6 product.
#[inline]
pub(crate) fn a_times(phi: &StateCov, g: &Matrix3<f64>) -> StateCov {
    let w2 = 2.0 * OMEGA_RAD_PER_S;
    let mut out = StateCov::zeros();
    // Top rows: the velocity rows of Φ.
    out.fixed_view_mut::<3, 6>(0, 0)
        .copy_from(&phi.fixed_view::<3, 6>(3, 0));
    let top = phi.fixed_view::<3, 6>(0, 0);
    let bottom = phi.fixed_view::<3, 6>(3, 0);
    let mut lower = g * top;
    // C = [[0, 2w, 0], [-2w, 0, 0], [0, 0, 0]]
    for c in 0..6 {
        lower[(0, c)] += w2 * bottom[(1, c)];
        lower[(1, c)] -= w2 * bottom[(0, c)];
    }
    out.fixed_view_mut::<3, 6>(3, 0).copy_from(&lower);
    out
}

/// One RK4 step of state and state-transition matrix.
pub fn rk4_with_stm(x: &StateVec, phi: &StateCov, h: f64) -> (StateVec, StateCov) {
    let jac = |x: &StateVec| accel_position_jacobian(&Vector3::new(x[0], x[1], x[2]));
    let k1 = deriv(x);
    let m1 = a_times(phi, &jac(x));
    let x2 = x + 0.5 * h * k1;
    let p2 = phi + 0.5 * h * m1;
    let k2 = deriv(&x2);
    let m2 = a_times(&p2, &jac(&x2));
    let x3 = x + 0.5 * h * k2;
    let p3 = phi + 0.5 * h * m2;
    let k3 = deriv(&x3);
    let m3 = a_times(&p3, &jac(&x3));
    let x4 = x + h * k3;
    let p4 = phi + h * m3;
    let k4 = deriv(&x4);
    let m4 = a_times(&p4, &jac(&x4));
    (
        x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4),
        phi + (h / 6.0) * (m1 + 2.0 * m2 + 2.0 * m3 + m4),
    )
}

/// One RK4 step of the state alone, with drag at ballistic coefficient `beta` (kg/m²; 0 = none).
pub fn rk4_state_drag(x: &StateVec, h: f64, beta: f64) -> StateVec {
    if beta <= 0.0 {
        return rk4_state(x, h);
    }
    rk4_state_drag_from(x, &deriv_drag(x, beta), h, beta)
}

/// [`rk4_state_drag`] (with drag, `beta` > 0) with the first stage's rate `k1` (from
/// [`deriv_drag_parts`] at `x`) already known.
#[inline]
pub(crate) fn rk4_state_drag_from(x: &StateVec, k1: &StateVec, h: f64, beta: f64) -> StateVec {
    let k1 = *k1;
    let k2 = deriv_drag(&(x + 0.5 * h * k1), beta);
    let k3 = deriv_drag(&(x + 0.5 * h * k2), beta);
    let k4 = deriv_drag(&(x + h * k3), beta);
    x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
}

/// One RK4 step of the state alone.
pub fn rk4_state(x: &StateVec, h: f64) -> StateVec {
    let k1 = deriv(x);
    let k2 = deriv(&(x + 0.5 * h * k1));
    let k3 = deriv(&(x + 0.5 * h * k2));
    let k4 = deriv(&(x + h * k3));
    x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
}

/// Continuous white-noise acceleration integrated over `dt`: `q [[dt³/3 I, dt²/2 I], [dt²/2 I, dt I]]`.
pub fn white_accel_noise(q_psd: f64, dt_s: f64) -> StateCov {
    let dt = dt_s.abs();
    let a = q_psd * dt * dt * dt / 3.0;
    let b = q_psd * dt * dt / 2.0;
    let c = q_psd * dt;
    let mut q = StateCov::zeros();
    for i in 0..3 {
        q[(i, i)] = a;
        q[(i, i + 3)] = b;
        q[(i + 3, i)] = b;
        q[(i + 3, i + 3)] = c;
    }
    q
}

impl Ballistic {
    /// The growth of the thrust estimate over a prediction from `x`, for the model with thrust.
    fn drift(&self, x: &AugVec) -> Option<ThrustDrift> {
        if self.force == Force::Thrust {
            ThrustDrift::new(x, self.exhaust_velocity_mps)
        } else {
            None
        }
    }

    fn steps(&self, dt_s: f64) -> (usize, f64) {
        let steps = (dt_s.abs() / self.max_step_s).ceil().max(1.0);
        (steps as usize, dt_s / steps)
    }
}

impl MotionModel for Ballistic {
    fn predict(&self, x: &AugVec, dt_s: f64) -> Prediction {
        let mut xs = *x;
        let mut stm = AugCov::identity();
        if dt_s != 0.0 {
            let (n, h) = self.steps(dt_s);
            if self.force == Force::None {
                // Kinematics alone: the cheaper 6 × 6 variational equations.
                let mut k = xs.fixed_rows::<6>(0).into_owned();
                let mut phi = StateCov::identity();
                for _ in 0..n {
                    (k, phi) = rk4_with_stm(&k, &phi, h);
                }
                xs.fixed_rows_mut::<6>(0).copy_from(&k);
                stm.fixed_view_mut::<6, 6>(0, 0).copy_from(&phi);
            } else {
                if self.force == Force::Drag {
                    let mut m = Top::<DRAG_COLS>::identity();
                    for _ in 0..n {
                        (xs, m) = rk4_aug_with_stm(&xs, &m, h, self.force, None);
                    }
                    stm.fixed_view_mut::<6, 6>(0, 0)
                        .copy_from(&m.fixed_view::<6, 6>(0, 0));
                    stm.fixed_view_mut::<6, 1>(0, IK)
                        .copy_from(&m.fixed_view::<6, 1>(0, DRAG_COLS - 1));
                } else {
                    let drift = self.drift(x);
                    let mut m = Top::<THRUST_COLS>::identity();
                    for i in 0..n {
                        let at = drift.as_ref().map(|d| (d, i as f64 * h));
                        (xs, m) = rk4_aug_with_stm(&xs, &m, h, self.force, at);
                    }
                    stm.fixed_view_mut::<6, THRUST_COLS>(0, 0).copy_from(&m);
                    if let Some(d) = drift {
                        stm.fixed_view_mut::<3, 3>(IA, IA)
                            .copy_from(&d.jacobian(dt_s));
                    }
                }
            }
        }
        if self.force != Force::Thrust {
            // No thrust here: the acceleration state is reset, and with it its correlations.
            for i in IA..IA + 3 {
                xs[i] = 0.0;
                stm.row_mut(i).fill(0.0);
            }
        }
        Prediction {
            x: xs,
            stm,
            q: self.noise(dt_s),
        }
    }

    fn propagate_state(&self, x: &AugVec, dt_s: f64) -> AugVec {
        let mut xs = *x;
        if dt_s != 0.0 {
            // The same step schedule as `predict`, so both give the same state to round-off.
            let (n, h) = self.steps(dt_s);
            let drift = self.drift(x);
            for i in 0..n {
                let at = drift.as_ref().map(|d| (d, i as f64 * h));
                xs = rk4_aug_state(&xs, h, self.force, at);
            }
        }
        if self.force != Force::Thrust {
            for i in IA..IA + 3 {
                xs[i] = 0.0;
            }
        }
        xs
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn noise(&self, dt_s: f64) -> AugCov {
        let dt = dt_s.abs();
        let mut q = AugCov::zeros();
        q.fixed_view_mut::<6, 6>(0, 0)
            .copy_from(&white_accel_noise(self.q_psd_m2_s3, dt_s));
        match self.force {
            Force::Thrust => {
                // White jerk through acceleration, velocity and position, per axis.
                let j = self.q_jerk_m2_s5;
                let (t2, t3) = (dt * dt, dt * dt * dt);
                let (t4, t5) = (t3 * dt, t3 * t2);
                for i in 0..3 {
                    let (r, v, a) = (i, i + 3, IA + i);
                    q[(r, r)] += j * t5 / 20.0;
                    q[(r, v)] += j * t4 / 8.0;
                    q[(v, r)] += j * t4 / 8.0;
                    q[(v, v)] += j * t3 / 3.0;
                    q[(r, a)] = j * t3 / 6.0;
                    q[(a, r)] = j * t3 / 6.0;
                    q[(v, a)] = j * t2 / 2.0;
                    q[(a, v)] = j * t2 / 2.0;
                    q[(a, a)] = j * dt;
                }
            }
            Force::None | Force::Drag => {
                let s2 = self.accel_sigma_mps2 * self.accel_sigma_mps2;
                for i in IA..IA + 3 {
                    q[(i, i)] = s2;
                }
            }
        }
        if self.force == Force::Drag {
            q[(IK, IK)] = self.q_inv_beta * dt;
        }
        q
    }

    fn same_dynamics(&self, other: &Self) -> bool {
        self.max_step_s == other.max_step_s
            && self.force == other.force
            && self.force == Force::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilink_physics::atmosphere::drag_acceleration;
    use trilink_physics::{jacobi_integral, rk4_step};

    #[test]
    fn drag_height_agrees_with_the_physics_crate_height() {
        // Reference: `approx_height_m` (itself within a metre of the geodetic conversion below
        // 1000 km, tested in the physics crate), at every latitude and from below the ellipsoid
        // to above the drag ceiling.
        let mut worst = 0.0f64;
        for i in 0..=180 {
            let lat = -90.0 + i as f64;
            for h in [
                -1_000.0, 0.0, 5_000.0, 30_000.0, 86_000.0, 120_000.0, 400_000.0, 900_000.0,
            ] {
                let r = trilink_geo::Geodetic::from_degrees(lat, 37.0 * i as f64, h)
                    .unwrap()
                    .to_ecef()
                    .0;
                let exact = trilink_physics::atmosphere::approx_height_m(&r);
                worst = worst.max((air_height_m(&r, r.norm_squared()) - exact).abs());
            }
        }
        assert!(worst < 0.01, "{worst} m");
    }

    #[test]
    fn tabulated_density_follows_the_us76_formula() {
        // Reference: the physics crate's US76 (itself tested against pyatmos and the
        // standard's table). Linear interpolation over 10 m: 1e-6 of the density where the
        // temperature profile is smooth (3.4e-7 measured), and a corner where a layer's lapse
        // rate changes (geopotential bases, converted to geometric height) costs at most 5e-5
        // within a cell (2.4e-5 measured).
        const R0_M: f64 = 6_356_766.0;
        let bases_m: Vec<f64> = [11_000.0, 20_000.0, 32_000.0, 47_000.0, 51_000.0, 71_000.0]
            .iter()
            .map(|h: &f64| R0_M * h / (R0_M - h))
            .collect();
        let (mut worst_smooth, mut worst_corner) = (0.0f64, 0.0f64);
        let mut alt = -50.0;
        while alt < 1_000_100.0 {
            let (fast, exact) = (air_density_kg_m3(alt), density_kg_m3(alt));
            if !(0.0..AIR_TABLE_TOP_M).contains(&alt) {
                assert_eq!(fast.to_bits(), exact.to_bits(), "{alt} m");
            } else {
                let rel = (fast - exact).abs() / exact;
                if bases_m.iter().any(|b| (alt - b).abs() < AIR_TABLE_STEP_M) {
                    worst_corner = worst_corner.max(rel);
                } else {
                    worst_smooth = worst_smooth.max(rel);
                }
            }
            alt += if alt < 90_000.0 { 0.731 } else { 97.3 };
        }
        eprintln!(
            "table density: worst {worst_smooth:e} between layer bases, {worst_corner:e} at them"
        );
        assert!(worst_smooth < 1e-6, "{worst_smooth:e}");
        assert!(worst_corner < 5e-5, "{worst_corner:e}");
        // And the drag built on it, against the physics crate's.
        let r = trilink_geo::Geodetic::from_degrees(39.0, 128.0, 23_456.0)
            .unwrap()
            .to_ecef()
            .0;
        let v = Vector3::new(-900.0, 1200.0, -700.0);
        let (fast, exact) = (
            super::drag_acceleration(&r, &v, 800.0),
            drag_acceleration(&r, &v, 800.0),
        );
        assert!(
            (fast - exact).norm() < 1e-5 * exact.norm(),
            "{fast} vs {exact}"
        );
    }

    fn leo_like() -> AugVec {
        // 300 km up over the equator, moving north-east at 6 km/s.
        let mut x = AugVec::zeros();
        x.fixed_rows_mut::<6>(0).copy_from(&StateVec::new(
            6_678_137.0,
            0.0,
            0.0,
            0.0,
            4_200.0,
            4_200.0,
        ));
        x
    }

    /// 40 km up and falling at 2.5 km/s, thrust (3, −2, 1) m/s², k = 1/800 m²/kg.
    fn endo() -> AugVec {
        let mut x = AugVec::zeros();
        x.fixed_rows_mut::<6>(0).copy_from(&StateVec::new(
            6_418_137.0,
            0.0,
            0.0,
            -1_500.0,
            2_000.0,
            0.0,
        ));
        x[IA] = 3.0;
        x[IA + 1] = -2.0;
        x[IA + 2] = 1.0;
        x[IK] = 1.0 / 800.0;
        x
    }

    fn kin(x: &AugVec) -> StateVec {
        x.fixed_rows::<6>(0).into_owned()
    }

    #[test]
    fn state_agrees_with_the_physics_crate_integrator() {
        // The simulator integrates at 0.1 s; our 10 s steps must land on the same point.
        let x0 = leo_like();
        let mut s = kin(&x0);
        for _ in 0..600 {
            s = rk4_step(0.0, &s, 0.1, |_, r, v| free_flight_acceleration(r, v));
        }
        let p = Ballistic::free_flight(0.0).predict(&x0, 60.0);
        let dr = (p.x.fixed_rows::<3>(0) - s.fixed_rows::<3>(0)).norm();
        let dv = (p.x.fixed_rows::<3>(3) - s.fixed_rows::<3>(3)).norm();
        assert!(dr < 0.01 && dv < 1e-4, "dr {dr} m, dv {dv} m/s");
    }

    #[test]
    fn thrust_and_drag_agree_with_the_physics_crate_integrator() {
        // The same forces written out through the physics crate's own drag and RK4 at 0.1 s.
        let x0 = endo();
        let thrust = Vector3::new(x0[IA], x0[IA + 1], x0[IA + 2]);
        let beta = 1.0 / x0[IK];
        let dt = 20.0;
        for (model, with_thrust, with_drag) in [
            (Ballistic::boost(0.0, 0.0, f64::INFINITY), true, false),
            (Ballistic::reentry(0.0, 0.0), false, true),
        ] {
            let mut s = kin(&x0);
            for _ in 0..200 {
                s = rk4_step(0.0, &s, 0.1, |_, r, v| {
                    let mut a = free_flight_acceleration(r, v);
                    if with_thrust {
                        a += thrust;
                    }
                    if with_drag {
                        a += drag_acceleration(r, v, beta);
                    }
                    a
                });
            }
            let p = model.predict(&x0, dt);
            let dr = (p.x.fixed_rows::<3>(0) - s.fixed_rows::<3>(0)).norm();
            let dv = (p.x.fixed_rows::<3>(3) - s.fixed_rows::<3>(3)).norm();
            // Re-entry steps at 2 s through dense air: decimetres over 20 s, against radar
            // errors of metres at best.
            let (tol_r, tol_v) = if with_drag { (1.0, 0.1) } else { (0.05, 0.01) };
            assert!(
                dr < tol_r && dv < tol_v,
                "{}: dr {dr} m, dv {dv} m/s",
                model.name
            );
            // Only the boost model keeps its thrust; k is carried unchanged by all.
            let a = Vector3::new(p.x[IA], p.x[IA + 1], p.x[IA + 2]);
            assert_eq!(a == thrust, with_thrust, "{}", model.name);
            assert_eq!(p.x[IK], x0[IK]);
        }
    }

    #[test]
    fn jacobi_integral_is_conserved_over_an_hour() {
        let x0 = leo_like();
        let p = Ballistic::free_flight(0.0).predict(&x0, 3600.0);
        let r0 = Vector3::new(x0[0], x0[1], x0[2]);
        let v0 = Vector3::new(x0[3], x0[4], x0[5]);
        let r1 = Vector3::new(p.x[0], p.x[1], p.x[2]);
        let v1 = Vector3::new(p.x[3], p.x[4], p.x[5]);
        let c0 = jacobi_integral(&r0, &v0);
        let c1 = jacobi_integral(&r1, &v1);
        // The brief's bar for truth is 1e-7 over a flight; 10 s steps keep well inside it.
        assert!(((c1 - c0) / c0).abs() < 1e-8, "{c0} -> {c1}");
    }

    /// Φ of `m` at `x0` over `dt` against central differences of the propagated state.
    fn check_stm(m: &Ballistic, x0: &AugVec, dt: f64, tol: f64) {
        let p = m.predict(x0, dt);
        for j in 0..NX {
            let h = match j {
                0..=2 => 1.0,
                3..=5 => 1e-3,
                6..=8 => 1e-3,
                _ => 1e-6,
            };
            let mut xp = *x0;
            xp[j] += h;
            let mut xm = *x0;
            xm[j] -= h;
            let col = (m.predict(&xp, dt).x - m.predict(&xm, dt).x) / (2.0 * h);
            let scale = col.norm().max(1e-9);
            for i in 0..NX {
                assert!(
                    (p.stm[(i, j)] - col[i]).abs() < tol * scale,
                    "{}: Φ[{i},{j}] = {} vs {}",
                    m.name,
                    p.stm[(i, j)],
                    col[i]
                );
            }
        }
    }

    #[test]
    fn stm_matches_finite_differences() {
        // The point-mass-only gradient leaves a J2-sized (1e-3) relative difference.
        check_stm(&Ballistic::free_flight(0.0), &leo_like(), 120.0, 3e-3);
        check_stm(
            &Ballistic::boost(0.0, 0.0, f64::INFINITY),
            &leo_like(),
            120.0,
            3e-3,
        );
        // In the air: drag's derivatives in position (through density), velocity and k.
        check_stm(
            &Ballistic::boost(0.0, 0.0, f64::INFINITY),
            &endo(),
            10.0,
            3e-3,
        );
        // A thrust growing by the rocket equation: a's own rows and its pull on r and v. At
        // 250 m/s² and vₑ 2,700 m/s the mass falls to 54 % in 5 s, near the floor but above it.
        let mut burning = endo();
        burning[IA] = 200.0;
        burning[IA + 1] = -150.0;
        let boost = Ballistic::boost(0.0, 0.0, 2_700.0);
        check_stm(&boost, &burning, 5.0, 3e-3);
        check_stm(&boost, &burning, -20.0, 3e-3);
        check_stm(&Ballistic::reentry(0.0, 0.0), &endo(), 10.0, 1e-2);
    }

    #[test]
    fn narrow_variational_blocks_equal_the_full_width_integration_bit_for_bit() {
        // The re-entry model integrates 6 × 7 rows of Φ and the boost model 6 × 9
        // (decision 0418); the reference is the same stages over all ten columns, as before.
        // Every entry they share must be the same number, and every column left out must have
        // stayed zero in the full integration.
        let mut burning = endo();
        burning[IA] = 200.0;
        burning[IA + 1] = -150.0;
        let mut high = leo_like();
        high[IK] = 1.0 / 800.0;
        let cases = [
            (Ballistic::reentry(20.0, 1e-10), endo()),
            (Ballistic::reentry(20.0, 1e-10), high),
            (Ballistic::boost(5.0, 1.0, f64::INFINITY), endo()),
            (Ballistic::boost(5.0, 1.0, 2_700.0), burning),
            (Ballistic::boost(5.0, 1.0, 2_700.0), high),
        ];
        let mut compared = 0;
        for (model, x0) in cases {
            for dt in [0.3, 1.0, 2.0, 4.5, 11.0, -3.0, -20.0] {
                let p = model.predict(&x0, dt);
                let (n, h) = model.steps(dt);
                let drift = model.drift(&x0);
                let (mut xs, mut m) = (x0, Top::<NX>::identity());
                for i in 0..n {
                    let at = drift.as_ref().map(|d| (d, i as f64 * h));
                    (xs, m) = rk4_aug_with_stm(&xs, &m, h, model.force, at);
                }
                for i in 0..6 {
                    assert_eq!(p.x[i].to_bits(), xs[i].to_bits(), "{} dt {dt}", model.name);
                    for c in 0..NX {
                        let skipped = match model.force {
                            Force::Drag => (IA..IA + 3).contains(&c),
                            _ => c == IK,
                        };
                        if skipped {
                            assert_eq!(m[(i, c)], 0.0, "{} dt {dt} [{i},{c}]", model.name);
                        } else {
                            assert_eq!(
                                p.stm[(i, c)],
                                m[(i, c)],
                                "{} dt {dt} [{i},{c}]",
                                model.name
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert!(compared > 1_000);
    }

    #[test]
    fn impact_search_stm_carries_drag_and_matches_finite_differences() {
        // A spent stage (β 160 kg/m²) 10 km up, falling at 150 m/s and drifting 100 m/s east,
        // flown 60 s in 3 s steps (0.7 of its drag time scale of 4.3 s, as the impact search
        // does), against finite differences of a 0.05 s integration of the state.
        let beta = 160.0;
        let x0 = StateVec::new(6_388_137.0, 0.0, 0.0, -150.0, 100.0, 0.0);
        let fly = |x: &StateVec| (0..1200).fold(*x, |x, _| rk4_state_drag(&x, 0.05, beta));
        let (mut x, mut phi) = (x0, StateCov::identity());
        for _ in 0..20 {
            (x, phi) = rk4_with_stm_drag(&x, &phi, 3.0, beta);
        }
        // The arc is only where Φ is linearised (the impact point comes from its own search).
        assert!((x - fly(&x0)).fixed_rows::<3>(0).norm() < 10.0);
        for j in 0..6 {
            let d = if j < 3 { 1.0 } else { 0.01 };
            let (mut up, mut down) = (x0, x0);
            up[j] += d;
            down[j] -= d;
            let col = (fly(&up) - fly(&down)) / (2.0 * d);
            let err = (phi.column(j) - col).norm() / col.norm();
            // Measured: 1 % on the position columns, 7–8 % on the velocity ones, whose entries
            // drag has shrunk several-fold (the Jacobian is held over each 3 s step).
            let tol = if j < 3 { 0.02 } else { 0.1 };
            assert!(
                err < tol,
                "column {j}: Φ {} vs finite differences {col}",
                phi.column(j)
            );
        }
        // What matters for the impact ellipse: drag has taken most of an eastward velocity
        // error away within a minute (without drag in Φ it would still be all there).
        assert!(phi[(4, 4)].abs() < 0.2, "Φ_vy,vy = {}", phi[(4, 4)]);
    }

    #[test]
    fn steps_from_a_known_first_stage_equal_the_plain_steps_bit_for_bit() {
        // The impact search computes the first stage once (its drag also sizes the step);
        // the steps from it must be the plain ones, and its drag the physics crate's US76 drag
        // (the formula, not the table) to the table's 5e-5.
        let mut checked = 0;
        for (lat, alt_m, east, north, up) in [
            (39.0, 60_000.0, 1700.0, 1000.0, -1500.0),
            (39.0, 12_000.0, 1200.0, 500.0, -1400.0),
            (10.0, 85_990.0, -3000.0, 200.0, -2500.0),
            (-60.0, 2_000.0, 100.0, -150.0, -300.0),
            (0.0, 150_000.0, 5000.0, 0.0, 100.0),
        ] {
            let site = trilink_geo::Geodetic::from_degrees(lat, 131.0, alt_m).unwrap();
            let r = site.to_ecef().0;
            let v =
                trilink_geo::LocalFrame::new(site).rotate_to_ecef(&Vector3::new(east, north, up));
            let x = StateVec::new(r.x, r.y, r.z, v.x, v.y, v.z);
            for beta in [100.0, 1000.0, 8000.0] {
                let (k1, drag) = deriv_drag_parts(&x, beta);
                let reference = drag_acceleration(&r, &v, beta);
                assert!(
                    (drag - reference).norm() <= 5e-5 * reference.norm(),
                    "{drag} vs {reference}"
                );
                let same =
                    |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
                for h in [0.05, 0.7, 5.0, -3.0] {
                    let a = rk4_state_drag_from(&x, &k1, h, beta);
                    assert!(same(a.as_slice(), rk4_state_drag(&x, h, beta).as_slice()));
                    let phi = StateCov::identity() * 1.5;
                    let (xa, pa) = rk4_with_stm_drag_from(&x, &k1, &phi, h, beta);
                    let (xb, pb) = rk4_with_stm_drag(&x, &phi, h, beta);
                    assert!(same(xa.as_slice(), xb.as_slice()));
                    assert!(same(pa.as_slice(), pb.as_slice()));
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 60);
    }

    #[test]
    fn state_only_propagation_matches_predict() {
        for m in [
            Ballistic::free_flight(0.0),
            Ballistic::boost(0.0, 0.0, f64::INFINITY),
            Ballistic::boost(0.0, 0.0, 2_700.0),
            Ballistic::reentry(20.0, 1e-10),
        ] {
            let x0 = endo();
            let a = m.predict(&x0, 37.0).x;
            let b = m.propagate_state(&x0, 37.0);
            assert!((a - b).abs().max() < 1e-9, "{}: {a} vs {b}", m.name);
        }
    }

    #[test]
    fn backward_prediction_undoes_forward() {
        let x0 = leo_like();
        let m = Ballistic::free_flight(0.0);
        let fwd = m.predict(&x0, 300.0);
        let back = m.predict(&fwd.x, -300.0);
        assert!((back.x - x0).fixed_rows::<3>(0).norm() < 1e-3);
        let ident = back.stm.fixed_view::<6, 6>(0, 0) * fwd.stm.fixed_view::<6, 6>(0, 0);
        assert!((ident - StateCov::identity()).abs().max() < 1e-6);
    }

    #[test]
    fn thrust_gains_the_rocket_equations_velocity() {
        // Tsiolkovsky: burning from mass m₀ to m₁ adds vₑ ln(m₀/m₁) along the thrust. With
        // a₀ = F/m₀ and ṁ = F/vₑ, m₁/m₀ = 1 − |a₀| t/vₑ. Gravity, Coriolis and the rest are
        // the same in both predictions, so the difference of the boost model's velocity and
        // free flight's is the rocket equation's (to the gravity gradient over the few hundred
        // metres the thrust moves the body).
        let ve = 2_700.0;
        let mut x0 = endo();
        x0[IK] = 0.0;
        let a0 = Vector3::new(120.0, 160.0, 0.0); // 200 m/s²
        for i in 0..3 {
            x0[IA + i] = a0[i];
        }
        let t = 6.0;
        let mass_ratio = 1.0 - a0.norm() * t / ve;
        assert!(mass_ratio > MIN_MASS_FRACTION);
        let want = ve * (1.0 / mass_ratio).ln();
        let boost = Ballistic::boost(0.0, 0.0, ve).predict(&x0, t).x;
        let coast = Ballistic::free_flight(0.0).predict(&x0, t).x;
        let dv = (boost - coast).fixed_rows::<3>(3).into_owned();
        // RK4 at 3 s steps of a thrust that grows by 1/(1 − ct): 1e-4 of the gain.
        assert!(
            (dv.norm() - want).abs() < 0.2,
            "|Δv| {} vs {want} m/s",
            dv.norm()
        );
        // Coriolis turns the extra velocity by at most 2Ω t, in the rotating frame.
        let turn = dv.normalize().cross(&a0.normalize()).norm();
        assert!(turn < 2.0 * OMEGA_RAD_PER_S * t, "turned by {turn} rad");
        // Acceleration at the end: F/m₁, along the same line.
        let a1 = Vector3::new(boost[IA], boost[IA + 1], boost[IA + 2]);
        assert!((a1 - a0 / mass_ratio).norm() < 1e-9 * a1.norm(), "{a1}");
        // And back: the drift run backwards from a₁ gives the mass the body had.
        let back = Ballistic::boost(0.0, 0.0, ve).predict(&boost, -t).x;
        assert!((back - x0).fixed_rows::<3>(0).norm() < 1e-3);
        assert!((back - x0).fixed_rows::<3>(IA).norm() < 1e-9);
    }

    #[test]
    fn a_burnt_out_thrust_estimate_grows_at_most_by_the_floor() {
        // 300 m/s² and vₑ 2,700 m/s: a burn that ends 9 s on; predicted 30 s on, the growth
        // stops at 1/MIN_MASS_FRACTION instead of passing through infinity.
        let mut x0 = endo();
        x0[IA] = 300.0;
        x0[IA + 1] = 0.0;
        x0[IA + 2] = 0.0;
        let p = Ballistic::boost(0.0, 0.0, 2_700.0).predict(&x0, 30.0);
        assert!(p.x.iter().all(|v| v.is_finite()));
        assert!(
            (p.x[IA] - 300.0 / MIN_MASS_FRACTION).abs() < 1e-9,
            "{}",
            p.x[IA]
        );
        assert!(p.stm.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn thrust_noise_is_the_white_jerk_covariance() {
        // Per axis, [r, v, a] under white jerk of PSD j: q·[[t⁵/20, t⁴/8, t³/6], [t⁴/8, t³/3,
        // t²/2], [t³/6, t²/2, t]] (plus the model's white acceleration on r, v).
        let (j, t) = (20.0, 3.0);
        let q = Ballistic::boost(0.0, j, 2_700.0).noise(t);
        let want = [
            [t.powi(5) / 20.0, t.powi(4) / 8.0, t.powi(3) / 6.0],
            [t.powi(4) / 8.0, t.powi(3) / 3.0, t * t / 2.0],
            [t.powi(3) / 6.0, t * t / 2.0, t],
        ];
        let idx = [1, 4, IA + 1];
        for (a, &ia) in idx.iter().enumerate() {
            for (b, &ib) in idx.iter().enumerate() {
                assert!((q[(ia, ib)] - j * want[a][b]).abs() < 1e-9, "{ia},{ib}");
            }
        }
        assert!(q.cholesky().is_some() || q[(IK, IK)] == 0.0);
    }
}
