//! Regions: a word every other module of the service speaks. A leaf: it imports nothing
//! of the service, so `rules` and `domain` can both use it. (Agencies are
//! `platform::Agency`.)

/// The three regions of Belgium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    Flanders,
    Brussels,
    Wallonia,
}

impl Region {
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Flanders => "flanders",
            Region::Brussels => "brussels",
            Region::Wallonia => "wallonia",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Region::Flanders, Region::Brussels, Region::Wallonia]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}
