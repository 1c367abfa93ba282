//! Who may do what in the ceremonies service (DESIGN.md §5, issue 9). One function per
//! decision; handlers call them before touching data.
//! - a `ceremony-organiser` of `municipality-<nis>` sees and changes that municipality's
//!   ceremonies and invitees only;
//! - a `ceremony-organiser` or `case-worker` of an agency reads the ceremonies (not the
//!   invitees) of the municipalities in its area;
//! - `monitor` reads the report only.

use platform::{
    Agency, Nis, Principal, Role,
    auth::{AuthError, Orgs, Rule, agency_scope},
};
use uuid::Uuid;

use crate::{CeremoniesError, domain::Ceremony, store::ambassador};

/// The municipality an organiser acts for: only an organisation that is that
/// municipality (`municipality-<nis>`, with a matching `nis` attribute if it has one).
pub fn own_nis(principal: &Principal) -> Option<Nis> {
    if !principal.has(Role::CeremonyOrganiser) {
        return None;
    }
    let org = &principal.organisation;
    let nis = org.nis()?;
    (org.alias.strip_prefix("municipality-") == Some(nis))
        .then(|| Nis::parse("nis", nis).ok())
        .flatten()
}

/// The agencies whose area the caller's agency staff cover; empty for anyone else.
fn covered(principal: &Principal) -> Vec<Agency> {
    if !(principal.has(Role::CeremonyOrganiser) || principal.has(Role::CaseWorker)) {
        return Vec::new();
    }
    agency_scope(&principal.organisation)
        .iter()
        .filter_map(|a| Agency::from_alias(a))
        .collect()
}

/// Refuses callers who are neither organisers nor agency staff.
pub fn staff(principal: &Principal) -> Result<(), AuthError> {
    if principal.has(Role::CeremonyOrganiser) || principal.has(Role::CaseWorker) {
        Ok(())
    } else {
        Err(AuthError::MissingRole(Role::CeremonyOrganiser))
    }
}

/// Refuses a change to the ceremonies of `nis` by anyone but its own organisers.
pub fn require_organiser(principal: &Principal, nis: Nis) -> Result<(), AuthError> {
    if own_nis(principal) == Some(nis) {
        return Ok(());
    }
    if principal.has(Role::CeremonyOrganiser) {
        return Err(AuthError::Forbidden(format!(
            "municipality {nis} is outside organisation {}",
            principal.organisation.alias
        )));
    }
    Err(AuthError::MissingRole(Role::CeremonyOrganiser))
}

/// Whether the caller may read a ceremony of `nis`, whose competent agency is `agency`.
pub fn may_read(principal: &Principal, nis: Nis, agency: Agency) -> bool {
    own_nis(principal) == Some(nis) || covered(principal).contains(&agency)
}

/// Whether the caller may read and change a ceremony's invitees: its own organisers only.
pub fn may_manage(principal: &Principal, nis: Nis) -> bool {
    own_nis(principal) == Some(nis)
}

/// `found` if the caller may read it; for anyone else ceremony `ceremony_id` does not
/// exist.
pub fn readable(
    principal: &Principal,
    ceremony_id: Uuid,
    found: Option<Ceremony>,
) -> Result<Ceremony, CeremoniesError> {
    match found {
        Some(c) if may_read(principal, c.nis, c.agency) => Ok(c),
        _ => Err(CeremoniesError::CeremonyNotFound { ceremony_id }),
    }
}

/// `found` if the caller organises it (its municipality's organisers only): an agency
/// that may read it learns it may not change it, anyone else that it does not exist.
pub fn manageable(
    principal: &Principal,
    ceremony_id: Uuid,
    found: Option<Ceremony>,
) -> Result<Ceremony, CeremoniesError> {
    match found {
        Some(c) if may_manage(principal, c.nis) => Ok(c),
        Some(c) if may_read(principal, c.nis, c.agency) => Err(require_organiser(principal, c.nis)
            .err()
            .map(CeremoniesError::from)
            .unwrap_or(CeremoniesError::CeremonyNotFound { ceremony_id })),
        _ => Err(CeremoniesError::CeremonyNotFound { ceremony_id }),
    }
}

/// `found` (an ambassador and its ceremony) if the caller organises the ceremony; for
/// anyone else ambassador `ambassador_id` does not exist.
pub fn ambassador_manageable(
    principal: &Principal,
    ambassador_id: Uuid,
    found: Option<(ambassador::Model, Ceremony)>,
) -> Result<ambassador::Model, CeremoniesError> {
    match found {
        Some((a, c)) if may_manage(principal, c.nis) => Ok(a),
        _ => Err(CeremoniesError::AmbassadorNotFound { ambassador_id }),
    }
}

/// Which ceremonies a listing may show the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every municipality (the monitor, for the report).
    All,
    Municipality(Nis),
    Agencies(Vec<Agency>),
}

/// The ceremonies a listing shows the caller (staff only).
pub fn list_scope(principal: &Principal) -> Result<Scope, AuthError> {
    staff(principal)?;
    if let Some(nis) = own_nis(principal) {
        return Ok(Scope::Municipality(nis));
    }
    let agencies = covered(principal);
    if agencies.is_empty() {
        return Err(AuthError::Forbidden(format!(
            "organisation {} is neither a municipality nor an agency",
            principal.organisation.alias
        )));
    }
    Ok(Scope::Agencies(agencies))
}

/// The ceremonies a listing that names municipality `named` (if any) shows the caller:
/// an organiser naming another municipality than its own is refused.
pub fn listing(principal: &Principal, named: Option<Nis>) -> Result<Scope, AuthError> {
    let scope = list_scope(principal)?;
    if let (Scope::Municipality(_), Some(nis)) = (&scope, named) {
        require_organiser(principal, nis)?;
    }
    Ok(scope)
}

/// Refuses a report on municipality `only_nis` to an organiser of another one.
pub fn report_on(
    principal: &Principal,
    scope: &Scope,
    only_nis: Option<Nis>,
) -> Result<(), AuthError> {
    if let (Scope::Municipality(own), Some(nis)) = (scope, only_nis)
        && *own != nis
    {
        require_organiser(principal, nis)?;
    }
    Ok(())
}

/// The rows of the report the caller may read: the monitor all, an organiser its
/// municipality's, agency staff their area's.
pub fn report_scope(principal: &Principal) -> Result<Scope, AuthError> {
    if principal.has(Role::Monitor) {
        return Ok(Scope::All);
    }
    if principal.has(Role::CeremonyOrganiser) || principal.has(Role::CaseWorker) {
        return list_scope(principal);
    }
    Err(AuthError::MissingRole(Role::Monitor))
}

/// Who may call each RPC at all (the platform's first gate, issue 13); what a permitted
/// caller then sees of the data is decided by the functions above.
pub const ACCESS: &[Rule] = &[
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/PlanCeremony",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/ChangeCeremony",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/CancelCeremony",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/CloseCeremony",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/SendInvitations",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/ListInvitations",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/RecordRsvp",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/RecordAttendance",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/AddAmbassador",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/WithdrawAmbassadorConsent",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/ListAmbassadors",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/GetCeremony",
        allow: &[
            (Role::CeremonyOrganiser, Orgs::Municipalities),
            (Role::CeremonyOrganiser, Orgs::Agencies),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/ListCeremonies",
        allow: &[
            (Role::CeremonyOrganiser, Orgs::Municipalities),
            (Role::CeremonyOrganiser, Orgs::Agencies),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.ceremonies.v1.CeremonyService/GetReport",
        allow: &[
            (Role::CeremonyOrganiser, Orgs::Municipalities),
            (Role::CeremonyOrganiser, Orgs::Agencies),
            (Role::CaseWorker, Orgs::Agencies),
            (Role::Monitor, Orgs::Any),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use platform::auth::Organisation;

    fn principal(org: &str, roles: &[Role]) -> Principal {
        Principal {
            subject: "s".into(),
            organisation: Organisation {
                alias: org.into(),
                attributes: Default::default(),
            },
            roles: roles.iter().copied().collect(),
        }
    }

    fn nis(code: &str) -> Nis {
        Nis::parse("nis", code).expect("valid")
    }

    #[test]
    fn an_organiser_manages_their_own_municipality_only() {
        let antwerp = principal("municipality-11002", &[Role::CeremonyOrganiser]);
        assert!(require_organiser(&antwerp, nis("11002")).is_ok());
        assert!(matches!(
            require_organiser(&antwerp, nis("44021")),
            Err(AuthError::Forbidden(_))
        ));
        assert!(may_manage(&antwerp, nis("11002")));
        assert!(!may_manage(&antwerp, nis("44021")));
    }

    #[test]
    fn a_municipality_officer_is_not_an_organiser() {
        let officer = principal("municipality-11002", &[Role::MunicipalityOfficer]);
        assert_eq!(
            require_organiser(&officer, nis("11002")),
            Err(AuthError::MissingRole(Role::CeremonyOrganiser))
        );
    }

    #[test]
    fn agency_staff_read_their_area_and_manage_nothing() {
        let agii = principal("agii", &[Role::CaseWorker]);
        assert!(may_read(&agii, nis("21004"), Agency::Bon));
        assert!(!may_read(&agii, nis("11002"), Agency::Atlas));
        assert!(!may_manage(&agii, nis("21004")));
        assert_eq!(
            list_scope(&agii),
            Ok(Scope::Agencies(vec![Agency::Agii, Agency::Bon]))
        );
    }

    #[test]
    fn the_monitor_reads_the_report_and_nothing_else() {
        let monitor = principal("agii", &[Role::Monitor]);
        assert_eq!(report_scope(&monitor), Ok(Scope::All));
        assert!(staff(&monitor).is_err());
        let nobody = principal("agii", &[Role::TestAdmin]);
        assert_eq!(
            report_scope(&nobody),
            Err(AuthError::MissingRole(Role::Monitor))
        );
    }
}
