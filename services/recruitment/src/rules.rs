//! The recruitment rules with numbers (DESIGN.md §3 "Recruitment", issue 10), each named
//! and citing its source. Where the decree has more cases than a register record can tell
//! (a Belgian born abroad of a parent born abroad is entitled, for instance), the record
//! decides nothing and the case worker does at intake.

/// Adulthood: the obligation and the entitlement start at 18 (Inburgeringsdecreet of
/// 7 June 2013, art. 26 and 27: "meerderjarig"). Letters go to adults; a minor is reached
/// through the household.
pub const ADULT_AGE: u32 = 18;

/// The obligation stops at 65 (Inburgeringsdecreet art. 27 §1: "jonger dan 65 jaar"): from
/// 65 a newcomer in Flanders is entitled, not obliged.
pub const OBLIGATION_END_AGE: u32 = 65;

/// Citizens of the EU, the EEA and Switzerland (ISO 3166-1 alpha-2) are not obliged
/// (Inburgeringsdecreet art. 27 §1, 1°: "die niet de nationaliteit heeft van een lidstaat
/// van de Europese Unie, de Europese Economische Ruimte of Zwitserland"); they are entitled.
pub const FREE_MOVEMENT: [&str; 31] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO", "CH",
];

/// Cells of the conversion funnel under this many people are suppressed, as in the local
/// monitor (municipalities' `SUPPRESSION_THRESHOLD`: statistical disclosure control).
pub const SUPPRESSION_THRESHOLD: i64 = 5;

/// The letter's address is erased this many days after the letter is sent, unless
/// configured otherwise (`INBURGERING_ADDRESS_RETENTION_DAYS`): long enough to answer a
/// returned letter, no longer (GDPR art. 5(1)(e), storage limitation).
pub const DEFAULT_ADDRESS_RETENTION_DAYS: u32 = 30;

/// Letters per PDF file: a print shop's batch, small enough to re-render when a run is
/// interrupted.
pub const LETTERS_PER_BATCH: usize = 500;

/// Where a newcomer registered, as the municipality register says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Flanders,
    Brussels,
    Wallonia,
}

/// The register a record is in. Only the population and foreigners' registers give
/// access to integration (DESIGN.md §1); the waiting register (asylum seekers) does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    Population,
    Foreigners,
    Waiting,
}

/// The letter groups a register record can put someone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Obliged,
    Entitled,
    BrusselsNewcomer,
}

/// Why a register record gets no letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotTargeted {
    /// The waiting register.
    Register,
    Minor,
    Wallonia,
    /// A Belgian moving in: the record cannot tell whether they are entitled.
    Belgian,
}

impl NotTargeted {
    /// The reason as the import report prints it.
    pub fn reason(self) -> &'static str {
        match self {
            NotTargeted::Register => "not in the population or foreigners' register",
            NotTargeted::Minor => "under 18 on the day of registration",
            NotTargeted::Wallonia => "registered in Wallonia, where no Flemish agency works",
            NotTargeted::Belgian => "Belgian national: entitlement is decided at intake",
        }
    }
}

/// The target group of a newcomer from the register record:
/// - in Brussels every adult newcomer gets Bon's welcome letter (DESIGN.md §3; the
///   national-register connection since 2024-02-02);
/// - in Flanders an adult under 65 who is not a citizen of the EU/EEA/Switzerland and is in
///   the foreigners' register is obliged (Inburgeringsdecreet art. 27); every other adult
///   foreigner is entitled (art. 26).
pub fn target_group(
    region: Region,
    register: Register,
    nationality: &str,
    age: u32,
) -> Result<Group, NotTargeted> {
    if !matches!(register, Register::Population | Register::Foreigners) {
        return Err(NotTargeted::Register);
    }
    if age < ADULT_AGE {
        return Err(NotTargeted::Minor);
    }
    match region {
        Region::Wallonia => Err(NotTargeted::Wallonia),
        Region::Brussels => Ok(Group::BrusselsNewcomer),
        Region::Flanders if nationality == "BE" => Err(NotTargeted::Belgian),
        Region::Flanders => {
            let free_movement = FREE_MOVEMENT.contains(&nationality);
            if !free_movement && register == Register::Foreigners && age < OBLIGATION_END_AGE {
                Ok(Group::Obliged)
            } else {
                Ok(Group::Entitled)
            }
        }
    }
}

/// Whether a count of people may be shown in the funnel.
pub fn may_show(people: i64) -> bool {
    people >= SUPPRESSION_THRESHOLD
}

/// `part` of `whole` in whole percents, rounded half up in integers; `None` for no whole.
pub fn rate_percent(part: i64, whole: i64) -> Option<i32> {
    if whole <= 0 {
        return None;
    }
    i32::try_from((200 * part + whole) / (2 * whole)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adulthood_starts_at_eighteen() {
        let at = |age| target_group(Region::Brussels, Register::Population, "MA", age);
        assert_eq!(at(17), Err(NotTargeted::Minor));
        assert_eq!(at(18), Ok(Group::BrusselsNewcomer));
    }

    #[test]
    fn the_flemish_obligation_ends_at_sixty_five() {
        let at = |age| target_group(Region::Flanders, Register::Foreigners, "SY", age);
        assert_eq!(at(64), Ok(Group::Obliged));
        assert_eq!(at(65), Ok(Group::Entitled));
    }

    #[test]
    fn free_movement_citizens_are_entitled_not_obliged() {
        let flemish = |nat| target_group(Region::Flanders, Register::Foreigners, nat, 30);
        assert_eq!(flemish("NL"), Ok(Group::Entitled));
        assert_eq!(flemish("CH"), Ok(Group::Entitled));
        assert_eq!(flemish("TR"), Ok(Group::Obliged));
        assert_eq!(flemish("BE"), Err(NotTargeted::Belgian));
    }

    #[test]
    fn the_population_register_is_entitled_in_flanders() {
        assert_eq!(
            target_group(Region::Flanders, Register::Population, "MA", 30),
            Ok(Group::Entitled)
        );
    }

    #[test]
    fn only_the_population_and_foreigners_registers_are_taken() {
        assert_eq!(
            target_group(Region::Brussels, Register::Waiting, "AF", 30),
            Err(NotTargeted::Register)
        );
        assert_eq!(
            target_group(Region::Wallonia, Register::Foreigners, "AF", 30),
            Err(NotTargeted::Wallonia)
        );
    }

    #[test]
    fn funnel_cells_show_from_five() {
        assert!(!may_show(4));
        assert!(may_show(5));
    }

    #[test]
    fn rates_round_half_up() {
        assert_eq!(rate_percent(1, 8), Some(13)); // 12.5
        assert_eq!(rate_percent(1, 3), Some(33));
        assert_eq!(rate_percent(2, 3), Some(67));
        assert_eq!(rate_percent(0, 0), None);
        assert_eq!(rate_percent(5, 5), Some(100));
    }
}
