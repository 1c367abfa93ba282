//! The integration agencies (DESIGN.md §1), as every service names them: AgII, its
//! Brussels branch Bon, Atlas Antwerpen and In-Gent. The `wire` crate converts them to and
//! from `inburgering.common.v1.Agency`; `auth::principal` says which organisation covers
//! which.

use std::fmt;

/// One of the integration agencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Agency {
    Agii,
    Bon,
    Atlas,
    InGent,
}

impl Agency {
    pub const ALL: [Agency; 4] = [Agency::Agii, Agency::Bon, Agency::Atlas, Agency::InGent];

    /// The alias, as in tokens' organisations and stored rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Agency::Agii => "agii",
            Agency::Bon => "bon",
            Agency::Atlas => "atlas",
            Agency::InGent => "in-gent",
        }
    }

    /// The agency of an alias; `None` for anything else.
    pub fn from_alias(alias: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == alias)
    }
}

impl fmt::Display for Agency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
