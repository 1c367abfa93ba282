//! Who may call the testing service's RPCs at all (DESIGN.md §5, issue 13): case workers
//! and test administrators of an integration agency; planning sessions and recording
//! results is for test administrators.

use platform::{
    Principal, Role,
    auth::{AuthError, Orgs, Rule, agency_scope},
};

use crate::domain::FeeQuery;

/// Case workers and test administrators of an agency may read and book.
pub fn staff(principal: &Principal) -> Result<(), AuthError> {
    if principal.has(Role::CaseWorker) || principal.has(Role::TestAdmin) {
        Ok(())
    } else {
        Err(AuthError::MissingRole(Role::TestAdmin))
    }
}

/// The agencies whose candidates, bookings and fees the caller sees (AgII's staff also
/// Bon's); anyone else's stay "not known", so that another agency's people stay invisible.
pub fn scope(principal: &Principal) -> &'static [&'static str] {
    agency_scope(&principal.organisation)
}

/// An agency's ledger only for that agency's staff (a person's ledger is limited by
/// [`scope`] when it is read).
pub fn require_fees(principal: &Principal, query: &FeeQuery) -> Result<(), AuthError> {
    match query {
        FeeQuery::Agency(agency) if !scope(principal).contains(agency) => {
            Err(AuthError::Forbidden(format!(
                "agency {agency} is outside organisation {}",
                principal.organisation.alias
            )))
        }
        _ => Ok(()),
    }
}

/// Who may call each RPC at all (the platform's first gate, issue 13); what a permitted
/// caller then sees of the data is decided by the functions above.
pub const ACCESS: &[Rule] = &[
    Rule {
        rpc: "inburgering.testing.v1.TestingService/GetCandidate",
        allow: &[
            (Role::CaseWorker, Orgs::Agencies),
            (Role::TestAdmin, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.testing.v1.TestingService/ListSessions",
        allow: &[
            (Role::CaseWorker, Orgs::Agencies),
            (Role::TestAdmin, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.testing.v1.TestingService/BookTest",
        allow: &[
            (Role::CaseWorker, Orgs::Agencies),
            (Role::TestAdmin, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.testing.v1.TestingService/CancelBooking",
        allow: &[
            (Role::CaseWorker, Orgs::Agencies),
            (Role::TestAdmin, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.testing.v1.TestingService/ListFees",
        allow: &[
            (Role::CaseWorker, Orgs::Agencies),
            (Role::TestAdmin, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.testing.v1.TestingService/PlanSession",
        allow: &[(Role::TestAdmin, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.testing.v1.TestingService/RecordResult",
        allow: &[(Role::TestAdmin, Orgs::Agencies)],
    },
];
