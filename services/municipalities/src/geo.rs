//! Regions and agencies: the two words every other module of the service speaks. A leaf:
//! it imports nothing of the service, so `rules` and `domain` can both use it.

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

/// The integration agencies (Bon is AgII's Brussels branch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agency {
    Agii,
    Bon,
    Atlas,
    InGent,
}

impl Agency {
    /// The alias, as in tokens and stored rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Agency::Agii => "agii",
            Agency::Bon => "bon",
            Agency::Atlas => "atlas",
            Agency::InGent => "in-gent",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Agency::Agii, Agency::Bon, Agency::Atlas, Agency::InGent]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}
