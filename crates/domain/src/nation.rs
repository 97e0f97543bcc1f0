//! Nations (ISO 3166-1 alpha-2) and releasability sets.
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NationError {
    #[error("nation code {value:?} is not an ISO 3166-1 alpha-2 code (expected two upper-case letters A-Z, e.g. \"KR\")")]
    BadCode { value: String },
}

/// An ISO 3166-1 alpha-2 nation code, such as `KR`, `JP` or `US`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nation([u8; 2]);

impl Nation {
    pub fn as_str(&self) -> &str {
        // Constructed only from two ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for Nation {
    type Err = NationError;
    fn from_str(s: &str) -> Result<Self, NationError> {
        let b = s.as_bytes();
        if b.len() == 2 && b.iter().all(|c| c.is_ascii_uppercase()) {
            Ok(Nation([b[0], b[1]]))
        } else {
            Err(NationError::BadCode {
                value: s.to_string(),
            })
        }
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// REL TO: the set of nations a message may be released to. Kept sorted and unique, which is
/// also its wire form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RelTo(BTreeSet<Nation>);

impl RelTo {
    pub fn new(nations: impl IntoIterator<Item = Nation>) -> Self {
        RelTo(nations.into_iter().collect())
    }

    pub fn contains(&self, n: Nation) -> bool {
        self.0.contains(&n)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Nation> + '_ {
        self.0.iter().copied()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `KR,US` style, for logs and the journal.
    pub fn joined(&self) -> String {
        self.0
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nation_codes_are_two_upper_case_letters() {
        assert_eq!(
            "KR".parse::<Nation>().map(|n| n.to_string()),
            Ok("KR".to_string())
        );
        for bad in ["kr", "K", "KOR", "K1", "", "ÜS"] {
            assert!(bad.parse::<Nation>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rel_to_is_sorted_and_unique() {
        let n = |s: &str| s.parse::<Nation>().map_err(|e| e.to_string());
        let r = RelTo::new([
            n("US").unwrap_or(Nation(*b"US")),
            Nation(*b"JP"),
            Nation(*b"US"),
        ]);
        assert_eq!(r.joined(), "JP,US");
    }
}

/// Releasability policy: for each origin nation, the nations its track reports are released to.
/// Nations absent from the map release nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy(std::collections::BTreeMap<Nation, RelTo>);

impl Policy {
    pub fn new() -> Self {
        Self::default()
    }

    /// Releases `origin`'s reports to `to` (an origin is never its own destination).
    pub fn release(&mut self, origin: Nation, to: impl IntoIterator<Item = Nation>) {
        let entry = self.0.entry(origin).or_default();
        let mut all: BTreeSet<Nation> = entry.0.clone();
        all.extend(to.into_iter().filter(|n| *n != origin));
        *entry = RelTo(all);
    }

    /// Everyone to everyone.
    pub fn mesh(nations: &[Nation]) -> Self {
        let mut p = Policy::new();
        for &o in nations {
            p.release(o, nations.iter().copied());
        }
        p
    }

    pub fn rel_to(&self, origin: Nation) -> RelTo {
        self.0.get(&origin).cloned().unwrap_or_default()
    }

    /// Origins whose reports are released to `dest`.
    pub fn sources_for(&self, dest: Nation) -> Vec<Nation> {
        self.0
            .iter()
            .filter(|(_, r)| r.contains(dest))
            .map(|(o, _)| *o)
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Nation, &RelTo)> {
        self.0.iter().map(|(n, r)| (*n, r))
    }
}
