//! The scenario file exactly as written: serde types that mirror the TOML, with no meaning yet.
//! Every struct refuses unknown keys, so a misspelt key is an error, never silently ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawEpoch {
    Datetime(toml::value::Datetime),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    pub epoch: RawEpoch,
    pub duration_s: Option<f64>,
    pub nations: Vec<RawNation>,
    pub policy: RawPolicy,
    pub launches: Vec<RawLaunch>,
    #[serde(default)]
    pub sensors: Vec<RawSensor>,
    #[serde(default)]
    pub links: Vec<RawLink>,
    #[serde(default)]
    pub regions: Vec<RawRegion>,
    #[serde(default)]
    pub public_record: Vec<RawRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRecord {
    pub nation: String,
    pub region: Option<String>,
    pub event: String,
    pub time_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNation {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub release: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub relay: Vec<RawRelay>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRelay {
    pub from: String,
    pub via: String,
    pub to: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLaunch {
    pub name: Option<String>,
    pub lat_deg: f64,
    pub lon_deg: f64,
    #[serde(default)]
    pub alt_m: f64,
    pub azimuth_deg: f64,
    #[serde(default)]
    pub time_s: f64,
    pub class: Option<String>,
    pub vehicle: Option<RawVehicle>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVehicle {
    pub payload_mass_kg: f64,
    pub payload_ballistic_coefficient_kg_m2: f64,
    pub pitch_vertical_s: f64,
    pub pitch_final_elevation_deg: f64,
    pub stages: Vec<RawStage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStage {
    pub dry_mass_kg: f64,
    pub propellant_mass_kg: f64,
    pub thrust_n: f64,
    pub burn_time_s: f64,
    pub ballistic_coefficient_kg_m2: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSensor {
    pub id: String,
    pub nation: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub lat_deg: f64,
    pub lon_deg: f64,
    #[serde(default)]
    pub alt_m: f64,
    pub max_range_m: f64,
    pub min_elevation_deg: f64,
    pub max_elevation_deg: Option<f64>,
    pub azimuth_min_deg: Option<f64>,
    pub azimuth_max_deg: Option<f64>,
    pub revisit_s: f64,
    pub phase_s: Option<f64>,
    pub sigma_range_m: f64,
    pub sigma_azimuth_mrad: f64,
    pub sigma_elevation_mrad: f64,
    pub p_detection: f64,
    #[serde(default)]
    pub false_alarms_per_scan: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    pub from: String,
    pub to: String,
    pub latency_ms: f64,
    #[serde(default)]
    pub jitter_ms: f64,
    #[serde(default)]
    pub loss: f64,
    #[serde(default = "yes")]
    pub both_ways: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegion {
    pub name: String,
    pub nation: String,
    /// Vertices as `[lat_deg, lon_deg]` pairs.
    pub polygon_deg: Option<Vec<Vec<f64>>>,
    pub circle: Option<RawCircle>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCircle {
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub radius_m: f64,
}
