//! The measurement behind docs/decisions/0701-track-fusion.md: the consistency of naive
//! Kalman fusion, CI, ICI and EI over Monte Carlo draws of two estimates whose
//! cross-correlation is known to the experiment and hidden from the rules.
//!
//! `cargo run -p trilink-fusion --example nees_table --release`
use nalgebra::Vector6;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use trilink_fusion::compare::{
    chol, crossing_pair, directional_ratio, expected_nees, monte_carlo, worst_cross, Rule, M6,
};

const DRAWS: usize = 20_000;
/// Random directions tried per covariance pair for the directional ratio.
const DIRECTIONS: usize = 200;

fn main() -> Result<(), trilink_fusion::FusionError> {
    let (pa_cross, pb_cross) = crossing_pair();
    let pa_same = pa_cross;
    let pb_same = pa_cross * 2.0;
    let shaped = M6::from_diagonal(&Vector6::new(9e4, 9e4, 9e4, 100.0, 100.0, 100.0));
    let pb_round = shaped;
    for (label, pa, pb) in [
        (
            "crossing ellipsoids (100 m × 400 m, turned 90°)",
            pa_cross,
            pb_cross,
        ),
        ("same shape, Pb = 2 Pa", pa_same, pb_same),
        ("elongated against round (300 m sphere)", pa_cross, pb_round),
    ] {
        println!("\n{label}\n");
        println!("| cross-correlation | naive KF | CI | ICI | EI |");
        println!("|---|---|---|---|---|");
        let mut cases: Vec<(String, Option<(f64, M6)>)> = vec![
            ("none (ρ = 0)".into(), Some((0.0, M6::identity()))),
            ("ρ = 0.5, common".into(), Some((0.5, M6::identity()))),
            ("ρ = 0.9, common".into(), Some((0.9, M6::identity()))),
            ("ρ = 1, common".into(), Some((1.0, M6::identity()))),
        ];
        cases.push(("worst case for each rule".into(), None));
        for (name, corr) in cases {
            let mut row = format!("| {name} |");
            for rule in Rule::ALL {
                let (rho, q) = match corr {
                    Some(c) => c,
                    None => (1.0, worst_cross(&rule.gains(&pa, &pb)?, &pa, &pb)?),
                };
                let mut rng = ChaCha8Rng::seed_from_u64(7);
                let m = monte_carlo(rule, &pa, &pb, rho, &q, DRAWS, || {
                    StandardNormal.sample(&mut rng)
                })?;
                row += &format!(
                    " {:.2} / {:.1} % / {:.0} m |",
                    m.anees_per_dof,
                    100.0 * m.within_95,
                    m.claimed_position_sigma_m
                );
            }
            println!("{row}");
        }
    }
    random_pairs()?;
    println!("\ncell: ANEES/dof (1 = consistent) / draws inside the χ²₆ 95 % bound / claimed position σ (√tr P_pos); {DRAWS} draws, seed 7");
    Ok(())
}

/// A random symmetric positive-definite matrix: a random rotation and eigenvalues spread
/// log-uniformly over four decades.
fn random_spd(rng: &mut ChaCha8Rng) -> M6 {
    let g = M6::from_fn(|_, _| StandardNormal.sample(rng));
    let q = g.qr().q();
    let d = Vector6::from_fn(|_, _| 10f64.powf(2.0 + 4.0 * rand::Rng::random::<f64>(rng)));
    let p = q * M6::from_diagonal(&d) * q.transpose();
    (p + p.transpose()) * 0.5
}

/// The worst case over many covariance pairs, each at its own worst cross-correlation
/// (analytic expected NEES), and the Monte Carlo at the pair that is worst for each rule.
fn random_pairs() -> Result<(), trilink_fusion::FusionError> {
    const PAIRS: usize = 2_000;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let pairs: Vec<(M6, M6)> = (0..PAIRS)
        .map(|_| (random_spd(&mut rng), random_spd(&mut rng)))
        .collect();
    println!("\n{PAIRS} random covariance pairs (random axes, eigenvalues 1e2–1e6), each at the cross-correlation worst for the rule\n");
    println!("| rule | worst expected ANEES/dof | pairs overconfident (> 1.01) | MC at its worst pair: ANEES/dof / inside 95 % | worst directional variance ratio | pairs with a direction > 1.01 |");
    println!("|---|---|---|---|---|---|");
    for rule in Rule::ALL {
        let mut worst = (0.0, 0usize);
        let mut over = 0usize;
        let (mut dir_worst, mut dir_over) = (0.0f64, 0usize);
        let mut dir_rng = ChaCha8Rng::seed_from_u64(13);
        for (i, (pa, pb)) in pairs.iter().enumerate() {
            let f = rule.gains(pa, pb)?;
            let mut d = 0.0f64;
            for _ in 0..DIRECTIONS {
                let w = Vector6::from_fn(|_, _| StandardNormal.sample(&mut dir_rng));
                d = d.max(directional_ratio(&f, pa, pb, &w)?);
            }
            // The principal axes of both inputs too: where a shape mismatch shows first.
            for p in [pa, pb] {
                let e = p.symmetric_eigen();
                for c in e.eigenvectors.column_iter() {
                    d = d.max(directional_ratio(&f, pa, pb, &c.into_owned())?);
                }
            }
            dir_worst = dir_worst.max(d);
            if d > 1.01 {
                dir_over += 1;
            }
            let r = worst_cross(&f, pa, pb)?;
            let pab = chol(pa)? * r * chol(pb)?.transpose();
            let e = expected_nees(&f, pa, pb, &pab)? / 6.0;
            if e > 1.01 {
                over += 1;
            }
            if e > worst.0 {
                worst = (e, i);
            }
        }
        let (pa, pb) = &pairs[worst.1];
        let q = worst_cross(&rule.gains(pa, pb)?, pa, pb)?;
        let mut mc_rng = ChaCha8Rng::seed_from_u64(7);
        let m = monte_carlo(rule, pa, pb, 1.0, &q, DRAWS, || {
            StandardNormal.sample(&mut mc_rng)
        })?;
        println!(
            "| {} | {:.2} | {} of {PAIRS} | {:.2} / {:.1} % | {:.2} | {} of {PAIRS} |",
            rule.name(),
            worst.0,
            over,
            m.anees_per_dof,
            100.0 * m.within_95,
            dir_worst,
            dir_over
        );
    }
    Ok(())
}
