//! The extended Kalman filter update and the interacting-multiple-model (IMM) estimator over
//! motion models that share the 10-element augmented state ([`crate::motion::AugVec`]).

use nalgebra::{Matrix3, SMatrix, SVector};

use crate::measure::{MeasVec, MeasurementModel};
use crate::motion::{AugCov, AugVec, MotionModel, NX};
use crate::ukf;

/// Which filter the IMM runs in each of its models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilterKind {
    /// Extended Kalman filter: state-transition matrix from the variational equations, AER
    /// Jacobian at the predicted state, Joseph-form update. The fast default; accurate once
    /// the track's covariance is small against its range.
    #[default]
    Ekf,
    /// Unscented Kalman filter ([`crate::ukf`]): 21 sigma points through the same dynamics and
    /// the exact AER function. Several times the cost per update; better means and covariances
    /// when the uncertainty is large (just after initiation, after long gaps).
    Ukf,
}

impl FilterKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            FilterKind::Ekf => "ekf",
            FilterKind::Ukf => "ukf",
        }
    }
}

/// The normalised innovation squared of `z` against `x`, `p` as the chosen filter computes it
/// (for gating, and the NIS a track update reports). `None` if the innovation covariance is not
/// positive definite.
#[inline]
pub fn innovation_d2<S: MeasurementModel>(
    filter: FilterKind,
    sensor: &S,
    x: &AugVec,
    p: &AugCov,
    z: &MeasVec,
    r_diag: &MeasVec,
) -> Option<f64> {
    match filter {
        FilterKind::Ekf => innovation(sensor, x, p, z, r_diag).map(|i| i.d2),
        FilterKind::Ukf => {
            ukf::innovation(sensor, x, p, z, r_diag, &ukf::DEFAULT_WEIGHTS_AUG).map(|i| i.d2)
        }
    }
}

/// Forces exact symmetry; round-off in `F P Fᵀ` otherwise accumulates over long flights.
#[inline]
pub fn symmetrize<const D: usize>(p: &mut SMatrix<f64, D, D>) {
    for i in 0..D {
        for j in (i + 1)..D {
            let m = 0.5 * (p[(i, j)] + p[(j, i)]);
            p[(i, j)] = m;
            p[(j, i)] = m;
        }
    }
}

/// `Φ P Φᵀ + Q`, symmetrised.
///
/// The motion models' Φ has dense kinematic rows only: each row past the sixth is zero (a
/// reset thrust) or the identity's (thrust or k carried over). For such a Φ the products are
/// formed from the six kinematic rows, `T P` and `(Φ P) Tᵀ`, 1,200 multiplications instead of
/// 2,000; each entry sums the same terms in the same order as the dense product, less exact
/// zeros and ones, and the zeros' signs are settled by adding Q's (test
/// `structured_covariance_propagation_equals_the_dense_product_bit_for_bit`).
#[inline]
pub fn propagate_cov(stm: &AugCov, p: &AugCov, q: &AugCov) -> AugCov {
    let carried = |i: usize| -> Option<bool> {
        let row = stm.row(i);
        if (0..NX).all(|c| row[c] == 0.0) {
            Some(false)
        } else if (0..NX).all(|c| row[c] == if c == i { 1.0 } else { 0.0 }) {
            Some(true)
        } else {
            None
        }
    };
    let mut rows = [false; NX];
    for (i, r) in rows.iter_mut().enumerate().skip(6) {
        match carried(i) {
            Some(c) => *r = c,
            None => {
                let mut out = stm * p * stm.transpose() + q;
                symmetrize(&mut out);
                return out;
            }
        }
    }
    let top = stm.fixed_view::<6, NX>(0, 0);
    // Φ P: the kinematic rows by product, a carried row is P's own, a reset row zero.
    let mut a = AugCov::zeros();
    a.fixed_view_mut::<6, NX>(0, 0).copy_from(&(top * p));
    for (i, &c) in rows.iter().enumerate().skip(6) {
        if c {
            a.row_mut(i).copy_from(&p.row(i));
        }
    }
    // (Φ P) Φᵀ: the kinematic columns by product, a carried column is (Φ P)'s own.
    let mut out = AugCov::zeros();
    out.fixed_view_mut::<NX, 6>(0, 0)
        .copy_from(&(a * top.transpose()));
    for (j, &c) in rows.iter().enumerate().skip(6) {
        if c {
            out.column_mut(j).copy_from(&a.column(j));
        }
    }
    out += q;
    symmetrize(&mut out);
    out
}

/// Innovation statistics of a state against one measurement.
#[derive(Debug, Clone, Copy)]
pub struct Innovation<const D: usize> {
    pub y: MeasVec,
    pub h: SMatrix<f64, 3, D>,
    pub s: Matrix3<f64>,
    pub s_inv: Matrix3<f64>,
    /// Normalised innovation squared `yᵀ S⁻¹ y`.
    pub d2: f64,
    pub ln_det_s: f64,
}

/// Computes the innovation of `z` (noise variances `r_diag`) against state `x`, `p`.
/// `None` if the innovation covariance is not positive definite (a corrupted state).
#[inline]
pub fn innovation<S: MeasurementModel, const D: usize>(
    sensor: &S,
    x: &SVector<f64, D>,
    p: &SMatrix<f64, D, D>,
    z: &MeasVec,
    r_diag: &MeasVec,
) -> Option<Innovation<D>> {
    let e = sensor.expect(x);
    let y = sensor.innovation(z, &e.z);
    // H is zero beyond the position: P Hᵀ needs only P's first three columns.
    let hr = e.h.fixed_view::<3, 3>(0, 0);
    let ph: SMatrix<f64, D, 3> = p.fixed_view::<D, 3>(0, 0) * hr.transpose();
    let mut s = hr * ph.fixed_view::<3, 3>(0, 0);
    for i in 0..3 {
        s[(i, i)] += r_diag[i];
    }
    let chol = s.cholesky()?;
    let s_inv = chol.inverse();
    let d2 = (y.transpose() * s_inv * y)[(0, 0)];
    let l = chol.l();
    let ln_det_s = 2.0 * (l[(0, 0)].ln() + l[(1, 1)].ln() + l[(2, 2)].ln());
    Some(Innovation {
        y,
        h: e.h,
        s,
        s_inv,
        d2,
        ln_det_s,
    })
}

/// The EKF update in Joseph form: `P⁺ = (I − KH) P (I − KH)ᵀ + K R Kᵀ`, which stays symmetric
/// positive-definite under round-off where the short form `(I − KH) P` does not.
#[inline]
pub fn ekf_update<const D: usize>(
    x: &SVector<f64, D>,
    p: &SMatrix<f64, D, D>,
    inn: &Innovation<D>,
    r_diag: &MeasVec,
) -> (SVector<f64, D>, SMatrix<f64, D, D>) {
    let position_only = (3..D).all(|c| (0..3).all(|m| inn.h[(m, c)] == 0.0));
    let r = Matrix3::from_diagonal(r_diag);
    if position_only {
        // P Hᵀ and K H from H's first three columns, the rest being zero: the products sum the
        // same terms in the same order, less exact zeros (as the Joseph product below).
        let hr = inn.h.fixed_view::<3, 3>(0, 0);
        let k: SMatrix<f64, D, 3> = (p.fixed_view::<D, 3>(0, 0) * hr.transpose()) * inn.s_inv;
        let x_new = x + k * inn.y;
        let mut ikh = SMatrix::<f64, D, D>::identity();
        let kh: SMatrix<f64, D, 3> = k * hr;
        for c in 0..3 {
            for i in 0..D {
                ikh[(i, c)] -= kh[(i, c)];
            }
        }
        let mut p_new = joseph_position_only(&ikh, p) + k * r * k.transpose();
        symmetrize(&mut p_new);
        return (x_new, p_new);
    }
    let k: SMatrix<f64, D, 3> = p * inn.h.transpose() * inn.s_inv;
    let x_new = x + k * inn.y;
    let ikh = SMatrix::<f64, D, D>::identity() - k * inn.h;
    let mut p_new = ikh * p * ikh.transpose() + k * r * k.transpose();
    symmetrize(&mut p_new);
    (x_new, p_new)
}

/// `(I − KH) P (I − KH)ᵀ` when H is zero beyond the position (an AER measurement): then every
/// column of `I − KH` past the third is the identity's, and each product needs only the first
/// three columns (3 × D × D multiplications instead of D³, twice). The sums run in the order
/// nalgebra's products use (k ascending, each term added to the running sum), and the terms
/// left out are exact zeros or exact ones times the matrix, so the result is the same to the
/// bit up to the sign of an exact zero (docs/decisions/0415; a test compares the two).
#[inline]
fn joseph_position_only<const D: usize>(
    ikh: &SMatrix<f64, D, D>,
    p: &SMatrix<f64, D, D>,
) -> SMatrix<f64, D, D> {
    // X = (I − KH) P: row i is Σ_{k<3} ikh[i,k] P[k,·], plus P[i,·] where ikh's column i is eᵢ.
    let mut xm = SMatrix::<f64, D, D>::zeros();
    for j in 0..D {
        for i in 0..D {
            let mut acc = ikh[(i, 0)] * p[(0, j)];
            acc += ikh[(i, 1)] * p[(1, j)];
            acc += ikh[(i, 2)] * p[(2, j)];
            if i >= 3 {
                acc += p[(i, j)];
            }
            xm[(i, j)] = acc;
        }
    }
    // X (I − KH)ᵀ: entry (i, j) is Σ_{k<3} X[i,k] ikh[j,k], plus X[i,j] for j past the third.
    let mut out = SMatrix::<f64, D, D>::zeros();
    for j in 0..D {
        for i in 0..D {
            let mut acc = xm[(i, 0)] * ikh[(j, 0)];
            acc += xm[(i, 1)] * ikh[(j, 1)];
            acc += xm[(i, 2)] * ikh[(j, 2)];
            if j >= 3 {
                acc += xm[(i, j)];
            }
            out[(i, j)] = acc;
        }
    }
    out
}

/// Per-track state of an `N`-model IMM.
#[derive(Debug, Clone, Copy)]
pub struct ImmState<const N: usize> {
    pub x: [AugVec; N],
    pub p: [AugCov; N],
    pub mu: [f64; N],
}

impl<const N: usize> ImmState<N> {
    pub fn new(x: AugVec, p: AugCov, mu: [f64; N]) -> Self {
        Self {
            x: [x; N],
            p: [p; N],
            mu,
        }
    }

    /// Moment-matched single Gaussian of the mixture.
    pub fn combined(&self) -> (AugVec, AugCov) {
        combine(&self.x, &self.p, &self.mu)
    }

    /// [`ImmState::combined`] written into `x`, `p`.
    pub fn combined_into(&self, x: &mut AugVec, p: &mut AugCov) {
        combine_into(&self.x, &self.p, &self.mu, x, p);
    }
}

fn combine<const N: usize>(x: &[AugVec; N], p: &[AugCov; N], w: &[f64; N]) -> (AugVec, AugCov) {
    let (mut xc, mut pc) = (AugVec::zeros(), AugCov::zeros());
    combine_into(x, p, w, &mut xc, &mut pc);
    (xc, pc)
}

/// [`combine`] written into `xc`, `pc`.
#[inline]
fn combine_into<const N: usize>(
    x: &[AugVec; N],
    p: &[AugCov; N],
    w: &[f64; N],
    xc: &mut AugVec,
    pc: &mut AugCov,
) {
    if N == 1 {
        *xc = x[0];
        *pc = p[0];
        return;
    }
    *xc = AugVec::zeros();
    for j in 0..N {
        *xc += w[j] * x[j];
    }
    // `pc += w (p + d dᵀ)` element by element: the same operations in the same order as the
    // matrix expression, without its three temporaries.
    // Column by column on the storage (column-major), so that the compiler vectorises the
    // rows; each element sees the same operations as before.
    *pc = AugCov::zeros();
    for j in 0..N {
        let d = x[j] - *xc;
        let (wj, d) = (w[j], d.as_slice());
        let cols = pc.as_mut_slice().chunks_exact_mut(NX);
        for ((col, pcol), dc) in cols.zip(p[j].as_slice().chunks_exact(NX)).zip(d) {
            for ((o, pv), dr) in col.iter_mut().zip(pcol).zip(d) {
                *o += wj * (pv + dr * dc);
            }
        }
    }
    symmetrize(pc);
}

/// A track predicted to a scan time: per-model predictions, predicted model probabilities and
/// the combined Gaussian used for gating.
#[derive(Debug, Clone, Copy)]
pub struct ImmPrediction<const N: usize> {
    pub x: [AugVec; N],
    pub p: [AugCov; N],
    pub c: [f64; N],
    pub x_comb: AugVec,
    pub p_comb: AugCov,
}

impl<const N: usize> ImmPrediction<N> {
    /// All zeros: a buffer for [`Imm::predict_into`].
    pub fn zeros() -> Self {
        Self {
            x: [AugVec::zeros(); N],
            p: [AugCov::zeros(); N],
            c: [0.0; N],
            x_comb: AugVec::zeros(),
            p_comb: AugCov::zeros(),
        }
    }
}

/// Where a ballistic body cannot be in a model, the IMM does not switch into it: the share of
/// the switching probability that would have gone there goes to the models still open, and a
/// model with none open keeps its track (decision 0401, "Switching that knows where the body
/// is").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SwitchLimits {
    /// (index of the model that flies without drag, height in m below which it is not entered):
    /// deep in the air no body flies free of drag.
    pub drag_free_floor: Option<(usize, f64)>,
    /// Index of the thrusting model, not entered while the body falls (r·v < 0): no ballistic
    /// missile lights a motor on the way down.
    pub thrust_not_falling: Option<usize>,
}

impl SwitchLimits {
    /// Which models a body at `x` (rotating ECEF) may switch into.
    fn open<const N: usize>(&self, x: &AugVec) -> [bool; N] {
        let mut open = [true; N];
        let r = x.fixed_rows::<3>(0).into_owned();
        if let Some((i, floor_m)) = self.drag_free_floor {
            if i < N && trilink_physics::atmosphere::approx_height_m(&r) < floor_m {
                open[i] = false;
            }
        }
        if let Some(i) = self.thrust_not_falling {
            if i < N && r.dot(&x.fixed_rows::<3>(3)) < 0.0 {
                open[i] = false;
            }
        }
        open
    }
}

/// The IMM estimator: a set of motion models and the mean time spent in each (s), from which
/// the Markov switching probabilities over any interval follow, and the limits on switching
/// that the state itself sets.
#[derive(Debug, Clone)]
pub struct Imm<M: MotionModel, const N: usize> {
    pub models: [M; N],
    pub mean_sojourn_s: [f64; N],
    pub limits: SwitchLimits,
}

impl<M: MotionModel, const N: usize> Imm<M, N> {
    /// `π[i][j]`: probability of being in model `j` after `dt` given model `i` before, for a
    /// body at `x` (the models' probability-weighted mean).
    fn transition(&self, dt_s: f64, x: &AugVec) -> [[f64; N]; N] {
        let open: [bool; N] = self.limits.open(x);
        let mut t = [[0.0; N]; N];
        for (i, row) in t.iter_mut().enumerate() {
            let n_open = (0..N).filter(|&j| j != i && open[j]).count();
            let stay = if n_open == 0 {
                1.0
            } else {
                (-dt_s.abs() / self.mean_sojourn_s[i]).exp()
            };
            for (j, p) in row.iter_mut().enumerate() {
                *p = if i == j {
                    stay
                } else if open[j] {
                    (1.0 - stay) / n_open as f64
                } else {
                    0.0
                };
            }
        }
        t
    }

    /// Mixing and per-model EKF prediction over `dt_s`.
    #[inline]
    pub fn predict(&self, s: &ImmState<N>, dt_s: f64) -> ImmPrediction<N> {
        self.predict_with(FilterKind::Ekf, s, dt_s)
    }

    /// Mixing and per-model prediction over `dt_s` with the chosen filter.
    pub fn predict_with(&self, filter: FilterKind, s: &ImmState<N>, dt_s: f64) -> ImmPrediction<N> {
        let mut out = ImmPrediction::zeros();
        self.predict_into(filter, s, dt_s, &mut out);
        out
    }

    /// [`Imm::predict_with`] written into `out` (every field is overwritten). A prediction is
    /// 3.5 KB for three models; the tracker makes one per candidate track per scan and keeps
    /// them in a reused buffer, so building it in place saves a copy of each (and the copies
    /// of the mixed and predicted parts that returning them by value made).
    pub fn predict_into(
        &self,
        filter: FilterKind,
        s: &ImmState<N>,
        dt_s: f64,
        out: &mut ImmPrediction<N>,
    ) {
        let mut x_mean = AugVec::zeros();
        for i in 0..N {
            x_mean += s.mu[i] * s.x[i];
        }
        let pi = self.transition(dt_s, &x_mean);
        let c = &mut out.c;
        for (j, cj) in c.iter_mut().enumerate() {
            *cj = 0.0;
            for (i, pi_row) in pi.iter().enumerate() {
                *cj += pi_row[j] * s.mu[i];
            }
            *cj = cj.max(1e-300);
        }
        // The mixed states go into `out.x`, `out.p` and are propagated there.
        for (j, &cj) in out.c.iter().enumerate() {
            let mut w = [0.0; N];
            for i in 0..N {
                w[i] = pi[i][j] * s.mu[i] / cj;
            }
            combine_into(&s.x, &s.p, &w, &mut out.x[j], &mut out.p[j]);
        }
        if filter == FilterKind::Ukf {
            for j in 0..N {
                let m = &self.models[j];
                let (x0, p0) = (out.x[j], out.p[j]);
                (out.x[j], out.p[j]) =
                    match ukf::predict(m, &x0, &p0, dt_s, &ukf::DEFAULT_WEIGHTS_AUG) {
                        Some(xp) => xp,
                        // Only a non-finite covariance gets here; the EKF's answer is as good as
                        // any, and the update will reject the track's next measurement.
                        None => {
                            let pred = m.predict(&x0, dt_s);
                            (pred.x, propagate_cov(&pred.stm, &p0, &pred.q))
                        }
                    };
            }
            combine_into(&out.x, &out.p, &out.c, &mut out.x_comb, &mut out.p_comb);
            return;
        }
        let shared = N > 1
            && self.models[1..]
                .iter()
                .all(|m| self.models[0].same_dynamics(m));
        if shared {
            // One non-linear propagation of the mean of the mixed states; each model's state
            // follows by the same linearisation the EKF already relies on. Halves the cost of
            // prediction for models that differ only in their noise.
            let mut xm = AugVec::zeros();
            for j in 0..N {
                xm += out.c[j] * out.x[j];
            }
            let pred = self.models[0].predict(&xm, dt_s);
            for j in 0..N {
                out.x[j] = pred.x + pred.stm * (out.x[j] - xm);
                out.p[j] = propagate_cov(&pred.stm, &out.p[j], &self.models[j].noise(dt_s));
            }
        } else {
            for j in 0..N {
                let pred = self.models[j].predict(&out.x[j], dt_s);
                out.x[j] = pred.x;
                out.p[j] = propagate_cov(&pred.stm, &out.p[j], &pred.q);
            }
        }
        combine_into(&out.x, &out.p, &out.c, &mut out.x_comb, &mut out.p_comb);
    }

    /// Updates every model with one measurement (EKF) and re-weights the models by their
    /// likelihoods. `None` if any model's innovation covariance is not positive definite.
    #[inline]
    pub fn update<S: MeasurementModel>(
        &self,
        pred: &ImmPrediction<N>,
        sensor: &S,
        z: &MeasVec,
        r_diag: &MeasVec,
    ) -> Option<ImmState<N>> {
        self.update_with(FilterKind::Ekf, pred, sensor, z, r_diag)
    }

    /// Updates every model with one measurement using the chosen filter and re-weights the
    /// models by their likelihoods. `None` if any model's innovation covariance (or, for the
    /// UKF, updated covariance) is not positive definite.
    pub fn update_with<S: MeasurementModel>(
        &self,
        filter: FilterKind,
        pred: &ImmPrediction<N>,
        sensor: &S,
        z: &MeasVec,
        r_diag: &MeasVec,
    ) -> Option<ImmState<N>> {
        let mut out = ImmState {
            x: pred.x,
            p: pred.p,
            mu: pred.c,
        };
        self.update_into(filter, pred, sensor, z, r_diag, &mut out)?;
        Some(out)
    }

    /// [`Imm::update_with`] written over `state` (a track's own, whose prediction `pred` is):
    /// the 3.3 KB of a three-model state are not built, returned and copied again. On `None`,
    /// `state` is left as it was.
    pub fn update_into<S: MeasurementModel>(
        &self,
        filter: FilterKind,
        pred: &ImmPrediction<N>,
        sensor: &S,
        z: &MeasVec,
        r_diag: &MeasVec,
        state: &mut ImmState<N>,
    ) -> Option<()> {
        let mut ln_l = [0.0; N];
        match filter {
            FilterKind::Ekf => {
                // Every innovation first: a model whose innovation covariance is not positive
                // definite refuses the update before any state is written.
                let mut inns = [None; N];
                for (inn, (x, p)) in inns.iter_mut().zip(pred.x.iter().zip(&pred.p)) {
                    *inn = Some(innovation(sensor, x, p, z, r_diag)?);
                }
                for (j, inn) in inns.iter().enumerate() {
                    let inn = inn.as_ref()?;
                    (state.x[j], state.p[j]) = ekf_update(&pred.x[j], &pred.p[j], inn, r_diag);
                    ln_l[j] = -0.5 * (inn.d2 + inn.ln_det_s);
                }
            }
            FilterKind::Ukf => {
                let w = &ukf::DEFAULT_WEIGHTS_AUG;
                let mut xs = pred.x;
                let mut ps = pred.p;
                for j in 0..N {
                    let inn = ukf::innovation(sensor, &pred.x[j], &pred.p[j], z, r_diag, w)?;
                    (xs[j], ps[j]) = ukf::update(&pred.x[j], &pred.p[j], &inn)?;
                    ln_l[j] = -0.5 * (inn.d2 + inn.ln_det_s);
                }
                state.x = xs;
                state.p = ps;
            }
        }
        state.mu = reweight(&pred.c, &ln_l);
        Some(())
    }

    /// Updates every model with several detections of one scan at once, detection `i`
    /// weighted by the probability `w[i]` that it is this track's (the weights sum to one):
    /// the probabilistic-data-association update with the track certainly detected. The state
    /// moves by the weighted innovation; the covariance is the single-detection update plus the
    /// spread of the innovations, `K (Σ wᵢ νᵢ νᵢᵀ − ν νᵀ) Kᵀ`, so it keeps the uncertainty of
    /// not knowing which detection was whose. Models are re-weighted by the mixture likelihood.
    /// All detections must come from one sensor (one innovation covariance up to their R).
    pub fn update_pda<S: MeasurementModel>(
        &self,
        filter: FilterKind,
        pred: &ImmPrediction<N>,
        sensor: &S,
        dets: &[(MeasVec, MeasVec, f64)],
    ) -> Option<ImmState<N>> {
        let (z0, r0, _) = *dets.first()?;
        let mut out = ImmState {
            x: pred.x,
            p: pred.p,
            mu: pred.c,
        };
        let mut ln_l = [0.0; N];
        let w_ukf = &ukf::DEFAULT_WEIGHTS_AUG;
        for (j, ln_l_j) in ln_l.iter_mut().enumerate() {
            let (xj, pj) = (&pred.x[j], &pred.p[j]);
            // The gain and the single-detection covariance from the first detection; the
            // others differ only in z (and R, from the same sensor).
            let (k, p_single): (SMatrix<f64, NX, 3>, AugCov) = match filter {
                FilterKind::Ekf => {
                    let first = innovation(sensor, xj, pj, &z0, &r0)?;
                    let (_, p1) = ekf_update(xj, pj, &first, &r0);
                    (pj * first.h.transpose() * first.s_inv, p1)
                }
                FilterKind::Ukf => {
                    let first = ukf::innovation(sensor, xj, pj, &z0, &r0, w_ukf)?;
                    let (_, p1) = ukf::update(xj, pj, &first)?;
                    (first.pxz * first.s_inv, p1)
                }
            };
            let mut nu = MeasVec::zeros();
            let mut spread = Matrix3::zeros();
            let mut lik = 0.0;
            let mut ln_max = f64::NEG_INFINITY;
            let mut terms = [(0.0f64, 0.0f64); 8];
            for (n, (z, r, w)) in dets.iter().take(terms.len()).enumerate() {
                let (y, d2, ln_det_s) = match filter {
                    FilterKind::Ekf => {
                        let inn = innovation(sensor, xj, pj, z, r)?;
                        (inn.y, inn.d2, inn.ln_det_s)
                    }
                    FilterKind::Ukf => {
                        let inn = ukf::innovation(sensor, xj, pj, z, r, w_ukf)?;
                        (inn.y, inn.d2, inn.ln_det_s)
                    }
                };
                nu += *w * y;
                spread += *w * y * y.transpose();
                let l = -0.5 * (d2 + ln_det_s);
                terms[n] = (*w, l);
                ln_max = ln_max.max(l);
            }
            for (w, l) in terms.iter().take(dets.len().min(terms.len())) {
                lik += w * (l - ln_max).exp();
            }
            *ln_l_j = ln_max + lik.max(1e-300).ln();
            out.x[j] = pred.x[j] + k * nu;
            let mut pn = p_single + k * (spread - nu * nu.transpose()) * k.transpose();
            symmetrize(&mut pn);
            out.p[j] = pn;
        }
        out.mu = reweight(&pred.c, &ln_l);
        Some(out)
    }
}

/// Posterior model probabilities from the predicted ones `c` and the models' log-likelihoods.
fn reweight<const N: usize>(c: &[f64; N], ln_l: &[f64; N]) -> [f64; N] {
    let max_ln = ln_l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut mu = [0.0; N];
    let mut total = 0.0;
    for j in 0..N {
        mu[j] = c[j] * (ln_l[j] - max_ln).exp();
        total += mu[j];
    }
    for m in mu.iter_mut() {
        // A floor keeps a model from dying out for good, so the IMM can switch back.
        *m = (*m / total).max(1e-6);
    }
    let s: f64 = mu.iter().sum();
    for m in mu.iter_mut() {
        *m /= s;
    }
    mu
}

/// `true` if `p` is symmetric positive-definite (by Cholesky).
pub fn is_spd(p: &AugCov) -> bool {
    (p - p.transpose()).abs().max() <= 1e-9 * p.abs().max() && p.cholesky().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn switching_limits_close_the_drag_free_model_deep_in_the_air_and_thrust_on_the_way_down() {
        use crate::motion::Ballistic;
        use trilink_geo::Geodetic;
        let imm = Imm {
            models: [
                Ballistic::free_flight(0.001),
                Ballistic::boost(100.0, 20.0, 2_700.0),
                Ballistic::reentry(1.0, 1e-11),
            ],
            mean_sojourn_s: [3600.0, 60.0, 120.0],
            limits: SwitchLimits {
                drag_free_floor: Some((0, 70_000.0)),
                thrust_not_falling: Some(1),
            },
        };
        let unlimited = Imm {
            limits: SwitchLimits::default(),
            ..imm.clone()
        };
        // A body over the Sea of Japan at `alt_m`, moving up or down at 2 km/s.
        let body = |alt_m: f64, climbing: bool| {
            let g = Geodetic::from_degrees(40.0, 133.0, alt_m).unwrap();
            let r = g.to_ecef().0;
            let v = r.normalize() * if climbing { 2_000.0 } else { -2_000.0 };
            let mut x = AugVec::zeros();
            x.fixed_rows_mut::<3>(0).copy_from(&r);
            x.fixed_rows_mut::<3>(3).copy_from(&v);
            x
        };
        let dt = 2.0;
        let rows_sum_to_one = |t: &[[f64; 3]; 3]| {
            for row in t {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-15, "{row:?}");
            }
        };
        // Climbing above the floor: nothing is closed, the matrix is the plain one.
        let t = imm.transition(dt, &body(150_000.0, true));
        assert_eq!(t, unlimited.transition(dt, &body(150_000.0, true)));
        rows_sum_to_one(&t);
        let leave = |tau: f64| 1.0 - (-dt / tau).exp();
        assert!((t[2][0] - leave(120.0) / 2.0).abs() < 1e-15);
        // Falling above the floor: no switch into boost; re-entry leaks into free flight only.
        let t = imm.transition(dt, &body(150_000.0, false));
        rows_sum_to_one(&t);
        assert_eq!((t[0][1], t[2][1]), (0.0, 0.0));
        assert!((t[2][0] - leave(120.0)).abs() < 1e-15);
        assert!(
            (t[1][0] - leave(60.0) / 2.0).abs() < 1e-15,
            "boost still leaves"
        );
        // Climbing below the floor (a burnt-out short-range missile coasting up through the
        // air): no switch into drag-free flight.
        let t = imm.transition(dt, &body(40_000.0, true));
        rows_sum_to_one(&t);
        assert_eq!((t[1][0], t[2][0]), (0.0, 0.0));
        assert!((t[2][1] - leave(120.0)).abs() < 1e-15);
        // Falling below the floor: re-entry is the only model left open, and keeps its track.
        let t = imm.transition(dt, &body(40_000.0, false));
        rows_sum_to_one(&t);
        assert_eq!(t[2], [0.0, 0.0, 1.0]);
        assert_eq!((t[0][2], t[1][2]), (leave(3600.0), leave(60.0)));
    }

    #[test]
    fn position_only_joseph_product_equals_the_full_product_bit_for_bit() {
        // Reference: nalgebra's own `(I − KH) P (I − KH)ᵀ` on random gains, a random
        // symmetric P and an H that is zero beyond the position, as an AER Jacobian is.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(415);
        for _ in 0..200 {
            let k = SMatrix::<f64, NX, 3>::from_fn(|_, _| rng.random_range(-2.0..2.0));
            let mut h = SMatrix::<f64, 3, NX>::zeros();
            for m in 0..3 {
                for c in 0..3 {
                    h[(m, c)] = rng.random_range(-1e-5..1e-5);
                }
            }
            let a = AugCov::from_fn(|_, _| rng.random_range(-30.0..30.0));
            let p = a * a.transpose();
            let ikh = AugCov::identity() - k * h;
            let full = ikh * p * ikh.transpose();
            let fast = joseph_position_only(&ikh, &p);
            for (f, g) in fast.iter().zip(full.iter()) {
                assert_eq!(f.to_bits(), g.to_bits(), "{f} vs {g}");
            }
        }
    }

    #[test]
    fn position_only_ekf_update_equals_the_general_formula_bit_for_bit() {
        // Reference: nalgebra's full products `K = P Hᵀ S⁻¹`, `I − K H`, `(I − KH) P (I − KH)ᵀ
        // + K R Kᵀ` on random states, an H that is zero beyond the position, and its S.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(416);
        for _ in 0..200 {
            let mut h = SMatrix::<f64, 3, NX>::zeros();
            for m in 0..3 {
                for c in 0..3 {
                    h[(m, c)] = rng.random_range(-1e-5..1e-5);
                }
            }
            let a = AugCov::from_fn(|_, _| rng.random_range(-30.0..30.0));
            let mut p = a * a.transpose();
            symmetrize(&mut p);
            let x = AugVec::from_fn(|_, _| rng.random_range(-1e6..1e6));
            let r_diag = MeasVec::new(1e-6, 2e-6, 400.0);
            let mut s = h * p * h.transpose();
            for i in 0..3 {
                s[(i, i)] += r_diag[i];
            }
            let Some(chol) = s.cholesky() else {
                panic!("S is positive definite by construction");
            };
            let inn = Innovation {
                y: MeasVec::from_fn(|_, _| rng.random_range(-1e-3..1e-3)),
                h,
                s,
                s_inv: chol.inverse(),
                d2: 0.0,
                ln_det_s: 0.0,
            };
            let k: SMatrix<f64, NX, 3> = p * h.transpose() * inn.s_inv;
            let x_ref = x + k * inn.y;
            let ikh = AugCov::identity() - k * h;
            let r = Matrix3::from_diagonal(&r_diag);
            let mut p_ref = ikh * p * ikh.transpose() + k * r * k.transpose();
            symmetrize(&mut p_ref);
            let (x_new, p_new) = ekf_update(&x, &p, &inn, &r_diag);
            for (f, g) in x_new
                .iter()
                .zip(x_ref.iter())
                .chain(p_new.iter().zip(p_ref.iter()))
            {
                assert_eq!(f.to_bits(), g.to_bits(), "{f} vs {g}");
            }
        }
    }

    #[test]
    fn structured_covariance_propagation_equals_the_dense_product_bit_for_bit() {
        // Reference: nalgebra's dense `Φ P Φᵀ + Q`, symmetrised, with the Φ and Q of each of
        // the tracker's three models over several intervals, on random covariances.
        let imm = crate::tracker::TrackerConfig::default().imm();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4161);
        let mut x = AugVec::zeros();
        x[0] = 6_378_137.0 + 40_000.0;
        x[4] = 2_500.0;
        x[5] = -900.0;
        x[crate::motion::IA] = 12.0;
        x[crate::motion::IK] = 1.0 / 2000.0;
        for m in &imm.models {
            for dt in [0.0, 0.4, 1.0, 3.7, -1.0] {
                let pred = m.predict(&x, dt);
                for _ in 0..20 {
                    let a = AugCov::from_fn(|_, _| rng.random_range(-30.0..30.0));
                    let mut p = a * a.transpose();
                    symmetrize(&mut p);
                    let mut dense = pred.stm * p * pred.stm.transpose() + pred.q;
                    symmetrize(&mut dense);
                    let fast = propagate_cov(&pred.stm, &p, &pred.q);
                    for (f, g) in fast.iter().zip(dense.iter()) {
                        assert_eq!(f.to_bits(), g.to_bits(), "{}: {f} vs {g}", m.name);
                    }
                }
            }
        }
        // A Φ of another shape takes the dense product.
        let stm = AugCov::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let p = AugCov::identity();
        let mut dense = stm * p * stm.transpose() + p;
        symmetrize(&mut dense);
        assert_eq!(propagate_cov(&stm, &p, &p), dense);
    }

    #[test]
    fn an_update_in_place_equals_the_returned_one_and_a_refused_one_changes_nothing() {
        use crate::measure::AerSensor;
        use trilink_geo::Geodetic;
        let imm = crate::tracker::TrackerConfig::default().imm();
        let Ok(site) = Geodetic::from_degrees(37.0, 127.0, 100.0) else {
            panic!("a valid site");
        };
        let sensor = AerSensor::new(site);
        // 300 km up, 200 km from the radar, climbing at 3 km/s.
        let mut x = AugVec::zeros();
        let r = site.to_ecef().0 * ((6_378_137.0 + 300_000.0) / 6_378_137.0);
        let up = r.normalize();
        let east = nalgebra::Vector3::new(-up.y, up.x, 0.0).normalize();
        let r = r + 200_000.0 * east;
        for i in 0..3 {
            x[i] = r[i];
            x[3 + i] = 3_000.0 * up[i] + 1_000.0 * east[i];
        }
        x[crate::motion::IK] = 1.0 / 3000.0;
        let mut p = AugCov::identity() * 400.0;
        for i in 3..6 {
            p[(i, i)] = 100.0;
        }
        p[(crate::motion::IK, crate::motion::IK)] = 4e-6;
        let s = ImmState::new(x, p, [0.6, 0.3, 0.1]);
        for filter in [FilterKind::Ekf, FilterKind::Ukf] {
            let pred = imm.predict_with(filter, &s, 1.0);
            let mut z = sensor.expect(&pred.x_comb).z;
            z[2] += 30.0;
            let r_diag = MeasVec::new(1e-6, 1e-6, 100.0);
            let Some(returned) = imm.update_with(filter, &pred, &sensor, &z, &r_diag) else {
                panic!("a valid update");
            };
            let mut in_place = s;
            assert!(imm
                .update_into(filter, &pred, &sensor, &z, &r_diag, &mut in_place)
                .is_some());
            let assert_same = |a: &ImmState<3>, b: &ImmState<3>| {
                assert_eq!((a.x, a.p, a.mu), (b.x, b.p, b.mu));
            };
            assert_same(&in_place, &returned);
            // The last model's covariance is not positive definite: nothing may be written,
            // though the first two models' updates would succeed.
            let mut bad = pred;
            bad.p[2] = -AugCov::identity() * 1e12;
            let mut untouched = s;
            assert!(imm
                .update_into(filter, &bad, &sensor, &z, &r_diag, &mut untouched)
                .is_none());
            assert_same(&untouched, &s);
        }
    }
}
