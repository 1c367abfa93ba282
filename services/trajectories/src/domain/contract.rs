//! The contract a case worker signs with the person: deadlines per component, the
//! rights-and-duties clause, and the course fees.

use chrono::{Months, NaiveDate};

use super::components::Component;
use crate::{TrajectoryError, rules};

/// What a fee pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeKind {
    Nt2Course,
    MoCourse,
}

impl FeeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeKind::Nt2Course => "nt2-course",
            FeeKind::MoCourse => "mo-course",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        [Self::Nt2Course, Self::MoCourse]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A fee charged to the person, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fee {
    pub kind: FeeKind,
    pub cents: i64,
}

/// The signed contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub signed_on: NaiveDate,
    pub nt2_deadline: NaiveDate,
    pub mo_deadline: NaiveDate,
    pub vdab_deadline: NaiveDate,
    /// Absent when participation is not part of this person's contract.
    pub participation_deadline: Option<NaiveDate>,
    pub rights_and_duties_clause: bool,
    pub fees: Vec<Fee>,
}

impl Contract {
    /// Every deadline with its component.
    pub fn deadlines(&self) -> Vec<(Component, NaiveDate)> {
        let mut all = vec![
            (Component::Nt2, self.nt2_deadline),
            (Component::Mo, self.mo_deadline),
            (Component::EconomicSelfReliance, self.vdab_deadline),
        ];
        if let Some(p) = self.participation_deadline {
            all.push((Component::Participation, p));
        }
        all
    }

    /// The sum of the fees, in cents.
    pub fn fees_total(&self) -> i64 {
        self.fees.iter().map(|f| f.cents).sum()
    }

    /// The contract signed on `terms` for a trajectory that started on `started_on`: the
    /// case worker's deadlines, the VDAB deadline from the rules, the rights-and-duties
    /// clause, and the course fees (`pays_fees`: nothing in Brussels or when exempted).
    pub fn sign(
        terms: ContractTerms,
        started_on: NaiveDate,
        pays_fees: bool,
    ) -> Result<Self, TrajectoryError> {
        if !terms.rights_and_duties_accepted {
            return Err(TrajectoryError::invalid(
                "rights_and_duties_accepted",
                "the contract includes the clause on essential rights and duties; it must be accepted",
            ));
        }
        if terms.signed_on < started_on {
            return Err(TrajectoryError::invalid(
                "signed_on",
                format!("lies before the start of the trajectory ({})", started_on),
            ));
        }
        let horizon = terms
            .signed_on
            .checked_add_months(Months::new(rules::DEADLINE_HORIZON_MONTHS))
            .expect("a signing date near today is far from the end of the calendar");
        let check = |field: &'static str, date: NaiveDate| {
            if date <= terms.signed_on {
                Err(TrajectoryError::invalid(
                    field,
                    "must lie after the signing date",
                ))
            } else if date > horizon {
                Err(TrajectoryError::invalid(
                    field,
                    format!(
                        "lies more than {} months after signing",
                        rules::DEADLINE_HORIZON_MONTHS
                    ),
                ))
            } else {
                Ok(date)
            }
        };
        let nt2_deadline = check(
            "nt2_deadline",
            terms
                .nt2_deadline
                .ok_or_else(|| TrajectoryError::invalid("nt2_deadline", "is required"))?,
        )?;
        let mo_deadline = check(
            "mo_deadline",
            terms
                .mo_deadline
                .ok_or_else(|| TrajectoryError::invalid("mo_deadline", "is required"))?,
        )?;
        let participation_deadline = terms
            .participation_deadline
            .map(|d| check("participation_deadline", d))
            .transpose()?;
        let fee = if pays_fees {
            rules::COURSE_FEE_CENTS
        } else {
            0
        };
        Ok(Contract {
            signed_on: terms.signed_on,
            nt2_deadline,
            mo_deadline,
            vdab_deadline: rules::vdab_registration_deadline(started_on),
            participation_deadline,
            rights_and_duties_clause: true,
            fees: vec![
                Fee {
                    kind: FeeKind::MoCourse,
                    cents: fee,
                },
                Fee {
                    kind: FeeKind::Nt2Course,
                    cents: fee,
                },
            ],
        })
    }
}

/// What the case worker fixes when the contract is signed.
#[derive(Debug, Clone)]
pub struct ContractTerms {
    pub signed_on: NaiveDate,
    pub rights_and_duties_accepted: bool,
    pub nt2_deadline: Option<NaiveDate>,
    pub mo_deadline: Option<NaiveDate>,
    pub participation_deadline: Option<NaiveDate>,
}
