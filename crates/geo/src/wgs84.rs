//! The Earth model every trilink crate uses (BRIEF §3.1): WGS-84 ellipsoid with the EGM-96
//! second zonal harmonic, as published in NIMA TR8350.2 (3rd ed.) and the brief.

/// Semi-major axis (m).
pub const A_M: f64 = 6_378_137.0;
/// Flattening.
pub const F: f64 = 1.0 / 298.257_223_563;
/// Semi-minor axis (m).
pub const B_M: f64 = A_M * (1.0 - F);
/// First eccentricity squared.
pub const E2: f64 = F * (2.0 - F);
/// Second eccentricity squared.
pub const EP2: f64 = E2 / (1.0 - E2);
/// Earth's gravitational parameter GM (m³/s²).
pub const GM_M3_PER_S2: f64 = 3.986_004_418e14;
/// Second zonal harmonic J2 (unnormalised).
pub const J2: f64 = 1.082_626_68e-3;
/// Earth's rotation rate (rad/s).
pub const OMEGA_RAD_PER_S: f64 = 7.292_115_0e-5;
