//! Flight physics for trilink: one gravity model and one set of equations of motion, shared by
//! the simulator (truth) and the tracker (prediction), so the two can never disagree about the
//! Earth.
//!
//! Everything here works in the rotating ECEF frame of WGS-84 (`trilink_geo::wgs84`), in SI units.

pub mod atmosphere;
pub mod dynamics;
mod error;
pub mod fit;
pub mod flight;
pub mod gravity;
pub mod integrate;
pub mod missiles;

pub use dynamics::{free_flight_acceleration, jacobi_integral, rotating_frame_acceleration};
pub use error::PhysicsError;
pub use flight::{
    fly, fly_payload, Ending, Flight, FlightConfig, Launch, ObjectKind, PitchProgram, StageSpec,
    Trajectory, VehicleSpec,
};
pub use integrate::{rk4_step, State6};
