//! Who may do what in the interpreting service (DESIGN.md §5, issue 11). One function per
//! decision; handlers call them before touching data.
//! - an `interpreting-requester` of any organisation asks for interpreting and sees its
//!   organisation's requests and invoices;
//! - an `interpreting-coordinator` of an agency manages the interpreter pool (the only
//!   readers of interpreters' personal data) and matches, cancels, records and bills the
//!   requests of the agency's area (AgII's covers Bon's).

use platform::{
    Agency, Principal, Role,
    auth::{AuthError, Orgs, Rule, agency_staff},
};

/// The agencies of a coordinator's area; refuses anyone else.
pub fn coordinator(principal: &Principal) -> Result<Vec<Agency>, AuthError> {
    agency_staff(principal, Role::InterpretingCoordinator)
}

/// The agency a coordinator registers interpreters for.
pub fn registering_agency(principal: &Principal) -> Result<Agency, AuthError> {
    coordinator(principal)?;
    Agency::from_alias(&principal.organisation.alias).ok_or_else(|| {
        AuthError::Forbidden(format!(
            "organisation {} is not an integration agency",
            principal.organisation.alias
        ))
    })
}

/// Whether a coordinator of `area` keeps the hours and absences of an interpreter
/// `registered_by` an agency: the pool is shared for matching, its upkeep is not.
pub fn manages(area: &[Agency], registered_by: &str) -> bool {
    area.iter().any(|a| a.as_str() == registered_by)
}

/// The organisation a requester asks for.
pub fn requester(principal: &Principal) -> Result<&str, AuthError> {
    principal.require(Role::InterpretingRequester)?;
    Ok(&principal.organisation.alias)
}

/// What of the requests and invoices a caller sees: a coordinator's area, a requester's
/// own organisation, or both for a caller with both roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub area: Vec<Agency>,
    pub own: Option<String>,
}

impl Viewer {
    pub fn of(principal: &Principal) -> Result<Self, AuthError> {
        let own = principal
            .has(Role::InterpretingRequester)
            .then(|| principal.organisation.alias.clone());
        let area = match coordinator(principal) {
            Ok(area) => area,
            // A requester's view still stands for a coordinator outside an agency.
            Err(_) if own.is_some() => Vec::new(),
            Err(e) if principal.has(Role::InterpretingCoordinator) => return Err(e),
            Err(_) => Vec::new(),
        };
        if area.is_empty() && own.is_none() {
            return Err(AuthError::MissingRole(Role::InterpretingRequester));
        }
        Ok(Self { area, own })
    }

    /// Whether a request or invoice of `agency`, asked for or paid by `organisation`, is
    /// visible.
    /// Whether the caller is told who pays a request: a coordinator is; a requester is
    /// not told whether a person's trajectory has ended.
    pub fn sees_payers(&self) -> bool {
        !self.area.is_empty()
    }

    pub fn sees(&self, agency: &str, organisation: &str) -> bool {
        self.area.iter().any(|a| a.as_str() == agency) || self.own.as_deref() == Some(organisation)
    }
}

/// Who may call each RPC at all (the platform's first gate, issue 13); what a permitted
/// caller then sees of the data is decided by the functions above.
pub const ACCESS: &[Rule] = &[
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/RegisterInterpreter",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/GetInterpreter",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/ListInterpreters",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/SetAvailability",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/AddAbsence",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/ListCandidates",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/AssignInterpreter",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/ReassignInterpreter",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/RecordPerformance",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/RunBilling",
        allow: &[(Role::InterpretingCoordinator, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/RequestInterpreting",
        allow: &[(Role::InterpretingRequester, Orgs::Any)],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/GetRequest",
        allow: &[
            (Role::InterpretingCoordinator, Orgs::Agencies),
            (Role::InterpretingRequester, Orgs::Any),
        ],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/ListRequests",
        allow: &[
            (Role::InterpretingCoordinator, Orgs::Agencies),
            (Role::InterpretingRequester, Orgs::Any),
        ],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/CancelRequest",
        allow: &[
            (Role::InterpretingCoordinator, Orgs::Agencies),
            (Role::InterpretingRequester, Orgs::Any),
        ],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/ListRates",
        allow: &[
            (Role::InterpretingCoordinator, Orgs::Agencies),
            (Role::InterpretingRequester, Orgs::Any),
        ],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/ListInvoices",
        allow: &[
            (Role::InterpretingCoordinator, Orgs::Agencies),
            (Role::InterpretingRequester, Orgs::Any),
        ],
    },
    Rule {
        rpc: "inburgering.interpreting.v1.InterpretingService/ExportInvoices",
        allow: &[
            (Role::InterpretingCoordinator, Orgs::Agencies),
            (Role::InterpretingRequester, Orgs::Any),
        ],
    },
];

#[cfg(test)]
mod tests {
    use platform::auth::Organisation;

    use super::*;

    fn principal(org: &str, roles: &[Role]) -> Principal {
        Principal {
            subject: "s".into(),
            roles: roles.iter().copied().collect(),
            organisation: Organisation {
                alias: org.into(),
                attributes: Default::default(),
            },
        }
    }

    #[test]
    fn coordinators_are_agency_staff_and_agii_covers_bon() {
        let agii = principal("agii", &[Role::InterpretingCoordinator]);
        assert_eq!(
            coordinator(&agii).ok(),
            Some(vec![Agency::Agii, Agency::Bon])
        );
        let ocmw = principal("ocmw-antwerpen", &[Role::InterpretingCoordinator]);
        assert!(coordinator(&ocmw).is_err());
        let requester = principal("atlas", &[Role::InterpretingRequester]);
        assert!(coordinator(&requester).is_err());
    }

    #[test]
    fn a_requester_sees_its_own_organisation_only() {
        let ocmw = principal("ocmw-antwerpen", &[Role::InterpretingRequester]);
        let viewer = Viewer::of(&ocmw).expect("a requester");
        assert!(viewer.sees("atlas", "ocmw-antwerpen"));
        assert!(!viewer.sees("atlas", "ocmw-gent"));
        let case_worker = principal("atlas", &[Role::CaseWorker]);
        assert!(Viewer::of(&case_worker).is_err());
    }
}
