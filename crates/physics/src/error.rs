use thiserror::Error;

/// What can be wrong with a flight request.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PhysicsError {
    #[error("vehicle {what} = {value}: expected {expected}")]
    InvalidVehicle {
        what: String,
        value: f64,
        expected: &'static str,
    },
    #[error("the launch never leaves the ground: first-stage thrust {thrust_n:.0} N does not exceed the lift-off weight {weight_n:.0} N")]
    NeverLeavesGround { thrust_n: f64, weight_n: f64 },
    #[error("fit of class {class} did not converge: largest normalised residual {residual:.3e} after {iterations} iterations")]
    FitDidNotConverge {
        class: String,
        residual: f64,
        iterations: usize,
    },
    #[error("unknown missile class {name:?}: expected one of {known}")]
    UnknownClass { name: String, known: String },
}
