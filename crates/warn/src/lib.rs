//! trilink-warn: public warnings for one nation's regions from its fused picture, modelled on
//! Japan's J-Alert (docs/decisions/0801).
mod ellipse;
mod error;
pub mod geometry;
pub mod path;
pub mod prob;
pub mod sea;

pub use ellipse::{Ellipse, CHI2_2_95};
pub use error::WarnError;
pub use geometry::{Outline, Region};
