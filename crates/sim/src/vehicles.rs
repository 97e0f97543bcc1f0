//! Missile classes by name: the one place where a `class = "..."` in a scenario becomes a
//! vehicle. The classes and their fit to public templates belong to the physics crate
//! (`trilink_physics::missiles`); the simulator only looks them up.

use trilink_physics::VehicleSpec;

/// The class names a scenario may use.
pub fn class_names() -> Vec<&'static str> {
    trilink_physics::missiles::class_names().to_vec()
}

/// The fitted vehicle of a named class, or `None` for an unknown name.
pub fn vehicle_class(name: &str) -> Option<VehicleSpec> {
    trilink_physics::missiles::class(name)
}
