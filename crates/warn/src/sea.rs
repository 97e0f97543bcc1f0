//! Names for where a landing outside every region falls: a coarse table of sea areas, and the
//! nation's exclusive economic zone approximated from its region outlines (docs/decisions/0801).
use crate::geometry::{unwrap_lon, Region};

/// The EEZ's breadth: 200 nautical miles (UNCLOS art. 57).
pub const EEZ_M: f64 = 370_400.0;

/// A named box `[lat_min, lat_max] × [lon_min, lon_max]` (longitudes east, may exceed 180°).
struct SeaBox {
    name: &'static str,
    lat: (f64, f64),
    lon: (f64, f64),
}

/// Coarse boxes, most specific first: the first that holds a point names it. They are not
/// coastlines (a box holds land too); they run after the regions, which are the only land the
/// scenario draws, so a landing that reaches this table is taken to be at sea.
const SEA_AREAS: [SeaBox; 7] = [
    SeaBox {
        name: "Yellow Sea",
        lat: (33.0, 41.0),
        lon: (117.0, 126.5),
    },
    SeaBox {
        name: "East China Sea",
        lat: (23.0, 33.0),
        lon: (117.0, 130.0),
    },
    SeaBox {
        name: "Sea of Japan (East Sea)",
        lat: (33.5, 52.0),
        lon: (127.0, 142.3),
    },
    SeaBox {
        name: "Sea of Okhotsk",
        lat: (43.5, 60.0),
        lon: (135.0, 157.0),
    },
    SeaBox {
        name: "Philippine Sea",
        lat: (5.0, 34.0),
        lon: (120.0, 142.0),
    },
    SeaBox {
        name: "South China Sea",
        lat: (-5.0, 23.0),
        lon: (99.0, 120.0),
    },
    SeaBox {
        name: "Pacific Ocean",
        lat: (-60.0, 66.0),
        lon: (120.0, 290.0),
    },
];

/// The name of the sea area that holds the point, if the table has one.
pub fn sea_area(lat_deg: f64, lon_deg: f64) -> Option<&'static str> {
    SEA_AREAS
        .iter()
        .find(|b| {
            let lon = unwrap_lon(lon_deg, 0.5 * (b.lon.0 + b.lon.1));
            (b.lat.0..=b.lat.1).contains(&lat_deg) && (b.lon.0..=b.lon.1).contains(&lon)
        })
        .map(|b| b.name)
}

/// Whether the point lies within 200 nmi of one of the nation's regions.
pub fn in_eez(regions: &[Region], lat_deg: f64, lon_deg: f64) -> bool {
    regions
        .iter()
        .any(|r| r.distance_m(lat_deg, lon_deg) <= EEZ_M)
}

/// Where a landing is, as the `region` field of a `landed` row says it: the region's name, or
/// the sea area with the nation's EEZ, e.g. "Sea of Japan (East Sea) (outside JP EEZ)".
pub fn landing_place(nation: &str, regions: &[Region], lat_deg: f64, lon_deg: f64) -> String {
    if let Some(r) = regions.iter().find(|r| r.contains(lat_deg, lon_deg)) {
        return r.name().to_string();
    }
    let area = sea_area(lat_deg, lon_deg).unwrap_or("open sea");
    let side = if in_eez(regions, lat_deg, lon_deg) {
        "inside"
    } else {
        "outside"
    };
    format!("{area} ({side} {nation} EEZ)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_landings_get_their_reported_seas() {
        assert_eq!(sea_area(41.03, 131.91), Some("Sea of Japan (East Sea)"));
        assert_eq!(sea_area(33.36, 178.03), Some("Pacific Ocean"));
        assert_eq!(sea_area(36.0, 123.0), Some("Yellow Sea"));
        assert_eq!(sea_area(28.0, 125.0), Some("East China Sea"));
        assert_eq!(sea_area(46.0, 150.0), Some("Sea of Okhotsk"));
        assert_eq!(sea_area(33.0, -175.0), Some("Pacific Ocean"));
        assert_eq!(sea_area(0.0, 0.0), None);
    }
}
