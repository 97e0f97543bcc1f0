//! The scenarios that ship inside the binary (`scenarios/*.toml`, embedded at build time).

/// Built-in names, the default first.
pub const NAMES: [&str; 7] = [
    "hwasong-12",
    "kn-23",
    "hwasong-15",
    "hwasong-18",
    "chollima-1",
    "salvo",
    "raid-1000",
];

/// The built-in used when a command is given no scenario.
pub const DEFAULT: &str = "hwasong-12";

pub(crate) fn text(name: &str) -> Option<&'static str> {
    Some(match name {
        "hwasong-12" => include_str!("../../../scenarios/hwasong-12.toml"),
        "kn-23" => include_str!("../../../scenarios/kn-23.toml"),
        "hwasong-15" => include_str!("../../../scenarios/hwasong-15.toml"),
        "hwasong-18" => include_str!("../../../scenarios/hwasong-18.toml"),
        "chollima-1" => include_str!("../../../scenarios/chollima-1.toml"),
        "salvo" => include_str!("../../../scenarios/salvo.toml"),
        "raid-1000" => include_str!("../../../scenarios/raid-1000.toml"),
        _ => return None,
    })
}

/// The TOML text of a built-in, for `trilink simulate --print` style uses and for tests.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    text(name)
}
