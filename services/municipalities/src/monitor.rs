//! The local monitor's rules of disclosure, without I/O: which figures a row may show.
//!
//! A figure counts people (or, for hours, the hours of the people behind it). A cell
//! whose people are fewer than [`rules::SUPPRESSION_THRESHOLD`] is suppressed (primary
//! suppression). Then, so that the year's total cannot give a suppressed quarter away,
//! more quarters are suppressed until at least two are and one of the suppressed quarters
//! alone holds at least the threshold of people (secondary suppression): one person may
//! count in several quarters, so only the largest quarter is a safe lower bound of the
//! people behind what the total gives away. Where no quarter is left to suppress, the total
//! goes too.

use crate::rules;

/// What the monitor counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    NewcomersRegistered,
    TrajectoriesStarted,
    ContractsSigned,
    ComponentsCompleted,
    AttestsIssued,
    ObligationsBreached,
    ParticipationPlacements,
    ParticipationHours,
}

impl Measure {
    /// Every measure, in the order the monitor shows them.
    pub const ALL: [Measure; 8] = [
        Measure::NewcomersRegistered,
        Measure::TrajectoriesStarted,
        Measure::ContractsSigned,
        Measure::ComponentsCompleted,
        Measure::AttestsIssued,
        Measure::ObligationsBreached,
        Measure::ParticipationPlacements,
        Measure::ParticipationHours,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::NewcomersRegistered => "newcomers-registered",
            Measure::TrajectoriesStarted => "trajectories-started",
            Measure::ContractsSigned => "contracts-signed",
            Measure::ComponentsCompleted => "components-completed",
            Measure::AttestsIssued => "attests-issued",
            Measure::ObligationsBreached => "obligations-breached",
            Measure::ParticipationPlacements => "participation-placements",
            Measure::ParticipationHours => "participation-hours",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        Measure::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn unit(self) -> &'static str {
        match self {
            Measure::ParticipationHours => "hours",
            _ => "people",
        }
    }

    /// Why the platform cannot count this yet, if it cannot.
    pub fn unavailable(self) -> Option<&'static str> {
        match self {
            Measure::NewcomersRegistered => Some(
                "no service publishes registrations with a municipality yet; recruitment's \
                 register feed (NewcomerDetected) will",
            ),
            _ => None,
        }
    }
}

/// One cell before disclosure control: the figure and the people behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Count {
    pub value: i64,
    pub people: i64,
}

/// One cell as the monitor shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Count(i64),
    Suppressed,
    Unavailable(&'static str),
}

/// One measure as shown: Q1–Q4 and the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub measure: Measure,
    pub quarters: [Shown; 4],
    pub total: Shown,
}

/// Applies primary and secondary suppression to one row.
pub fn disclose(measure: Measure, quarters: [Count; 4], total: Count) -> Row {
    if let Some(why) = measure.unavailable() {
        return Row {
            measure,
            quarters: std::array::from_fn(|_| Shown::Unavailable(why)),
            total: Shown::Unavailable(why),
        };
    }
    let mut hidden: [bool; 4] = quarters.map(|q| !rules::may_show(q.people));
    let mut total_hidden = !rules::may_show(total.people);
    loop {
        let count = hidden.iter().filter(|h| **h).count();
        // The people behind the hidden quarters together: at least the largest of them
        // (one person may count in several quarters), so that is what must reach the
        // threshold.
        let people = (0..4)
            .filter(|i| hidden[*i])
            .map(|i| quarters[i].people)
            .max()
            .unwrap_or(0);
        let exposed = count > 0 && !total_hidden && (count == 1 || !rules::may_show(people));
        if !exposed {
            break;
        }
        // The smallest shown quarter protects the hidden ones best at the least cost.
        match (0..4)
            .filter(|i| !hidden[*i])
            .min_by_key(|i| (quarters[*i].people, *i))
        {
            Some(next) => hidden[next] = true,
            None => total_hidden = true,
        }
    }
    let show = |c: Count, hide: bool| {
        if hide {
            Shown::Suppressed
        } else {
            Shown::Count(c.value)
        }
    };
    Row {
        measure,
        quarters: std::array::from_fn(|i| show(quarters[i], hidden[i])),
        total: show(total, total_hidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn people(n: [i64; 4]) -> ([Count; 4], Count) {
        let quarters = n.map(|p| Count {
            value: p,
            people: p,
        });
        let sum = n.iter().sum();
        (
            quarters,
            Count {
                value: sum,
                people: sum,
            },
        )
    }

    #[test]
    fn four_people_are_suppressed_and_five_shown() {
        let (q, t) = people([4, 5, 6, 7]);
        let row = disclose(Measure::TrajectoriesStarted, q, t);
        assert_eq!(row.quarters[0], Shown::Suppressed);
        assert_eq!(
            row.quarters[1],
            Shown::Suppressed,
            "secondary: else 22 - 18 = 4"
        );
        assert_eq!(row.quarters[2], Shown::Count(6));
        assert_eq!(row.total, Shown::Count(22));
    }

    #[test]
    fn the_same_few_people_in_two_quarters_do_not_hide_each_other() {
        // Three people log hours in Q1 and again in Q2: together still three people.
        let quarters = [
            Count {
                value: 30,
                people: 3,
            },
            Count {
                value: 30,
                people: 3,
            },
            Count {
                value: 100,
                people: 10,
            },
            Count {
                value: 100,
                people: 10,
            },
        ];
        let total = Count {
            value: 260,
            people: 23,
        };
        let row = disclose(Measure::ParticipationHours, quarters, total);
        assert_eq!(
            row.quarters[2],
            Shown::Suppressed,
            "else 260 - 100 - 100 = their 60 hours"
        );
        assert_eq!(row.total, Shown::Count(260));
    }

    #[test]
    fn zero_is_suppressed_too_never_shown_as_zero() {
        let (q, t) = people([0, 0, 0, 0]);
        let row = disclose(Measure::AttestsIssued, q, t);
        assert!(row.quarters.iter().all(|c| *c == Shown::Suppressed));
        assert_eq!(row.total, Shown::Suppressed);
    }

    #[test]
    fn two_small_quarters_that_sum_under_five_pull_in_a_third() {
        let (q, t) = people([1, 2, 10, 20]);
        let row = disclose(Measure::ContractsSigned, q, t);
        assert_eq!(
            row.quarters,
            [
                Shown::Suppressed,
                Shown::Suppressed,
                Shown::Suppressed,
                Shown::Count(20)
            ]
        );
        assert_eq!(row.total, Shown::Count(33));
    }

    #[test]
    fn a_row_of_large_cells_is_shown_whole() {
        let (q, t) = people([5, 9, 12, 30]);
        let row = disclose(Measure::ContractsSigned, q, t);
        assert_eq!(row.total, Shown::Count(56));
        assert!(row.quarters.iter().all(|c| matches!(c, Shown::Count(_))));
    }

    #[test]
    fn hours_follow_the_people_behind_them() {
        let quarters = [
            Count {
                value: 160,
                people: 4,
            },
            Count {
                value: 200,
                people: 5,
            },
            Count {
                value: 240,
                people: 6,
            },
            Count {
                value: 280,
                people: 7,
            },
        ];
        let total = Count {
            value: 880,
            people: 22,
        };
        let row = disclose(Measure::ParticipationHours, quarters, total);
        assert_eq!(row.quarters[0], Shown::Suppressed);
        assert_eq!(row.quarters[2], Shown::Count(240));
        assert_eq!(row.total, Shown::Count(880));
    }

    #[test]
    fn registrations_are_unavailable_not_zero() {
        let (q, t) = people([50, 50, 50, 50]);
        let row = disclose(Measure::NewcomersRegistered, q, t);
        assert!(matches!(row.total, Shown::Unavailable(_)));
    }

    proptest! {
        /// No suppressed quarter can be worked out from the total and the shown quarters,
        /// and nothing under the threshold is ever shown.
        #[test]
        fn no_suppressed_cell_is_recoverable(n in proptest::array::uniform4(0i64..40)) {
            let (q, t) = people(n);
            let row = disclose(Measure::TrajectoriesStarted, q, t);
            for (cell, count) in row.quarters.iter().zip(q) {
                if let Shown::Count(v) = cell {
                    prop_assert!(*v >= rules::SUPPRESSION_THRESHOLD);
                    prop_assert_eq!(*v, count.value);
                }
            }
            if let Shown::Count(total) = row.total {
                prop_assert!(total >= rules::SUPPRESSION_THRESHOLD);
                let hidden: Vec<usize> = (0..4).filter(|i| row.quarters[*i] == Shown::Suppressed).collect();
                prop_assert!(hidden.len() != 1, "one hidden quarter = total - the others");
                let largest = hidden.iter().map(|i| n[*i]).max().unwrap_or(0);
                prop_assert!(hidden.is_empty() || largest >= rules::SUPPRESSION_THRESHOLD);
            }
        }
    }
}
