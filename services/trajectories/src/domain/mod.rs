//! The trajectories domain: types that cannot be invalid once parsed, and the state
//! changes with the events they cause, one file per part of the aggregate. No I/O here.

mod b1;
mod components;
mod contract;
mod event;
mod progress;
mod trajectory;

pub use components::{Component, EffortDeclaration, ParticipationWaiver, Progress};
pub use contract::{Contract, ContractTerms, Fee, FeeKind};
pub use event::TrajectoryEvent;
pub use platform::{Agency, NationalNumber, Nis};
pub use trajectory::{ExemptionReason, Municipality, ObligationStatus, State, Trajectory};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrajectoryError;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    /// Builds a valid number from birth date digits and a serial, before or from 2000.
    fn valid_number(base: u64, from_2000: bool) -> String {
        let check = if from_2000 {
            97 - (2_000_000_000 + base) % 97
        } else {
            97 - base % 97
        };
        format!("{base:09}{check:02}")
    }

    #[test]
    fn a_number_from_before_2000_passes_and_its_typo_fails() {
        let n = valid_number(850_730_033, false);
        assert!(NationalNumber::parse(&n).is_ok());
        let typo = format!("{}{}", &n[..10], (n.as_bytes()[10] - b'0' + 1) % 10);
        let err = NationalNumber::parse(&typo)
            .expect_err("typo must fail")
            .to_string();
        assert!(
            err.contains("national_number") && err.contains("mod 97"),
            "{err}"
        );
    }

    #[test]
    fn a_number_born_from_2000_uses_the_2_prefix() {
        let n = valid_number(10_203_123, true);
        assert!(NationalNumber::parse(&n).is_ok(), "{n}");
        // The same base with the pre-2000 check digits is a different valid number; the
        // post-2000 digits are not valid without the prefix rule.
        assert_ne!(n, valid_number(10_203_123, false));
    }

    #[test]
    fn separators_are_allowed_but_letters_and_lengths_are_named() {
        let n = valid_number(850_730_033, false);
        let dotted = format!(
            "{}.{}.{}-{}.{}",
            &n[0..2],
            &n[2..4],
            &n[4..6],
            &n[6..9],
            &n[9..]
        );
        assert_eq!(NationalNumber::parse(&dotted).expect("dotted").digits(), n);
        assert!(
            NationalNumber::parse("8507300336X")
                .unwrap_err()
                .to_string()
                .contains("only digits")
        );
        assert!(
            NationalNumber::parse("1234567890")
                .unwrap_err()
                .to_string()
                .contains("has 10")
        );
        assert!(
            NationalNumber::parse("")
                .unwrap_err()
                .to_string()
                .contains("required")
        );
    }

    #[test]
    fn debug_never_shows_the_number() {
        let n = NationalNumber::parse(&valid_number(850_730_033, false)).expect("valid");
        assert!(!format!("{n:?}").contains("850730033"));
    }

    /// A municipality as the register would describe it, for the tests.
    fn nis(code: &str) -> Municipality {
        let nis = Nis::parse("municipality_nis", code).expect("a code");
        let agency = match code.parse::<u32>().expect("a code") {
            11002 => Agency::Atlas,
            44021 => Agency::InGent,
            21001..=21019 => Agency::Bon,
            _ => Agency::Agii,
        };
        Municipality::new(nis, agency)
    }

    fn started(code: &str) -> Trajectory {
        Trajectory::start(
            Uuid::now_v7(),
            nis(code),
            ObligationStatus::Obliged,
            None,
            d(2026, 1, 15),
            d(2026, 11, 28),
        )
        .expect("valid start")
        .0
    }

    fn terms(signed_on: NaiveDate) -> ContractTerms {
        ContractTerms {
            signed_on,
            rights_and_duties_accepted: true,
            nt2_deadline: Some(d(2026, 12, 31)),
            mo_deadline: Some(d(2026, 9, 30)),
            participation_deadline: Some(d(2026, 12, 31)),
        }
    }

    #[test]
    fn signing_charges_two_course_fees_and_fixes_the_vdab_deadline() {
        let mut t = started("11002");
        assert_eq!(
            t.sign_contract(terms(d(2026, 1, 20))).unwrap(),
            vec![TrajectoryEvent::ContractSigned]
        );
        let c = t.contract.as_ref().unwrap();
        assert_eq!(c.fees_total(), 2 * 90_00);
        assert_eq!(c.vdab_deadline, d(2026, 3, 15));
        assert!(c.rights_and_duties_clause);
    }

    #[test]
    fn brussels_residents_sign_without_fees() {
        let mut t = started("21004");
        t.sign_contract(terms(d(2026, 1, 20))).unwrap();
        assert_eq!(t.contract.unwrap().fees_total(), 0);
    }

    #[test]
    fn signing_twice_is_refused() {
        let mut t = started("11002");
        t.sign_contract(terms(d(2026, 1, 20))).unwrap();
        assert!(matches!(
            t.sign_contract(terms(d(2026, 1, 21))),
            Err(TrajectoryError::ContractAlreadySigned { .. })
        ));
    }

    #[test]
    fn signing_before_the_start_or_deadlines_before_signing_are_refused() {
        let mut t = started("11002");
        assert!(
            t.sign_contract(terms(d(2026, 1, 14)))
                .unwrap_err()
                .to_string()
                .starts_with("signed_on")
        );
        let mut late = terms(d(2026, 1, 20));
        late.mo_deadline = Some(d(2026, 1, 20));
        assert!(
            t.sign_contract(late)
                .unwrap_err()
                .to_string()
                .starts_with("mo_deadline")
        );
        let mut far = terms(d(2026, 1, 20));
        far.nt2_deadline = Some(d(2205, 1, 1));
        assert!(
            t.sign_contract(far)
                .unwrap_err()
                .to_string()
                .starts_with("nt2_deadline")
        );
        let mut refused = terms(d(2026, 1, 20));
        refused.rights_and_duties_accepted = false;
        assert!(
            t.sign_contract(refused)
                .unwrap_err()
                .to_string()
                .starts_with("rights_and_duties")
        );
        assert!(t.contract.is_none(), "nothing half-written");
    }

    #[test]
    fn start_dates_are_bounded_by_the_decree_and_today() {
        let nis = nis("11002");
        let today = d(2026, 11, 28);
        let start = |on| {
            Trajectory::start(
                Uuid::now_v7(),
                nis,
                ObligationStatus::Entitled,
                None,
                on,
                today,
            )
        };
        assert!(start(d(2004, 3, 31)).is_err());
        assert!(start(d(2004, 4, 1)).is_ok());
        assert!(start(today).is_ok());
        assert!(start(d(2026, 11, 29)).is_err());
        let exempt_voluntary = Trajectory::start(
            Uuid::now_v7(),
            nis,
            ObligationStatus::Voluntary,
            Some(ExemptionReason::SeriousIllness),
            today,
            today,
        );
        assert!(
            exempt_voluntary
                .unwrap_err()
                .to_string()
                .starts_with("exemption_reason")
        );
    }

    fn signed(status: ObligationStatus) -> Trajectory {
        let mut t = Trajectory::start(
            Uuid::now_v7(),
            nis("11002"),
            status,
            None,
            d(2026, 1, 15),
            d(2026, 11, 28),
        )
        .unwrap()
        .0;
        t.sign_contract(terms(d(2026, 1, 20))).unwrap();
        t
    }

    const TODAY: (i32, u32, u32) = (2026, 11, 28);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn participation_completed_by_the_municipality_completes_the_component_once() {
        let mut t = signed(ObligationStatus::Obliged);
        t.record_participation_hours(39);
        t.record_participation_hours(12);
        assert_eq!(
            t.progress.participation_hours, 39,
            "a late total never lowers it"
        );
        let events = t.complete_participation(d(2026, 5, 2));
        assert_eq!(
            events,
            vec![TrajectoryEvent::ComponentCompleted {
                component: Component::Participation,
                on: d(2026, 5, 2)
            }]
        );
        assert!(
            t.complete_participation(d(2026, 5, 3)).is_empty(),
            "complete is complete"
        );
    }

    #[test]
    fn a_vdab_registration_on_the_deadline_is_on_time_and_the_day_after_breaches() {
        let mut on_time = signed(ObligationStatus::Obliged);
        let events = on_time
            .record_vdab_registration(d(2026, 3, 15), today())
            .unwrap();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, TrajectoryEvent::ObligationBreached { .. }))
        );
        let mut late = signed(ObligationStatus::Obliged);
        let events = late
            .record_vdab_registration(d(2026, 3, 16), today())
            .unwrap();
        assert!(events.contains(&TrajectoryEvent::ObligationBreached {
            component: Component::EconomicSelfReliance,
            deadline: d(2026, 3, 15)
        }));
        // An entitled person has no obligation to breach.
        let mut entitled = signed(ObligationStatus::Entitled);
        let events = entitled
            .record_vdab_registration(d(2026, 3, 16), today())
            .unwrap();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, TrajectoryEvent::ObligationBreached { .. }))
        );
    }

    #[test]
    fn the_attest_follows_the_last_required_component_once() {
        let mut t = signed(ObligationStatus::Obliged);
        t.complete_test(Component::Nt2, d(2026, 6, 1)).unwrap();
        t.complete_test(Component::Mo, d(2026, 6, 2)).unwrap();
        t.record_vdab_registration(d(2026, 2, 1), today()).unwrap();
        let events = t.complete_participation(d(2026, 7, 1));
        assert!(events.contains(&TrajectoryEvent::AttestIssued { on: d(2026, 7, 1) }));
        assert!(
            t.complete_test(Component::Nt2, d(2026, 8, 1))
                .unwrap()
                .is_empty(),
            "a second pass changes nothing"
        );
    }

    #[test]
    fn voluntary_and_working_people_get_the_attest_without_participation() {
        let mut v = signed(ObligationStatus::Voluntary);
        v.complete_test(Component::Nt2, d(2026, 6, 1)).unwrap();
        v.record_vdab_registration(d(2026, 2, 1), today()).unwrap();
        let events = v.complete_test(Component::Mo, d(2026, 6, 2)).unwrap();
        assert!(events.contains(&TrajectoryEvent::AttestIssued { on: d(2026, 6, 2) }));
        assert!(
            v.complete_participation(d(2026, 6, 3)).is_empty(),
            "not required"
        );

        let mut w = signed(ObligationStatus::Obliged);
        w.complete_test(Component::Nt2, d(2026, 6, 1)).unwrap();
        w.complete_test(Component::Mo, d(2026, 6, 2)).unwrap();
        w.record_vdab_registration(d(2026, 2, 1), today()).unwrap();
        assert_eq!(
            w.waive_participation(ParticipationWaiver::Works, d(2026, 6, 5))
                .unwrap(),
            vec![TrajectoryEvent::AttestIssued { on: d(2026, 6, 5) }]
        );
    }

    #[test]
    fn a_suspended_trajectory_takes_no_progress_until_resumed_and_a_stopped_one_never() {
        let mut t = signed(ObligationStatus::Obliged);
        t.suspend("ziekte", d(2026, 4, 1), today()).unwrap();
        assert!(matches!(
            t.record_vdab_registration(d(2026, 4, 2), today()),
            Err(TrajectoryError::NotActive { .. })
        ));
        assert!(
            t.resume(d(2026, 3, 31), today()).is_err(),
            "not before the suspension"
        );
        t.resume(d(2026, 5, 1), today()).unwrap();
        t.record_vdab_registration(d(2026, 5, 2), today()).unwrap();
        t.stop("verhuisd naar Wallonië", d(2026, 6, 1), today())
            .unwrap();
        assert!(t.resume(d(2026, 6, 2), today()).is_err());
        assert!(
            t.complete_test(Component::Mo, d(2026, 6, 3))
                .unwrap()
                .is_empty()
        );
        assert!(t.stop("again", d(2026, 6, 4), today()).is_err());
        assert!(
            t.suspend("", d(2026, 6, 4), today())
                .unwrap_err()
                .to_string()
                .starts_with("reason")
        );
    }

    #[test]
    fn birth_dates_come_from_the_number_with_the_century_of_its_check_digits() {
        let old = NationalNumber::parse(&valid_number(850_730_033, false)).unwrap();
        assert_eq!(old.birth_date(), Some(d(1985, 7, 30)));
        let young = NationalNumber::parse(&valid_number(40_215_123, true)).unwrap();
        assert_eq!(young.birth_date(), Some(d(2004, 2, 15)));
        let bis = NationalNumber::parse(&valid_number(852_730_033, false)).unwrap();
        assert_eq!(
            bis.birth_date(),
            Some(d(1985, 7, 30)),
            "bis number: month + 20"
        );
        let unknown = NationalNumber::parse(&valid_number(850_000_033, false)).unwrap();
        assert_eq!(unknown.birth_date(), None);
    }

    #[test]
    fn the_b1_follow_up_starts_at_the_attest_and_six_months_of_work_close_it() {
        let mut t = signed(ObligationStatus::Obliged);
        t.complete_test(Component::Nt2, d(2026, 6, 1)).unwrap();
        t.complete_test(Component::Mo, d(2026, 6, 2)).unwrap();
        t.record_vdab_registration(d(2026, 2, 1), today()).unwrap();
        t.waive_participation(ParticipationWaiver::Studies, d(2026, 6, 3))
            .unwrap();
        assert_eq!(
            t.start_b1_follow_up(Some(d(1985, 7, 30))),
            Some(TrajectoryEvent::B1FollowUpDue {
                due_by: d(2028, 6, 3)
            })
        );
        assert!(
            t.record_activity(d(2026, 6, 3), d(2026, 11, 1), today())
                .unwrap()
                .is_empty(),
            "5 months"
        );
        assert_eq!(
            t.record_activity(d(2026, 6, 3), d(2026, 12, 2), d(2026, 12, 31))
                .unwrap(),
            vec![TrajectoryEvent::B1FollowUpClosed { on: d(2026, 12, 2) }]
        );
        assert!(t.pass_b1(d(2027, 1, 1)).is_empty(), "closed once");
    }

    #[test]
    fn b1_passed_in_month_24_is_in_time_and_in_month_25_overdue() {
        let attested = || {
            let mut t = signed(ObligationStatus::Obliged);
            t.progress.attest_issued_on = Some(d(2026, 6, 3));
            t.start_b1_follow_up(Some(d(1985, 7, 30)));
            t
        };
        assert_eq!(attested().progress.b1_due_by, Some(d(2028, 6, 3)));
        assert_eq!(
            attested().pass_b1(d(2028, 6, 3)),
            vec![TrajectoryEvent::B1FollowUpClosed { on: d(2028, 6, 3) }]
        );
        assert_eq!(
            attested().pass_b1(d(2028, 6, 4)),
            vec![
                TrajectoryEvent::B1FollowUpClosed { on: d(2028, 6, 4) },
                TrajectoryEvent::B1FollowUpOverdue {
                    due_by: d(2028, 6, 3)
                }
            ]
        );
        // Two years of work recorded at once after the last day: the follow-up closed when
        // the first 6 months were reached, in time.
        assert_eq!(
            attested()
                .record_activity(d(2026, 7, 1), d(2028, 7, 1), d(2028, 7, 2))
                .unwrap(),
            vec![TrajectoryEvent::B1FollowUpClosed {
                on: d(2026, 12, 31)
            }]
        );
        // Open past its last day: the sweep reports it after the grace period.
        let open = attested();
        assert_eq!(open.missed_deadlines(d(2028, 6, 17)), vec![]);
        assert_eq!(
            open.missed_deadlines(d(2028, 6, 18)),
            vec![TrajectoryEvent::B1FollowUpOverdue {
                due_by: d(2028, 6, 3)
            }]
        );
    }

    #[test]
    fn no_follow_up_for_people_older_than_65_at_the_attest() {
        let mut t = signed(ObligationStatus::Obliged);
        t.progress.attest_issued_on = Some(d(2026, 6, 3));
        assert_eq!(
            t.start_b1_follow_up(Some(d(1960, 6, 3))),
            None,
            "66 on the attest day"
        );
        assert!(
            t.start_b1_follow_up(Some(d(1960, 6, 4))).is_some(),
            "65 on the attest day"
        );
    }

    #[test]
    fn progress_needs_a_signed_contract() {
        let mut t = Trajectory::start(
            Uuid::now_v7(),
            nis("11002"),
            ObligationStatus::Obliged,
            None,
            d(2026, 1, 15),
            today(),
        )
        .unwrap()
        .0;
        assert!(matches!(
            t.complete_test(Component::Nt2, d(2026, 6, 1)),
            Err(TrajectoryError::ContractNotSigned { .. })
        ));
    }

    #[test]
    fn resuming_moves_the_open_deadlines_by_the_suspension() {
        let mut t = signed(ObligationStatus::Obliged);
        t.complete_test(Component::Mo, d(2026, 1, 25)).unwrap();
        t.suspend("hospitalised", d(2026, 2, 1), today()).unwrap();
        t.resume(d(2026, 3, 1), today()).unwrap();
        let c = t.contract.as_ref().unwrap();
        assert_eq!(c.vdab_deadline, d(2026, 4, 12), "2026-03-15 + 28 days");
        assert_eq!(c.nt2_deadline, d(2027, 1, 28));
        assert_eq!(c.mo_deadline, d(2026, 9, 30), "MO was done: unchanged");
        assert_eq!(c.participation_deadline, Some(d(2027, 1, 28)));
        assert_eq!(t.missed_deadlines(d(2026, 4, 26)), vec![]);
        assert_eq!(
            t.missed_deadlines(d(2026, 4, 27)),
            vec![TrajectoryEvent::ObligationBreached {
                component: Component::EconomicSelfReliance,
                deadline: d(2026, 4, 12)
            }]
        );
    }

    #[test]
    fn a_declaration_of_effort_needs_an_open_test_goal_and_meets_the_obligation() {
        let mut t = signed(ObligationStatus::Obliged);
        t.complete_test(Component::Mo, d(2026, 5, 1)).unwrap();
        assert!(
            t.declare_effort("  ", d(2026, 6, 1), today())
                .unwrap_err()
                .to_string()
                .starts_with("grounds")
        );
        assert!(
            t.declare_effort("illiterate", d(2026, 1, 19), today())
                .unwrap_err()
                .to_string()
                .starts_with("issued_on"),
            "before the contract was signed"
        );
        assert!(!t.obligation_met());
        let events = t
            .declare_effort("four NT2 attempts, A1 not reached", d(2026, 6, 1), today())
            .unwrap();
        assert_eq!(
            events,
            vec![TrajectoryEvent::EffortDeclared {
                on: d(2026, 6, 1),
                unreached: vec![
                    Component::Nt2,
                    Component::EconomicSelfReliance,
                    Component::Participation
                ],
            }]
        );
        assert!(t.obligation_met());
        assert!(matches!(
            t.declare_effort("again", d(2026, 6, 2), today()),
            Err(TrajectoryError::AlreadyRecorded { .. })
        ));
        assert_eq!(
            t.record_vdab_registration(d(2026, 6, 5), today()).unwrap(),
            vec![TrajectoryEvent::ComponentCompleted {
                component: Component::EconomicSelfReliance,
                on: d(2026, 6, 5)
            }],
            "late, but the obligation is met: no breach"
        );

        let mut passed = signed(ObligationStatus::Obliged);
        passed.complete_test(Component::Nt2, d(2026, 5, 1)).unwrap();
        passed.complete_test(Component::Mo, d(2026, 5, 2)).unwrap();
        assert!(
            matches!(
                passed.declare_effort("no time", d(2026, 6, 1), today()),
                Err(TrajectoryError::NotRequired { .. })
            ),
            "VDAB and participation are within reach"
        );
    }

    #[test]
    fn only_an_active_obliged_trajectory_with_open_components_misses_deadlines() {
        let mut t = signed(ObligationStatus::Obliged);
        // VDAB by 2026-03-15, MO by 2026-09-30, NT2 and participation by 2026-12-31.
        let breach = |component, deadline| TrajectoryEvent::ObligationBreached {
            component,
            deadline,
        };
        assert_eq!(t.missed_deadlines(d(2026, 3, 29)), vec![]);
        assert_eq!(
            t.missed_deadlines(d(2026, 3, 30)),
            vec![breach(Component::EconomicSelfReliance, d(2026, 3, 15))]
        );
        t.complete_test(Component::Mo, d(2026, 9, 1)).unwrap();
        assert_eq!(
            t.missed_deadlines(d(2027, 6, 1)),
            vec![
                breach(Component::Nt2, d(2026, 12, 31)),
                breach(Component::EconomicSelfReliance, d(2026, 3, 15)),
                breach(Component::Participation, d(2026, 12, 31)),
            ]
        );
        assert_eq!(
            signed(ObligationStatus::Entitled).missed_deadlines(d(2027, 6, 1)),
            vec![],
            "an entitled person has no obligation to breach"
        );
        t.suspend("illness", d(2026, 10, 1), today()).unwrap();
        assert_eq!(t.missed_deadlines(d(2027, 6, 1)), vec![]);
        t.resume(d(2026, 11, 1), today()).unwrap();
        t.declare_effort("A1 not reached", d(2026, 11, 2), today())
            .unwrap();
        assert_eq!(
            t.missed_deadlines(d(2027, 6, 1)),
            vec![],
            "the declaration meets the obligation"
        );
    }

    proptest! {
        #[test]
        fn every_well_formed_number_with_its_check_digits_parses(base in 0u64..1_000_000_000, from_2000: bool) {
            prop_assert!(NationalNumber::parse(&valid_number(base, from_2000)).is_ok());
        }

        #[test]
        fn the_parser_never_panics(input in "\\PC{0,20}") {
            let _ = NationalNumber::parse(&input);
            let _ = Nis::parse("municipality_nis", &input);
        }
    }
}
