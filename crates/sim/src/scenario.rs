//! A validated scenario: what `simulate`, the trackers and the sharing fabric all read.
//!
//! Loading goes text → TOML syntax check (with spans) → serde into the raw mirror types (unknown
//! keys and wrong types rejected) → validation of every value into the types below. Each error
//! names the file, the key path, the line, the value and what was expected.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::f64::consts::TAU;
use std::path::Path;

use trilink_geo::Geodetic;
use trilink_physics::{FlightConfig, Launch, PitchProgram, StageSpec, VehicleSpec};

use crate::error::{Location, ScenarioError};
use crate::raw::{RawEpoch, RawScenario, RawVehicle};
use crate::spans::SpanIndex;

/// The lowest site altitude accepted (m): below the Dead Sea shore is a typo, not a radar.
pub const MIN_SITE_ALT_M: f64 = -500.0;

/// A nation taking part, by ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq)]
pub struct Nation {
    pub code: String,
    pub name: String,
}

/// Which nation's reports may go to whom.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Policy {
    /// Originating nation → nations its reports are releasable to.
    pub release: BTreeMap<String, BTreeSet<String>>,
    /// Relay grants: a source's information may reach these nations through a hub, in the
    /// hub's fused products (`[[policy.relay]]`, `from`, `via`, `to`).
    pub relay: Vec<trilink_domain::RelayRule>,
}

impl Policy {
    /// Whether reports from `from` may be released to `to` (a nation may always read its own).
    pub fn releasable(&self, from: &str, to: &str) -> bool {
        from == to || self.release.get(from).is_some_and(|r| r.contains(to))
    }
}

/// One launch with the vehicle resolved (from its class or its explicit parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchSpec {
    pub name: String,
    /// The class name when the vehicle came from one.
    pub class: Option<String>,
    pub launch: Launch,
    /// Where the launch is written, for errors the physics reports later.
    pub at: Location,
}

/// What a sensor is; it changes nothing in the radar model but is metadata for displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensorKind {
    EarlyWarning,
    XBand,
    Aegis,
}

impl SensorKind {
    pub const NAMES: [&'static str; 3] = ["early-warning", "x-band", "aegis"];

    pub fn as_str(&self) -> &'static str {
        match self {
            SensorKind::EarlyWarning => "early-warning",
            SensorKind::XBand => "x-band",
            SensorKind::Aegis => "aegis",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "early-warning" => Some(SensorKind::EarlyWarning),
            "x-band" => Some(SensorKind::XBand),
            "aegis" => Some(SensorKind::Aegis),
            _ => None,
        }
    }
}

/// An azimuth sector: from `start_rad` clockwise through `width_rad` (0 < width ≤ 2π).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AzimuthSector {
    pub start_rad: f64,
    pub width_rad: f64,
}

impl AzimuthSector {
    pub const FULL: AzimuthSector = AzimuthSector {
        start_rad: 0.0,
        width_rad: TAU,
    };

    /// Whether an azimuth (any value, wrapped here) lies inside the sector, edges included.
    pub fn contains(&self, az_rad: f64) -> bool {
        self.width_rad >= TAU || (az_rad - self.start_rad).rem_euclid(TAU) <= self.width_rad
    }
}

/// A radar: where, whose, what it covers, how often it looks and how well it measures.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorSpec {
    pub id: String,
    pub nation: String,
    pub kind: SensorKind,
    pub site: Geodetic,
    /// The site's latitude and longitude exactly as written (degrees), for sensors.csv.
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub max_range_m: f64,
    pub min_elevation_rad: f64,
    /// Upper edge of the coverage, used to spread false alarms.
    pub max_elevation_rad: f64,
    pub sector: AzimuthSector,
    pub revisit_s: f64,
    /// Time of the first scan; scans are at `phase_s + k·revisit_s`.
    pub phase_s: f64,
    pub sigma_range_m: f64,
    pub sigma_azimuth_rad: f64,
    pub sigma_elevation_rad: f64,
    pub p_detection: f64,
    pub false_alarms_per_scan: f64,
}

/// A communication link between two nations' nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    pub from: String,
    pub to: String,
    pub latency_ms: f64,
    pub jitter_ms: f64,
    /// Probability that a message is lost, in [0, 1].
    pub loss: f64,
    /// Whether the link carries traffic in both directions.
    pub both_ways: bool,
}

pub use trilink_domain::region::{RegionShape, RegionSpec};

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// The file it came from, or `builtin:NAME`.
    pub source: String,
    pub description: String,
    /// The epoch as written (RFC 3339, UTC offset applied in [`Scenario::epoch_unix_s`]).
    pub epoch_rfc3339: String,
    /// The epoch as seconds since 1970-01-01T00:00:00Z.
    pub epoch_unix_s: f64,
    /// How long to simulate from the epoch; `None` means until every object has landed.
    pub duration_s: Option<f64>,
    pub nations: Vec<Nation>,
    pub policy: Policy,
    pub launches: Vec<LaunchSpec>,
    pub sensors: Vec<SensorSpec>,
    pub links: Vec<LinkSpec>,
    pub regions: Vec<RegionSpec>,
    /// What was openly reported for the event the scenario imitates, for comparison only.
    pub public_record: Vec<PublicRecord>,
}

/// One openly reported time of the event a scenario imitates (`[[public_record]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicRecord {
    pub nation: String,
    pub region: Option<String>,
    pub event: String,
    pub time_s: f64,
}

impl Scenario {
    /// Loads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            file: file.clone(),
            source,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.clone());
        parse(&text, &file, &stem)
    }

    /// Validates scenario text; `name` stands in for the file name in errors.
    pub fn from_str(text: &str, name: &str) -> Result<Self, ScenarioError> {
        parse(text, name, name)
    }

    /// A built-in scenario by name (see [`builtin_names`](crate::builtin_names)).
    pub fn builtin(name: &str) -> Result<Self, ScenarioError> {
        let text = crate::builtin::text(name).ok_or_else(|| ScenarioError::UnknownBuiltin {
            name: name.to_string(),
            known: crate::builtin::NAMES.join(", "),
        })?;
        parse(text, &format!("builtin:{name}"), name)
    }

    /// A built-in name, or else a path to a scenario file.
    pub fn resolve(name_or_path: &str) -> Result<Self, ScenarioError> {
        // Something that is neither a built-in nor an existing file nor a `.toml` path is
        // reported as an unknown built-in, with the list of built-ins.
        let builtin = crate::builtin::text(name_or_path).is_some()
            || (!name_or_path.ends_with(".toml") && !Path::new(name_or_path).exists());
        if builtin {
            Self::builtin(name_or_path)
        } else {
            Self::load(Path::new(name_or_path))
        }
    }

    pub fn nation(&self, code: &str) -> Option<&Nation> {
        self.nations.iter().find(|n| n.code == code)
    }

    /// The sensors of one nation, in file order.
    pub fn sensors_of<'a>(&'a self, nation: &'a str) -> impl Iterator<Item = &'a SensorSpec> + 'a {
        self.sensors.iter().filter(move |s| s.nation == nation)
    }

    /// Whether a link carries traffic from `from` to `to` directly.
    pub fn link(&self, from: &str, to: &str) -> Option<&LinkSpec> {
        self.links.iter().find(|l| {
            (l.from == from && l.to == to) || (l.both_ways && l.from == to && l.to == from)
        })
    }

    /// The nations a message passes through from `from` to `to` (both included), by fewest
    /// hops over the links; `None` when no path exists. With hub-and-spoke links through the
    /// US, KR → JP is `[KR, US, JP]`.
    pub fn route(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let mut prev: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([from.to_string()]);
        let mut seen = BTreeSet::from([from.to_string()]);
        while let Some(n) = queue.pop_front() {
            if n == to {
                let mut path = vec![n.clone()];
                let mut cur = n;
                while let Some(p) = prev.get(&cur) {
                    path.push(p.clone());
                    cur = p.clone();
                }
                path.reverse();
                return Some(path);
            }
            for next in self.nations.iter().map(|x| &x.code) {
                if !seen.contains(next) && self.link(&n, next).is_some() {
                    seen.insert(next.clone());
                    prev.insert(next.clone(), n.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        None
    }
}

/// Seconds since the Unix epoch of a proleptic Gregorian date and time (UTC).
fn unix_seconds(y: i64, m: i64, d: i64, hh: i64, mm: i64, ss: f64) -> f64 {
    // Days from civil (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + hh * 3600 + mm * 60) as f64 + ss
}

struct Checker<'a> {
    idx: &'a SpanIndex,
}

impl Checker<'_> {
    fn invalid(&self, key: &str, value: impl ToString, expected: &str) -> ScenarioError {
        ScenarioError::Invalid {
            at: self.idx.at_key(key),
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    fn finite(&self, key: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.invalid(key, v, "a finite number"))
        }
    }

    fn positive(&self, key: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.invalid(key, v, "a finite number greater than zero"))
        }
    }

    fn non_negative(&self, key: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.invalid(key, v, "a finite number not below zero"))
        }
    }

    fn within(
        &self,
        key: &str,
        v: f64,
        lo: f64,
        hi: f64,
        what: &str,
    ) -> Result<f64, ScenarioError> {
        if v.is_finite() && (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(self.invalid(key, v, what))
        }
    }

    fn site(&self, key: &str, lat: f64, lon: f64, alt: f64) -> Result<Geodetic, ScenarioError> {
        let lat = self.within(
            &format!("{key}lat_deg"),
            lat,
            -90.0,
            90.0,
            "a latitude in [-90, 90] degrees",
        )?;
        let lon = self.within(
            &format!("{key}lon_deg"),
            lon,
            -180.0,
            360.0,
            "a longitude in [-180, 360] degrees",
        )?;
        let alt = self.within(
            &format!("{key}alt_m"),
            alt,
            MIN_SITE_ALT_M,
            1.0e5,
            "a site altitude in [-500, 100000] m",
        )?;
        Ok(Geodetic {
            lat_rad: lat.to_radians(),
            lon_rad: lon.to_radians(),
            alt_m: alt,
        })
    }

    fn nation(&self, key: &str, code: &str, nations: &[Nation]) -> Result<String, ScenarioError> {
        if nations.iter().any(|n| n.code == code) {
            Ok(code.to_string())
        } else {
            let known: Vec<&str> = nations.iter().map(|n| n.code.as_str()).collect();
            Err(self.invalid(
                key,
                format!("{code:?}"),
                &format!(
                    "one of the nations declared in [[nations]]: {}",
                    known.join(", ")
                ),
            ))
        }
    }

    fn identifier(&self, key: &str, s: &str) -> Result<String, ScenarioError> {
        if !s.is_empty() && !s.contains([',', '"', '\n', '\r']) {
            Ok(s.to_string())
        } else {
            Err(self.invalid(
                key,
                format!("{s:?}"),
                "a non-empty name without commas, quotes or newlines",
            ))
        }
    }
}

fn parse(text: &str, file: &str, stem: &str) -> Result<Scenario, ScenarioError> {
    let doc = match toml_edit::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let idx = SpanIndex::new(file, text, None);
            let at = idx.at_offset(e.span().map(|s| s.start).unwrap_or(0));
            return Err(ScenarioError::Syntax {
                at,
                message: e.message().to_string(),
            });
        }
    };
    let idx = SpanIndex::new(file, text, Some(&doc));
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let at = idx.at_offset(e.span().map(|s| s.start).unwrap_or(0));
        ScenarioError::Schema {
            at,
            message: e.message().to_string(),
        }
    })?;
    validate(raw, &idx, file, stem)
}

fn epoch(c: &Checker, raw: &RawEpoch) -> Result<(String, f64), ScenarioError> {
    let expected = "a UTC instant in RFC 3339, e.g. 2022-10-03T22:22:00Z";
    let dt = match raw {
        RawEpoch::Datetime(d) => *d,
        RawEpoch::Text(s) => s
            .parse::<toml::value::Datetime>()
            .map_err(|_| c.invalid("epoch", format!("{s:?}"), expected))?,
    };
    let (Some(date), Some(time), Some(offset)) = (dt.date, dt.time, dt.offset) else {
        return Err(c.invalid("epoch", dt, expected));
    };
    let offset_min = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes),
    };
    let secs = f64::from(time.second.unwrap_or(0)) + f64::from(time.nanosecond.unwrap_or(0)) * 1e-9;
    let t = unix_seconds(
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
        i64::from(time.hour),
        i64::from(time.minute),
        secs,
    ) - (offset_min * 60) as f64;
    Ok((dt.to_string(), t))
}

fn vehicle(c: &Checker, key: &str, v: &RawVehicle) -> Result<VehicleSpec, ScenarioError> {
    if v.stages.is_empty() {
        return Err(c.invalid(
            &format!("{key}.stages"),
            "[]",
            "at least one [[...stages]] table",
        ));
    }
    let mut stages = Vec::with_capacity(v.stages.len());
    for (i, s) in v.stages.iter().enumerate() {
        let k = format!("{key}.stages[{i}].");
        stages.push(StageSpec {
            dry_mass_kg: c.positive(&format!("{k}dry_mass_kg"), s.dry_mass_kg)?,
            propellant_mass_kg: c
                .positive(&format!("{k}propellant_mass_kg"), s.propellant_mass_kg)?,
            thrust_n: c.positive(&format!("{k}thrust_n"), s.thrust_n)?,
            burn_time_s: c.positive(&format!("{k}burn_time_s"), s.burn_time_s)?,
            ballistic_coefficient_kg_m2: c.positive(
                &format!("{k}ballistic_coefficient_kg_m2"),
                s.ballistic_coefficient_kg_m2,
            )?,
        });
    }
    Ok(VehicleSpec {
        stages,
        payload_mass_kg: c.positive(&format!("{key}.payload_mass_kg"), v.payload_mass_kg)?,
        payload_ballistic_coefficient_kg_m2: c.positive(
            &format!("{key}.payload_ballistic_coefficient_kg_m2"),
            v.payload_ballistic_coefficient_kg_m2,
        )?,
        pitch: PitchProgram {
            vertical_s: c.non_negative(&format!("{key}.pitch_vertical_s"), v.pitch_vertical_s)?,
            final_elevation_rad: c
                .within(
                    &format!("{key}.pitch_final_elevation_deg"),
                    v.pitch_final_elevation_deg,
                    -90.0,
                    90.0,
                    "an elevation in [-90, 90] degrees",
                )?
                .to_radians(),
        },
    })
}

/// A per-sensor default scan phase, spread by the golden ratio so that sensors with equal
/// revisit periods do not all scan at the same instant.
fn default_phase_s(index: usize, revisit_s: f64) -> f64 {
    let golden = 0.618_033_988_749_894_9;
    ((index as f64 + 1.0) * golden).fract() * revisit_s
}

fn validate(
    raw: RawScenario,
    idx: &SpanIndex,
    file: &str,
    stem: &str,
) -> Result<Scenario, ScenarioError> {
    let c = Checker { idx };
    let (epoch_rfc3339, epoch_unix_s) = epoch(&c, &raw.epoch)?;
    let duration_s = match raw.duration_s {
        Some(d) => Some(c.positive("duration_s", d)?),
        None => None,
    };

    // Nations first: everything else refers to them.
    if raw.nations.is_empty() {
        return Err(c.invalid("nations", "[]", "at least one [[nations]] table"));
    }
    let mut nations: Vec<Nation> = Vec::new();
    for (i, n) in raw.nations.iter().enumerate() {
        let key = format!("nations[{i}].code");
        let ok = n.code.len() == 2 && n.code.chars().all(|ch| ch.is_ascii_uppercase());
        if !ok {
            return Err(c.invalid(
                &key,
                format!("{:?}", n.code),
                "an ISO 3166-1 alpha-2 code in capitals, e.g. \"KR\"",
            ));
        }
        if nations.iter().any(|m| m.code == n.code) {
            return Err(c.invalid(
                &key,
                format!("{:?}", n.code),
                "a nation code not declared before",
            ));
        }
        nations.push(Nation {
            code: n.code.clone(),
            name: n.name.clone(),
        });
    }

    let mut policy = Policy::default();
    for (from, to) in &raw.policy.release {
        let key = format!("policy.release.{from}");
        let from = c.nation(&key, from, &nations)?;
        let mut set = BTreeSet::new();
        for (j, t) in to.iter().enumerate() {
            set.insert(c.nation(&format!("{key}[{j}]"), t, &nations)?);
        }
        policy.release.insert(from, set);
    }
    let mut typed = trilink_domain::Policy::new();
    for (from, to) in &policy.release {
        let code = |s: &str| s.parse::<trilink_domain::Nation>();
        if let Ok(f) = code(from) {
            typed.release(f, to.iter().filter_map(|t| code(t).ok()));
        }
    }
    for (i, r) in raw.policy.relay.iter().enumerate() {
        let key = format!("policy.relay[{i}]");
        let typed_nation = |k: &str, v: &str| -> Result<trilink_domain::Nation, ScenarioError> {
            let code = c.nation(k, v, &nations)?;
            code.parse().map_err(|e: trilink_domain::NationError| {
                c.invalid(k, format!("{v:?}"), &e.to_string())
            })
        };
        let from = typed_nation(&format!("{key}.from"), &r.from)?;
        let via = typed_nation(&format!("{key}.via"), &r.via)?;
        let mut to = BTreeSet::new();
        for (j, t) in r.to.iter().enumerate() {
            to.insert(typed_nation(&format!("{key}.to[{j}]"), t)?);
        }
        let rule = trilink_domain::RelayRule { from, via, to };
        trilink_domain::check_relays(&typed, std::slice::from_ref(&rule)).map_err(|e| {
            c.invalid(
                &key,
                format!(
                    "{{ from = \"{}\", via = \"{}\", to = {:?} }}",
                    r.from, r.via, r.to
                ),
                &format!("a relay the release policy allows: {e}"),
            )
        })?;
        policy.relay.push(rule);
    }

    if raw.launches.is_empty() {
        return Err(c.invalid("launches", "[]", "at least one [[launches]] table"));
    }
    let mut launches = Vec::with_capacity(raw.launches.len());
    for (i, l) in raw.launches.iter().enumerate() {
        let key = format!("launches[{i}]");
        let site = c.site(&format!("{key}."), l.lat_deg, l.lon_deg, l.alt_m)?;
        let azimuth_deg = c.finite(&format!("{key}.azimuth_deg"), l.azimuth_deg)?;
        let t0_s = c.finite(&format!("{key}.time_s"), l.time_s)?;
        let (class, vehicle) = match (&l.class, &l.vehicle) {
            (Some(name), None) => match crate::vehicles::vehicle_class(name) {
                Some(v) => (Some(name.clone()), v),
                None => {
                    return Err(c.invalid(
                        &format!("{key}.class"),
                        format!("{name:?}"),
                        &format!(
                            "one of the missile classes: {}",
                            crate::vehicles::class_names().join(", ")
                        ),
                    ))
                }
            },
            (None, Some(v)) => (None, vehicle(&c, &format!("{key}.vehicle"), v)?),
            (Some(_), Some(_)) => {
                return Err(c.invalid(
                    &format!("{key}.class"),
                    "both `class` and [launches.vehicle]",
                    "either `class` or [launches.vehicle], not both",
                ))
            }
            (None, None) => {
                return Err(c.invalid(
                    &key,
                    "neither `class` nor [launches.vehicle]",
                    "`class = \"NAME\"` or a [launches.vehicle] table",
                ))
            }
        };
        let at = idx.at_key(&key);
        let launch = Launch {
            site,
            azimuth_rad: azimuth_deg.to_radians().rem_euclid(TAU),
            t0_s,
            vehicle,
        };
        // Ask the physics now, with a flight cut off at once (it checks the vehicle and the
        // lift-off before integrating), so that a vehicle it refuses is reported against its
        // place in the file before anything is simulated or written.
        let boost_only = FlightConfig {
            max_duration_s: 1e-6,
            ..FlightConfig::default()
        };
        if let Err(source) = trilink_physics::fly(&launch, &boost_only) {
            return Err(ScenarioError::Launch { at, source });
        }
        launches.push(LaunchSpec {
            name: l
                .name
                .clone()
                .unwrap_or_else(|| format!("launch-{}", i + 1)),
            class,
            launch,
            at,
        });
    }

    let mut sensors: Vec<SensorSpec> = Vec::with_capacity(raw.sensors.len());
    for (i, s) in raw.sensors.iter().enumerate() {
        let key = format!("sensors[{i}]");
        let k = |name: &str| format!("{key}.{name}");
        let id = c.identifier(&k("id"), &s.id)?;
        if sensors.iter().any(|o| o.id == id) {
            return Err(c.invalid(
                &k("id"),
                format!("{id:?}"),
                "a sensor id not used by another sensor",
            ));
        }
        let nation = c.nation(&k("nation"), &s.nation, &nations)?;
        let kind = SensorKind::parse(&s.kind).ok_or_else(|| {
            c.invalid(
                &k("type"),
                format!("{:?}", s.kind),
                &format!("one of {}", SensorKind::NAMES.join(", ")),
            )
        })?;
        let site = c.site(&format!("{key}."), s.lat_deg, s.lon_deg, s.alt_m)?;
        let max_range_m = c.positive(&k("max_range_m"), s.max_range_m)?;
        let min_el = c.within(
            &k("min_elevation_deg"),
            s.min_elevation_deg,
            -90.0,
            90.0,
            "an elevation in [-90, 90] degrees",
        )?;
        let max_el = match s.max_elevation_deg {
            Some(v) => c.within(
                &k("max_elevation_deg"),
                v,
                -90.0,
                90.0,
                "an elevation in [-90, 90] degrees",
            )?,
            None => 90.0,
        };
        if max_el <= min_el {
            return Err(c.invalid(
                &k("max_elevation_deg"),
                max_el,
                &format!("an elevation above min_elevation_deg = {min_el}"),
            ));
        }
        let sector = match (s.azimuth_min_deg, s.azimuth_max_deg) {
            (None, None) => AzimuthSector::FULL,
            (Some(lo), Some(hi)) => {
                let lo = c.within(
                    &k("azimuth_min_deg"),
                    lo,
                    -360.0,
                    360.0,
                    "an azimuth in [-360, 360] degrees",
                )?;
                let hi = c.within(
                    &k("azimuth_max_deg"),
                    hi,
                    -360.0,
                    720.0,
                    "an azimuth in [-360, 720] degrees",
                )?;
                let span = hi - lo;
                if span.abs() >= 360.0 {
                    AzimuthSector::FULL
                } else {
                    let width = span.rem_euclid(360.0);
                    if width == 0.0 {
                        return Err(c.invalid(
                            &k("azimuth_max_deg"),
                            hi,
                            &format!("an azimuth different from azimuth_min_deg = {lo} (the sector runs clockwise from min to max; use 0 and 360 for all round)"),
                        ));
                    }
                    AzimuthSector {
                        start_rad: lo.to_radians().rem_euclid(TAU),
                        width_rad: width.to_radians(),
                    }
                }
            }
            (Some(_), None) => {
                return Err(c.invalid(
                    &k("azimuth_max_deg"),
                    "missing",
                    "both azimuth_min_deg and azimuth_max_deg, or neither (all round)",
                ))
            }
            (None, Some(_)) => {
                return Err(c.invalid(
                    &k("azimuth_min_deg"),
                    "missing",
                    "both azimuth_min_deg and azimuth_max_deg, or neither (all round)",
                ))
            }
        };
        let revisit_s = c.positive(&k("revisit_s"), s.revisit_s)?;
        let phase_s = match s.phase_s {
            Some(p) => c.within(
                &k("phase_s"),
                p,
                0.0,
                revisit_s,
                "a phase in [0, revisit_s] seconds",
            )?,
            None => default_phase_s(i, revisit_s),
        };
        sensors.push(SensorSpec {
            id,
            nation,
            kind,
            site,
            lat_deg: s.lat_deg,
            lon_deg: s.lon_deg,
            max_range_m,
            min_elevation_rad: min_el.to_radians(),
            max_elevation_rad: max_el.to_radians(),
            sector,
            revisit_s,
            phase_s,
            sigma_range_m: c.positive(&k("sigma_range_m"), s.sigma_range_m)?,
            sigma_azimuth_rad: c.positive(&k("sigma_azimuth_mrad"), s.sigma_azimuth_mrad)? * 1e-3,
            sigma_elevation_rad: c.positive(&k("sigma_elevation_mrad"), s.sigma_elevation_mrad)?
                * 1e-3,
            p_detection: c.within(
                &k("p_detection"),
                s.p_detection,
                0.0,
                1.0,
                "a probability in [0, 1]",
            )?,
            false_alarms_per_scan: c.within(
                &k("false_alarms_per_scan"),
                s.false_alarms_per_scan,
                0.0,
                1.0e4,
                "a mean count in [0, 10000]",
            )?,
        });
    }

    let mut links = Vec::with_capacity(raw.links.len());
    for (i, l) in raw.links.iter().enumerate() {
        let key = format!("links[{i}]");
        let k = |name: &str| format!("{key}.{name}");
        let from = c.nation(&k("from"), &l.from, &nations)?;
        let to = c.nation(&k("to"), &l.to, &nations)?;
        if from == to {
            return Err(c.invalid(&k("to"), format!("{to:?}"), "a nation other than `from`"));
        }
        links.push(LinkSpec {
            from,
            to,
            latency_ms: c.non_negative(&k("latency_ms"), l.latency_ms)?,
            jitter_ms: c.non_negative(&k("jitter_ms"), l.jitter_ms)?,
            loss: c.within(&k("loss"), l.loss, 0.0, 1.0, "a probability in [0, 1]")?,
            both_ways: l.both_ways,
        });
    }

    let mut regions = Vec::with_capacity(raw.regions.len());
    for (i, r) in raw.regions.iter().enumerate() {
        let key = format!("regions[{i}]");
        let k = |name: &str| format!("{key}.{name}");
        let nation = c.nation(&k("nation"), &r.nation, &nations)?;
        let shape = match (&r.polygon_deg, &r.circle) {
            (Some(p), None) => {
                if p.len() < 3 {
                    return Err(c.invalid(&k("polygon_deg"), format!("{} vertices", p.len()), "at least 3 [lat_deg, lon_deg] vertices"));
                }
                let mut vs = Vec::with_capacity(p.len());
                for (j, v) in p.iter().enumerate() {
                    let vk = format!("{key}.polygon_deg[{j}]");
                    let [lat, lon] = v.as_slice() else {
                        return Err(c.invalid(&vk, format!("{v:?}"), "a pair [lat_deg, lon_deg]"));
                    };
                    let g = c.site(&format!("{vk}."), *lat, *lon, 0.0).map_err(|_| {
                        c.invalid(&vk, format!("{v:?}"), "a pair [lat_deg, lon_deg] with latitude in [-90, 90] and longitude in [-180, 360]")
                    })?;
                    vs.push((g.lat_deg(), g.lon_deg()));
                }
                trilink_domain::check_polygon(&vs).map_err(|e| {
                    c.invalid(&k("polygon_deg"), format!("{} vertices", vs.len()), &format!("a simple outline with an area: {e}"))
                })?;
                RegionShape::Polygon(vs)
            }
            (None, Some(ci)) => RegionShape::Circle {
                center: c.site(&format!("{key}.circle."), ci.lat_deg, ci.lon_deg, 0.0)?,
                radius_m: c.positive(&k("circle.radius_m"), ci.radius_m)?,
            },
            _ => {
                return Err(c.invalid(&key, "neither or both of polygon_deg and circle", "exactly one of `polygon_deg = [[lat, lon], ...]` or `circle = { lat_deg, lon_deg, radius_m }`"))
            }
        };
        regions.push(RegionSpec {
            name: c.identifier(&k("name"), &r.name)?,
            nation,
            shape,
        });
    }

    let mut public_record = Vec::with_capacity(raw.public_record.len());
    for (i, r) in raw.public_record.iter().enumerate() {
        let k = |name: &str| format!("public_record[{i}].{name}");
        let nation = c.nation(&k("nation"), &r.nation, &nations)?;
        if let Some(region) = &r.region {
            if !regions.iter().any(|g: &RegionSpec| &g.name == region) {
                return Err(c.invalid(
                    &k("region"),
                    format!("{region:?}"),
                    "the name of a [[regions]] entry",
                ));
            }
        }
        public_record.push(PublicRecord {
            nation,
            region: r.region.clone(),
            event: r.event.clone(),
            time_s: c.finite(&k("time_s"), r.time_s)?,
        });
    }

    Ok(Scenario {
        name: raw.name.unwrap_or_else(|| stem.to_string()),
        source: file.to_string(),
        description: raw.description,
        epoch_rfc3339,
        epoch_unix_s,
        duration_s,
        nations,
        policy,
        launches,
        sensors,
        links,
        regions,
        public_record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_matches_known_instants() {
        // 2000-01-01T00:00:00Z is 946684800 s (POSIX); 2022-10-04T00:00:00Z is 1664841600 s.
        assert_eq!(unix_seconds(2000, 1, 1, 0, 0, 0.0), 946_684_800.0);
        assert_eq!(unix_seconds(2022, 10, 4, 0, 0, 0.0), 1_664_841_600.0);
        assert_eq!(unix_seconds(1970, 1, 1, 0, 0, 0.0), 0.0);
    }

    #[test]
    fn sector_wraps_through_north() {
        let s = AzimuthSector {
            start_rad: 300f64.to_radians(),
            width_rad: 120f64.to_radians(),
        };
        assert!(s.contains(350f64.to_radians()));
        assert!(s.contains(10f64.to_radians()));
        assert!(!s.contains(90f64.to_radians()));
        assert!(!s.contains(250f64.to_radians()));
        assert!(AzimuthSector::FULL.contains(3.0));
    }
}
