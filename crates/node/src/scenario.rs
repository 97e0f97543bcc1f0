//! What the fabric needs to know of a scenario: nations, their sensor sites (to keep secret),
//! the releasability policy, the links, and (for the synthetic source) the launches.
use std::collections::BTreeMap;

use trilink_bus::link::LinkSpec;
use trilink_wire::{Nation, Policy};

/// A sensor site. Its id, kind and location must never leave the node.
#[derive(Clone, Debug, PartialEq)]
pub struct SensorSite {
    pub id: String,
    pub kind: String,
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub alt_m: f64,
    pub max_range_m: f64,
    pub min_elevation_deg: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NationSpec {
    pub nation: Nation,
    pub sensors: Vec<SensorSite>,
}

/// A launch for the synthetic source: from a launch point to an impact point.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchSpec {
    pub launch_time_s: f64,
    pub launch_lat_deg: f64,
    pub launch_lon_deg: f64,
    pub impact_lat_deg: f64,
    pub impact_lon_deg: f64,
    pub flight_time_s: f64,
    pub apogee_m: f64,
}

#[derive(Clone, Debug)]
pub struct FabricScenario {
    pub name: String,
    pub nations: Vec<NationSpec>,
    pub policy: Policy,
    /// Directed links; a pair without an entry is ideal (no delay, no loss).
    pub links: BTreeMap<(Nation, Nation), LinkSpec>,
    pub launches: Vec<LaunchSpec>,
    /// Relay grants through hubs (see `trilink_domain::relay`).
    pub relays: Vec<trilink_domain::RelayRule>,
    /// The regions each nation warns.
    pub regions: Vec<trilink_domain::RegionSpec>,
    pub description: String,
    /// The scenario epoch as Unix seconds (UTC).
    pub epoch_unix_s: f64,
    /// What was openly reported for the event the scenario imitates.
    pub public_record: Vec<trilink_sim::PublicRecord>,
    pub duration_s: f64,
    /// How often each nation's tracker reports each track.
    pub report_period_s: f64,
}

fn n(s: &str) -> Nation {
    // Only called on the literals below.
    s.parse()
        .unwrap_or_else(|_| unreachable!("built-in nation code {s}"))
}

fn site(
    id: &str,
    kind: &str,
    lat_deg: f64,
    lon_deg: f64,
    alt_m: f64,
    max_range_km: f64,
) -> SensorSite {
    SensorSite {
        id: id.into(),
        kind: kind.into(),
        lat_deg,
        lon_deg,
        alt_m,
        max_range_m: max_range_km * 1000.0,
        min_elevation_deg: 1.0,
    }
}

impl FabricScenario {
    /// The built-in default: KR, JP and US; hub-and-spoke through the U.S. as the public
    /// mechanism runs (KR → US, JP → US, US → KR and JP); three launches eastward over the Sea of
    /// Japan. Sites are notional, at public-geography level (a region, not an installation).
    pub fn builtin_default() -> Self {
        let nations = vec![
            NationSpec {
                nation: n("KR"),
                sensors: vec![
                    site(
                        "KR-RADAR-A",
                        "long-range surveillance radar",
                        36.35,
                        127.38,
                        183.4,
                        900.0,
                    ),
                    site(
                        "KR-RADAR-B",
                        "long-range surveillance radar",
                        35.84,
                        128.91,
                        241.7,
                        900.0,
                    ),
                ],
            },
            NationSpec {
                nation: n("JP"),
                sensors: vec![
                    site(
                        "JP-RADAR-A",
                        "transportable X-band radar",
                        40.77,
                        140.31,
                        52.6,
                        1800.0,
                    ),
                    site(
                        "JP-RADAR-B",
                        "transportable X-band radar",
                        35.77,
                        135.21,
                        81.3,
                        1800.0,
                    ),
                ],
            },
            NationSpec {
                nation: n("US"),
                sensors: vec![
                    site(
                        "US-SHIP-A",
                        "ship-borne S-band radar",
                        38.90,
                        133.10,
                        24.8,
                        1200.0,
                    ),
                    site(
                        "US-RADAR-B",
                        "transportable X-band radar",
                        13.58,
                        144.92,
                        112.9,
                        2500.0,
                    ),
                ],
            },
        ];
        let mut policy = Policy::new();
        policy.release(n("KR"), [n("US")]);
        policy.release(n("JP"), [n("US")]);
        policy.release(n("US"), [n("KR"), n("JP")]);
        let mut links = BTreeMap::new();
        let l = |ms: f64, jitter_ms: f64| LinkSpec {
            latency_s: ms / 1000.0,
            jitter_s: jitter_ms / 1000.0,
            loss: 0.0,
        };
        for (a, b, spec) in [
            ("KR", "US", l(20.0, 4.0)),
            ("JP", "US", l(15.0, 3.0)),
            ("KR", "JP", l(10.0, 2.0)),
        ] {
            links.insert((n(a), n(b)), spec);
            links.insert((n(b), n(a)), spec);
        }
        let launch =
            |t: f64, la: f64, lo: f64, ila: f64, ilo: f64, tof: f64, apo_km: f64| LaunchSpec {
                launch_time_s: t,
                launch_lat_deg: la,
                launch_lon_deg: lo,
                impact_lat_deg: ila,
                impact_lon_deg: ilo,
                flight_time_s: tof,
                apogee_m: apo_km * 1000.0,
            };
        FabricScenario {
            name: "default".into(),
            nations,
            policy,
            links,
            launches: vec![
                launch(10.0, 39.0, 125.7, 40.0, 134.5, 620.0, 550.0),
                launch(40.0, 39.7, 127.4, 40.9, 137.8, 700.0, 650.0),
                launch(70.0, 38.9, 125.2, 39.3, 131.0, 480.0, 300.0),
            ],
            relays: vec![
                trilink_domain::RelayRule {
                    from: n("KR"),
                    via: n("US"),
                    to: [n("JP")].into(),
                },
                trilink_domain::RelayRule {
                    from: n("JP"),
                    via: n("US"),
                    to: [n("KR")].into(),
                },
            ],
            regions: Vec::new(),
            description: "synthetic arcs exercising the fabric alone".into(),
            epoch_unix_s: 0.0,
            public_record: Vec::new(),
            duration_s: 800.0,
            report_period_s: 1.0,
        }
    }

    /// Each nation's rank in the scenario's order, from 1: the basis of common track numbers.
    pub fn ranks(&self) -> BTreeMap<Nation, u64> {
        self.nations
            .iter()
            .enumerate()
            .map(|(i, n)| (n.nation, i as u64 + 1))
            .collect()
    }

    pub fn nation_codes(&self) -> Vec<Nation> {
        self.nations.iter().map(|n| n.nation).collect()
    }

    pub fn nation(&self, n: Nation) -> Option<&NationSpec> {
        self.nations.iter().find(|s| s.nation == n)
    }

    /// Link from `from` to `to`, ideal if the scenario names none.
    pub fn link(&self, from: Nation, to: Nation) -> LinkSpec {
        self.links
            .get(&(from, to))
            .copied()
            .unwrap_or(LinkSpec::IDEAL)
    }
}
