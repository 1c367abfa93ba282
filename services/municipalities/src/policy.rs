//! Who may do what in the municipalities service (DESIGN.md §5, issue 8). One function per
//! decision; handlers call them before touching data.

use platform::{
    Agency, Nis, Principal, Role,
    auth::{ANYONE, AuthError, Orgs, Rule, agency_scope},
};

use crate::domain::Resident;

/// The municipality a municipality officer acts for: the organisation's `nis`, only for
/// an organisation that is that municipality (`municipality-<nis>`), so that no other
/// organisation gains a municipality's rights through an attribute.
fn own_nis(principal: &Principal) -> Option<Nis> {
    let org = &principal.organisation;
    let nis = org
        .nis()
        .filter(|_| principal.has(Role::MunicipalityOfficer))?;
    (org.alias.strip_prefix("municipality-") == Some(nis))
        .then(|| Nis::parse("nis", nis).ok())
        .flatten()
}

/// Whether the caller's agency handles residents of `agency`'s area.
fn agency_covers(principal: &Principal, agency: Option<Agency>) -> bool {
    principal.has(Role::CaseWorker)
        && agency.is_some_and(|a| agency_scope(&principal.organisation).contains(&a.as_str()))
}

/// Refuses callers who are neither municipality officers nor case workers.
pub fn staff(principal: &Principal) -> Result<(), AuthError> {
    if principal.has(Role::MunicipalityOfficer) || principal.has(Role::CaseWorker) {
        Ok(())
    } else {
        Err(AuthError::MissingRole(Role::MunicipalityOfficer))
    }
}

/// Whether the caller may see and change the partnership, offers and placements of the
/// municipality `nis` whose competent agency is `agency`: its own officers, and case
/// workers of that agency.
pub fn may_manage(
    principal: &Principal,
    nis: Nis,
    agency: Option<Agency>,
) -> Result<bool, AuthError> {
    staff(principal)?;
    Ok(own_nis(principal) == Some(nis) || agency_covers(principal, agency))
}

/// [`may_manage`] for a request that names the municipality: a refusal, not a silence.
pub fn require_manage(
    principal: &Principal,
    nis: Nis,
    agency: Option<Agency>,
) -> Result<(), AuthError> {
    if may_manage(principal, nis, agency)? {
        Ok(())
    } else {
        Err(AuthError::Forbidden(format!(
            "municipality {nis} is outside organisation {}",
            principal.organisation.alias
        )))
    }
}

/// Whether the caller may place or log hours for a resident: the officers of the
/// municipality they live in and case workers of their agency.
pub fn may_see_resident(principal: &Principal, who: &Resident) -> bool {
    own_nis(principal) == Some(who.nis) || agency_covers(principal, Some(who.agency))
}

/// The local monitor: role `monitor` for any municipality (aggregates only), a municipality
/// officer for their own.
pub fn require_monitor(principal: &Principal, nis: Nis) -> Result<(), AuthError> {
    if principal.has(Role::Monitor) || own_nis(principal) == Some(nis) {
        return Ok(());
    }
    if principal.has(Role::MunicipalityOfficer) {
        return Err(AuthError::Forbidden(format!(
            "municipality {nis} is outside organisation {}",
            principal.organisation.alias
        )));
    }
    Err(AuthError::MissingRole(Role::Monitor))
}

/// Who may call each RPC at all (the platform's first gate, issue 13); what a permitted
/// caller then sees of the data is decided by the functions above.
pub const ACCESS: &[Rule] = &[
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/GetMunicipality",
        allow: ANYONE,
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/ListMunicipalities",
        allow: ANYONE,
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/ResolveNis",
        allow: ANYONE,
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/AddContact",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/RemoveContact",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/ListContacts",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/RecordAgreement",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/ListAgreements",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/SaveLocalPlan",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/ListLocalPlans",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/CreateOffer",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/GetOffer",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/ListOffers",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/CloseOffer",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/PlacePerson",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/LogHours",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/EndPlacement",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/GetPlacement",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/ListPlacements",
        allow: &[
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::CaseWorker, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.municipalities.v1.MunicipalityService/GetLocalMonitor",
        allow: &[
            (Role::Monitor, Orgs::Any),
            (Role::MunicipalityOfficer, Orgs::Municipalities),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use platform::auth::Organisation;

    fn principal(org: &str, nis: Option<&str>, roles: &[Role]) -> Principal {
        Principal {
            subject: "s".into(),
            organisation: Organisation {
                alias: org.into(),
                attributes: nis
                    .map(|n| [("nis".to_string(), vec![n.to_string()])].into())
                    .unwrap_or_default(),
            },
            roles: roles.iter().copied().collect(),
        }
    }

    fn nis(code: &str) -> Nis {
        Nis::parse("nis", code).expect("valid")
    }

    #[test]
    fn an_officer_manages_their_own_municipality_only() {
        let antwerp = principal(
            "municipality-11002",
            Some("11002"),
            &[Role::MunicipalityOfficer],
        );
        assert_eq!(
            may_manage(&antwerp, nis("11002"), Some(Agency::Atlas)),
            Ok(true)
        );
        assert_eq!(
            may_manage(&antwerp, nis("44021"), Some(Agency::InGent)),
            Ok(false)
        );
        assert!(require_manage(&antwerp, nis("44021"), Some(Agency::InGent)).is_err());
    }

    #[test]
    fn a_nis_attribute_on_another_organisation_gives_no_municipality_rights() {
        let atlas = principal("atlas", Some("11002"), &[Role::MunicipalityOfficer]);
        assert_eq!(
            may_manage(&atlas, nis("11002"), Some(Agency::InGent)),
            Ok(false)
        );
        let mismatch = principal(
            "municipality-44021",
            Some("11002"),
            &[Role::MunicipalityOfficer],
        );
        assert_eq!(
            may_manage(&mismatch, nis("11002"), Some(Agency::Atlas)),
            Ok(false)
        );
    }

    #[test]
    fn an_agency_manages_the_municipalities_of_its_area() {
        let agii = principal("agii", None, &[Role::CaseWorker]);
        assert_eq!(
            may_manage(&agii, nis("24062"), Some(Agency::Agii)),
            Ok(true)
        );
        assert_eq!(may_manage(&agii, nis("21004"), Some(Agency::Bon)), Ok(true));
        assert_eq!(
            may_manage(&agii, nis("11002"), Some(Agency::Atlas)),
            Ok(false)
        );
        assert_eq!(may_manage(&agii, nis("62063"), None), Ok(false));
        let atlas = principal("atlas", None, &[Role::CaseWorker]);
        assert_eq!(
            may_manage(&atlas, nis("24062"), Some(Agency::Agii)),
            Ok(false)
        );
    }

    #[test]
    fn the_monitor_needs_its_role_or_its_own_municipality() {
        let monitor = principal("agii", None, &[Role::Monitor]);
        assert!(require_monitor(&monitor, nis("11002")).is_ok());
        let gent = principal(
            "municipality-44021",
            Some("44021"),
            &[Role::MunicipalityOfficer],
        );
        assert!(require_monitor(&gent, nis("44021")).is_ok());
        assert!(matches!(
            require_monitor(&gent, nis("11002")),
            Err(AuthError::Forbidden(_))
        ));
        let worker = principal("atlas", None, &[Role::CaseWorker]);
        assert_eq!(
            require_monitor(&worker, nis("11002")),
            Err(AuthError::MissingRole(Role::Monitor))
        );
    }
}
