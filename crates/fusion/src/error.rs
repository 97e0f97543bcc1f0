//! The one error enum of fusion.

/// Why an estimate could not be fused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FusionError {
    #[error("{what}: covariance is not symmetric positive-definite")]
    NotPositiveDefinite { what: &'static str },
    #[error("{what}: a value is not finite")]
    NotFinite { what: &'static str },
    #[error("nothing to fuse: the list of estimates is empty")]
    Empty,
}
