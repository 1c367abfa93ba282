//! Every rule with a number of the trajectories service, named once, citing its source
//! (DESIGN.md §1 and §3). Where the law changes, change it here and the tests at its edges.

use chrono::{Datelike, Months, NaiveDate};

/// The 19 Brussels municipalities, 21001–21019, where the Flemish course fee does not
/// apply (see [`pays_course_fees`]). Which agency serves a municipality is the
/// municipality register's answer, not a rule here.
pub const BRUSSELS_NIS: std::ops::RangeInclusive<u32> = 21001..=21019;

/// Economic self-reliance: register with VDAB within 2 months of the start (DESIGN.md §3).
pub const VDAB_REGISTRATION_MONTHS: u32 = 2;

/// The last day on which the VDAB registration is on time.
pub fn vdab_registration_deadline(started_on: NaiveDate) -> NaiveDate {
    started_on
        .checked_add_months(Months::new(VDAB_REGISTRATION_MONTHS))
        .expect("a start date the domain accepted is far from the end of the calendar")
}

/// Something due by `deadline` is on time up to and including the deadline day: the VDAB
/// registration by the end of month 2, B1 by the end of month 24.
pub fn on_time(deadline: NaiveDate, done_on: NaiveDate) -> bool {
    done_on <= deadline
}

/// Days after a contract deadline before a missed component counts as a breach
/// (ObligationBreached). Not a legal rule but an operational one: a case worker records a
/// VDAB registration, and a test centre a result, some days after the fact; without this
/// margin a person who met the deadline would be reported for the recording delay. Late
/// records after a breach was published do not publish it again.
pub const BREACH_GRACE_DAYS: u64 = 14;

/// Whether a deadline missed by `today` may be reported as a breach: the grace period
/// after the deadline day has passed.
pub fn breach_detectable(deadline: NaiveDate, today: NaiveDate) -> bool {
    deadline
        .checked_add_days(chrono::Days::new(BREACH_GRACE_DAYS))
        .is_some_and(|last_quiet_day| today > last_quiet_day)
}

/// A suspension (illness, a stay abroad) stops the clock: each deadline still ahead when
/// the trajectory was suspended moves by the days it was suspended. Not a figure from
/// DESIGN.md but what suspending a trajectory means; without it a resumed trajectory would
/// be reported for deadlines that passed while nothing could be asked of the person.
pub fn deadline_after_suspension(
    deadline: NaiveDate,
    suspended_on: NaiveDate,
    resumed_on: NaiveDate,
) -> NaiveDate {
    if deadline < suspended_on || resumed_on <= suspended_on {
        return deadline;
    }
    let days = (resumed_on - suspended_on).num_days().unsigned_abs();
    deadline
        .checked_add_days(chrono::Days::new(days))
        .unwrap_or(deadline)
}

/// Participation is optional for who works, studies, or follows the trajectory
/// voluntarily (DESIGN.md §3).
pub fn participation_required(voluntary: bool, waived_for_work_or_study: bool) -> bool {
    !voluntary && !waived_for_work_or_study
}

/// Care-premium reduction and priority in residential elderly care: 5 years of
/// uninterrupted legal residence plus the integration obligation (DESIGN.md §3).
pub const CARE_PREMIUM_UNINTERRUPTED_YEARS: u32 = 5;
/// Care budgets: 10 years of legal residence, 5 of them uninterrupted, plus the
/// integration obligation (DESIGN.md §3).
pub const CARE_BUDGET_TOTAL_YEARS: u32 = 10;
pub const CARE_BUDGET_UNINTERRUPTED_YEARS: u32 = 5;

/// Whether the residence a benefit requires is there.
pub fn residence_suffices(care_budget: bool, uninterrupted_years: u32, total_years: u32) -> bool {
    if care_budget {
        total_years >= CARE_BUDGET_TOTAL_YEARS
            && uninterrupted_years >= CARE_BUDGET_UNINTERRUPTED_YEARS
    } else {
        uninterrupted_years >= CARE_PREMIUM_UNINTERRUPTED_YEARS
    }
}

/// B1 follow-up: within 24 months after the attest (DESIGN.md §3).
pub const B1_FOLLOW_UP_MONTHS: u32 = 24;
/// … for obliged integrants of working age, 18 to 65 (DESIGN.md §3).
pub const WORKING_AGE: std::ops::RangeInclusive<u32> = 18..=65;
/// … who have not worked, studied or trained 6 months without interruption (DESIGN.md §3).
pub const ACTIVITY_MONTHS: u32 = 6;

/// Age in whole years on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(birth).unwrap_or(0)
}

/// Whether the B1 follow-up applies at the attest.
pub fn b1_follow_up_applies(obliged: bool, age_at_attest: u32) -> bool {
    obliged && WORKING_AGE.contains(&age_at_attest)
}

/// The last day of the B1 follow-up.
pub fn b1_due_by(attest_on: NaiveDate) -> NaiveDate {
    attest_on
        .checked_add_months(Months::new(B1_FOLLOW_UP_MONTHS))
        .expect("an attest date is far from the end of the calendar")
}

/// The day a period of activity starting on `from` has lasted 6 months without
/// interruption: the day before the same day 6 calendar months later (1 January →
/// 30 June). Where that month is shorter (31 August → no 31 February), its last day.
pub fn six_months_of_activity_on(from: NaiveDate) -> Option<NaiveDate> {
    let six = from.checked_add_months(Months::new(ACTIVITY_MONTHS))?;
    if six.day() < from.day() {
        // Clamped to the end of a shorter month: the period ends on that last day.
        Some(six)
    } else {
        six.pred_opt()
    }
}

/// Whether a period `from..=to` is 6 months without interruption.
pub fn activity_closes_follow_up(from: NaiveDate, to: NaiveDate) -> bool {
    six_months_of_activity_on(from).is_some_and(|reached| to >= reached)
}

/// Each course fee charged when the contract is signed: €90, twice (MO course, NT2
/// course) (DESIGN.md §3, "2 × €90 when the contract is signed").
pub const COURSE_FEE_CENTS: i64 = 90_00;

/// Brussels residents pay no course fee: the fee is a rule of the Flemish Region
/// (issue 3's fee list: "Brussels residents and the exemption categories pay nothing").
pub fn pays_course_fees(municipality_nis: u32, exempted: bool) -> bool {
    !BRUSSELS_NIS.contains(&municipality_nis) && !exempted
}

/// Integration policy under the civic integration decree of 28 February 2003 started on
/// 1 April 2004; no trajectory starts earlier.
pub const EARLIEST_START: NaiveDate =
    NaiveDate::from_ymd_opt(2004, 4, 1).expect("2004-04-01 is a date");

/// A plausibility bound, not a legal rule: a component deadline more than 5 years after
/// signing is a typing error (year 2205), not a plan.
pub const DEADLINE_HORIZON_MONTHS: u32 = 60;

/// Integration is obligatory in Brussels for newcomers first registered there on or after
/// this day (ordinance of the Common Community Commission of 11 May 2017; DESIGN.md §3:
/// "Brussels: obligation since 2022-06-01").
pub const BRUSSELS_OBLIGATION_SINCE: NaiveDate =
    NaiveDate::from_ymd_opt(2022, 6, 1).expect("2022-06-01 is a date");

/// Since this day the GGC runs its own bilingual trajectories (ordinance of 20 July 2023;
/// DESIGN.md §1); before it, the alternative to Bon was a French-speaking BAPA trajectory.
pub const GGC_TRAJECTORIES_SINCE: NaiveDate =
    NaiveDate::from_ymd_opt(2024, 1, 1).expect("2024-01-01 is a date");

/// The Brussels obligation holds from 18 up to, not including, 65 (issue 12: "adult, under
/// 65").
pub const BRUSSELS_OBLIGED_AGES: std::ops::Range<u32> = 18..65;

/// … for a newcomer with a legal stay of less than 3 years (issue 12).
pub const BRUSSELS_MAX_LEGAL_STAY_YEARS: u32 = 3;

/// An obliged Brussels newcomer registers with a reception office (Bon, or the GGC's
/// BAPA) within 6 months of the registration in the municipality (ordinance of 11 May
/// 2017 as it applies since 2022-06-01; the period Bon's and the GGC's information gives).
pub const BRUSSELS_REGISTRATION_MONTHS: u32 = 6;

/// The last day an obliged Brussels newcomer registered in the municipality on
/// `registered_on` is on time to register with Bon or the GGC.
pub fn brussels_registration_deadline(registered_on: NaiveDate) -> NaiveDate {
    registered_on
        .checked_add_months(Months::new(BRUSSELS_REGISTRATION_MONTHS))
        .expect("a registration date is far from the end of the calendar")
}

/// What a Brussels registration says of the obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrusselsObligation {
    Obliged,
    /// Not obliged, and why.
    NotObliged(NotObligedBecause),
}

/// Why a Brussels newcomer is not obliged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotObligedBecause {
    /// Not one of the 19 Brussels municipalities.
    NotBrussels,
    /// Registered before 2022-06-01.
    BeforeTheObligation,
    /// Under 18 or 65 and over on the day of registration.
    Age,
    /// A citizen of the EU, the EEA or Switzerland.
    FreeMovement,
    /// In the population register (Belgians, long-settled residents), not the foreigners'.
    PopulationRegister,
    /// Legally staying in Belgium for 3 years or more on the day of registration.
    SettledStay,
    /// Exempted (serious illness, a mental or physical disability; DESIGN.md §3).
    Exempted,
    /// The birth date is unknown, so the age cannot be told.
    UnknownAge,
}

/// A Brussels registration as the national-register feed reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrusselsRegistration {
    pub municipality_nis: u32,
    pub registered_on: NaiveDate,
    pub birth_date: Option<NaiveDate>,
    pub free_movement: bool,
    pub foreigners_register: bool,
    /// The first day of the legal stay in Belgium; `None` when the feed gives none, which
    /// for the newcomers' feed means the stay starts with this registration.
    pub legal_stay_since: Option<NaiveDate>,
    pub exempted: bool,
}

/// Whether a Brussels registration brings the obligation (issue 12: adult, under 65, a
/// legal stay of less than 3 years, first registered in a Brussels municipality on or
/// after 2022-06-01). Where the issue is silent, the Flemish rule's conditions hold too:
/// not a free-movement citizen, and in the foreigners' register (Inburgeringsdecreet
/// art. 27, as recruitment's target group applies it).
pub fn brussels_obligation(r: &BrusselsRegistration) -> BrusselsObligation {
    use NotObligedBecause as Why;
    let not = BrusselsObligation::NotObliged;
    if !BRUSSELS_NIS.contains(&r.municipality_nis) {
        return not(Why::NotBrussels);
    }
    if r.registered_on < BRUSSELS_OBLIGATION_SINCE {
        return not(Why::BeforeTheObligation);
    }
    let Some(birth) = r.birth_date else {
        return not(Why::UnknownAge);
    };
    if !BRUSSELS_OBLIGED_AGES.contains(&age_on(birth, r.registered_on)) {
        return not(Why::Age);
    }
    if r.free_movement {
        return not(Why::FreeMovement);
    }
    if !r.foreigners_register {
        return not(Why::PopulationRegister);
    }
    let stay_since = r.legal_stay_since.unwrap_or(r.registered_on);
    if age_on(stay_since, r.registered_on) >= BRUSSELS_MAX_LEGAL_STAY_YEARS {
        return not(Why::SettledStay);
    }
    if r.exempted {
        return not(Why::Exempted);
    }
    BrusselsObligation::Obliged
}

/// Where an obliged Brussels newcomer may follow a trajectory on `on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrusselsRoute {
    /// Bon, the Flemish agency's Brussels branch.
    Bon,
    /// A French-speaking BAPA trajectory (COCOF), until 2023.
    Bapa,
    /// A GGC trajectory, Dutch- or French-language, since 2024-01-01.
    Ggc,
}

/// The choice an obliged Brussels newcomer has on `on` (DESIGN.md §1, issue 12).
pub fn brussels_routes(on: NaiveDate) -> [BrusselsRoute; 2] {
    if on < GGC_TRAJECTORIES_SINCE {
        [BrusselsRoute::Bon, BrusselsRoute::Bapa]
    } else {
        [BrusselsRoute::Bon, BrusselsRoute::Ggc]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn vdab_deadline_is_two_calendar_months_after_the_start() {
        assert_eq!(vdab_registration_deadline(d(2026, 1, 15)), d(2026, 3, 15));
        // End of month clamps, as calendar months do.
        assert_eq!(vdab_registration_deadline(d(2025, 12, 31)), d(2026, 2, 28));
    }

    #[test]
    fn vdab_registration_is_on_time_on_the_deadline_day_and_late_the_day_after() {
        let deadline = vdab_registration_deadline(d(2026, 1, 15));
        assert!(on_time(deadline, d(2026, 3, 15)));
        assert!(!on_time(deadline, d(2026, 3, 16)));
        // 2 months from 2026-01-01 is day 59: the 60th day is already late.
        let deadline = vdab_registration_deadline(d(2026, 1, 1));
        assert!(on_time(deadline, d(2026, 3, 1)));
        assert!(!on_time(deadline, d(2026, 3, 2)));
    }

    #[test]
    fn a_missed_deadline_is_a_breach_only_after_the_grace_period() {
        let deadline = d(2026, 3, 15);
        assert!(!breach_detectable(deadline, deadline));
        assert!(
            !breach_detectable(deadline, d(2026, 3, 29)),
            "day 14 after the deadline is still quiet"
        );
        assert!(breach_detectable(deadline, d(2026, 3, 30)), "day 15 is not");
    }

    #[test]
    fn a_suspension_moves_the_deadlines_still_ahead_by_its_length() {
        let (from, to) = (d(2026, 2, 1), d(2026, 3, 1)); // 28 days
        assert_eq!(
            deadline_after_suspension(d(2026, 3, 15), from, to),
            d(2026, 4, 12)
        );
        assert_eq!(
            deadline_after_suspension(d(2026, 2, 1), from, to),
            d(2026, 3, 1),
            "due on the day it was suspended: still ahead"
        );
        assert_eq!(
            deadline_after_suspension(d(2026, 1, 31), from, to),
            d(2026, 1, 31),
            "passed the day before: stays missed"
        );
        assert_eq!(
            deadline_after_suspension(d(2026, 3, 15), from, from),
            d(2026, 3, 15)
        );
    }

    #[test]
    fn participation_is_required_unless_voluntary_working_or_studying() {
        assert!(participation_required(false, false));
        assert!(!participation_required(true, false));
        assert!(!participation_required(false, true));
    }

    #[test]
    fn residence_rules_hold_at_their_edges() {
        assert!(!residence_suffices(false, 4, 20));
        assert!(residence_suffices(false, 5, 5));
        assert!(!residence_suffices(true, 5, 9));
        assert!(residence_suffices(true, 5, 10));
        assert!(!residence_suffices(true, 4, 10));
    }

    #[test]
    fn the_b1_follow_up_applies_from_18_to_65_for_obliged_people() {
        let birth = d(2000, 6, 15);
        assert_eq!(age_on(birth, d(2018, 6, 14)), 17);
        assert_eq!(age_on(birth, d(2018, 6, 15)), 18);
        assert!(!b1_follow_up_applies(true, 17));
        assert!(b1_follow_up_applies(true, 18));
        assert!(b1_follow_up_applies(true, 65));
        assert!(!b1_follow_up_applies(true, 66));
        assert!(
            !b1_follow_up_applies(false, 30),
            "entitled and voluntary people are not followed up"
        );
    }

    #[test]
    fn the_follow_up_runs_24_months_and_six_months_of_work_close_it() {
        assert_eq!(b1_due_by(d(2026, 6, 1)), d(2028, 6, 1));
        assert!(on_time(d(2028, 6, 1), d(2028, 6, 1)), "month 24 is in");
        assert!(
            !on_time(d(2028, 6, 1), d(2028, 6, 2)),
            "the first day of month 25 is not"
        );
        assert!(activity_closes_follow_up(d(2026, 1, 1), d(2026, 6, 30)));
        assert!(
            !activity_closes_follow_up(d(2026, 1, 1), d(2026, 6, 29)),
            "6 months minus a day"
        );
        // Month ends: 31 August has no 31 February.
        assert_eq!(
            six_months_of_activity_on(d(2026, 8, 31)),
            Some(d(2027, 2, 28))
        );
        assert_eq!(
            six_months_of_activity_on(d(2026, 8, 28)),
            Some(d(2027, 2, 27))
        );
        assert_eq!(
            six_months_of_activity_on(d(2027, 8, 31)),
            Some(d(2028, 2, 29))
        );
    }

    #[test]
    fn brussels_edges_pay_no_course_fees_and_their_neighbours_do() {
        assert!(
            pays_course_fees(21000, false),
            "21000 is not a Brussels municipality"
        );
        assert!(!pays_course_fees(21001, false));
        assert!(!pays_course_fees(21019, false));
        assert!(pays_course_fees(21020, false));
        assert!(
            !pays_course_fees(11002, true),
            "exempted people pay nothing"
        );
    }

    fn registration(on: NaiveDate, birth: NaiveDate) -> BrusselsRegistration {
        BrusselsRegistration {
            municipality_nis: 21004,
            registered_on: on,
            birth_date: Some(birth),
            free_movement: false,
            foreigners_register: true,
            legal_stay_since: None,
            exempted: false,
        }
    }

    #[test]
    fn the_brussels_obligation_starts_with_registrations_of_2022_06_01() {
        let born = d(1990, 5, 12);
        assert_eq!(
            brussels_obligation(&registration(d(2022, 5, 31), born)),
            BrusselsObligation::NotObliged(NotObligedBecause::BeforeTheObligation)
        );
        assert_eq!(
            brussels_obligation(&registration(d(2022, 6, 1), born)),
            BrusselsObligation::Obliged
        );
        let flemish = BrusselsRegistration {
            municipality_nis: 23062,
            ..registration(d(2023, 1, 1), born)
        };
        assert_eq!(
            brussels_obligation(&flemish),
            BrusselsObligation::NotObliged(NotObligedBecause::NotBrussels)
        );
    }

    #[test]
    fn the_brussels_obligation_holds_from_18_to_the_day_before_65() {
        let on = d(2023, 3, 10);
        let obliged = |birth| brussels_obligation(&registration(on, birth));
        assert_eq!(
            obliged(d(2005, 3, 11)),
            BrusselsObligation::NotObliged(NotObligedBecause::Age)
        );
        assert_eq!(obliged(d(2005, 3, 10)), BrusselsObligation::Obliged);
        assert_eq!(obliged(d(1958, 3, 11)), BrusselsObligation::Obliged);
        assert_eq!(
            obliged(d(1958, 3, 10)),
            BrusselsObligation::NotObliged(NotObligedBecause::Age)
        );
    }

    #[test]
    fn a_stay_of_three_years_free_movement_the_population_register_or_an_exemption_lift_it() {
        let on = d(2023, 3, 10);
        let base = registration(on, d(1990, 1, 1));
        let with = |r: BrusselsRegistration| brussels_obligation(&r);
        assert_eq!(
            with(BrusselsRegistration {
                legal_stay_since: Some(d(2020, 3, 11)),
                ..base
            }),
            BrusselsObligation::Obliged
        );
        assert_eq!(
            with(BrusselsRegistration {
                legal_stay_since: Some(d(2020, 3, 10)),
                ..base
            }),
            BrusselsObligation::NotObliged(NotObligedBecause::SettledStay)
        );
        assert_eq!(
            with(BrusselsRegistration {
                free_movement: true,
                ..base
            }),
            BrusselsObligation::NotObliged(NotObligedBecause::FreeMovement)
        );
        assert_eq!(
            with(BrusselsRegistration {
                foreigners_register: false,
                ..base
            }),
            BrusselsObligation::NotObliged(NotObligedBecause::PopulationRegister)
        );
        assert_eq!(
            with(BrusselsRegistration {
                exempted: true,
                ..base
            }),
            BrusselsObligation::NotObliged(NotObligedBecause::Exempted)
        );
        assert_eq!(
            with(BrusselsRegistration {
                birth_date: None,
                ..base
            }),
            BrusselsObligation::NotObliged(NotObligedBecause::UnknownAge)
        );
    }

    #[test]
    fn an_obliged_brussels_newcomer_has_six_months_to_register() {
        let deadline = brussels_registration_deadline(d(2023, 1, 10));
        assert_eq!(deadline, d(2023, 7, 10));
        assert!(on_time(deadline, d(2023, 7, 10)));
        assert!(!on_time(deadline, d(2023, 7, 11)));
        // A registration on 31 August has until the end of February.
        assert_eq!(
            brussels_registration_deadline(d(2023, 8, 31)),
            d(2024, 2, 29)
        );
    }

    #[test]
    fn the_alternative_to_bon_is_bapa_until_2023_and_the_ggc_from_2024() {
        assert_eq!(
            brussels_routes(d(2023, 12, 31)),
            [BrusselsRoute::Bon, BrusselsRoute::Bapa]
        );
        assert_eq!(
            brussels_routes(d(2024, 1, 1)),
            [BrusselsRoute::Bon, BrusselsRoute::Ggc]
        );
    }
}
