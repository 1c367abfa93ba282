//! Who may call the testing service's RPCs at all (DESIGN.md §5, issue 13): case workers
//! and test administrators of an integration agency; planning sessions and recording
//! results is for test administrators.

use platform::{
    Role,
    auth::{Orgs, Rule},
};

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
