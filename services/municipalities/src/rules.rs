//! Every rule with a number of the municipalities service, named once, citing its source
//! (DESIGN.md §1 and §3, issue 8). Change them here and in the tests at their edges.

use platform::Agency;

use crate::geo::Region;

/// NIS code of Antwerp: its residents fall under Atlas (DESIGN.md §1). Since 2025-01-01
/// that includes Borsbeek (11007), merged into Antwerp as its tenth district.
pub const ANTWERP_NIS: u32 = 11002;
/// NIS code of Ghent: its residents fall under In-Gent (DESIGN.md §1).
pub const GHENT_NIS: u32 = 44021;

/// The agency competent for the residents of a municipality (DESIGN.md §1): Atlas in
/// Antwerp, In-Gent in Ghent, AgII elsewhere in Flanders, AgII through its branch Bon in the
/// 19 Brussels municipalities, and none in Wallonia.
pub fn competent_agency(nis: u32, region: Region) -> Option<Agency> {
    match region {
        Region::Flanders if nis == ANTWERP_NIS => Some(Agency::Atlas),
        Region::Flanders if nis == GHENT_NIS => Some(Agency::InGent),
        Region::Flanders => Some(Agency::Agii),
        Region::Brussels => Some(Agency::Bon),
        Region::Wallonia => None,
    }
}

/// Participation and network is completed at 40 hours of buddy project,
/// kennismakingsstage or volunteering (DESIGN.md §3), over all placements of the trajectory.
pub const PARTICIPATION_HOURS: u32 = 40;

/// No more than 12 hours of participation are logged for one person on one day
/// (issue 8): a longer day is a typing error, not participation.
pub const MAX_HOURS_PER_DAY: u32 = 12;

/// Whether `logged` hours complete participation.
pub fn participation_complete(logged: u32) -> bool {
    logged >= PARTICIPATION_HOURS
}

/// Whether a day may hold `already` plus `more` hours.
pub fn fits_in_a_day(already: u32, more: u32) -> bool {
    (1..=MAX_HOURS_PER_DAY).contains(&more) && already + more <= MAX_HOURS_PER_DAY
}

/// A participation offer seats at least one person and, as a plausibility bound for one
/// host, at most this many.
pub const MAX_OFFER_CAPACITY: i32 = 200;

/// The local monitor never shows a cell that counts fewer than 5 people (issue 8,
/// statistical disclosure control): it is suppressed, and so are as many others as it
/// takes for no total to give it away.
pub const SUPPRESSION_THRESHOLD: i64 = 5;

/// Whether a count of people may be shown.
pub fn may_show(people: i64) -> bool {
    people >= SUPPRESSION_THRESHOLD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agencies_follow_the_municipality_of_residence() {
        assert_eq!(
            competent_agency(11002, Region::Flanders),
            Some(Agency::Atlas)
        );
        assert_eq!(
            competent_agency(44021, Region::Flanders),
            Some(Agency::InGent)
        );
        assert_eq!(
            competent_agency(11001, Region::Flanders),
            Some(Agency::Agii)
        );
        assert_eq!(
            competent_agency(44020, Region::Flanders),
            Some(Agency::Agii)
        );
        assert_eq!(competent_agency(21001, Region::Brussels), Some(Agency::Bon));
        assert_eq!(competent_agency(21019, Region::Brussels), Some(Agency::Bon));
        assert_eq!(competent_agency(62063, Region::Wallonia), None);
    }

    #[test]
    fn participation_is_complete_at_forty_hours() {
        assert!(!participation_complete(39));
        assert!(participation_complete(40));
        assert!(participation_complete(41));
    }

    #[test]
    fn a_day_holds_twelve_hours_at_most() {
        assert!(fits_in_a_day(0, 12));
        assert!(!fits_in_a_day(0, 13));
        assert!(fits_in_a_day(8, 4));
        assert!(!fits_in_a_day(8, 5));
        assert!(!fits_in_a_day(0, 0), "no empty entries");
    }

    #[test]
    fn cells_under_five_people_are_not_shown() {
        assert!(!may_show(0));
        assert!(!may_show(4));
        assert!(may_show(5));
    }
}
