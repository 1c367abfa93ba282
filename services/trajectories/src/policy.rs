//! Who may do what in the trajectories service (DESIGN.md §5). One function per decision;
//! handlers call them before touching data.

use platform::{
    Agency, Principal, Role,
    auth::{AuthError, Orgs, Rule, agency_scope},
};

/// The agencies whose trajectories a case worker of the caller's organisation handles:
/// AgII sees its own and its Brussels branch Bon's; every other agency only its own.
pub fn case_worker_scope(principal: &Principal) -> Result<Vec<Agency>, AuthError> {
    principal.require(Role::CaseWorker)?;
    let scope: Vec<Agency> = agency_scope(&principal.organisation)
        .iter()
        .filter_map(|alias| Agency::from_alias(alias))
        .collect();
    if scope.is_empty() {
        return Err(AuthError::Forbidden(format!(
            "organisation {} is not an integration agency and handles no trajectories",
            principal.organisation.alias
        )));
    }
    Ok(scope)
}

/// Who may register a person: a case worker at intake, or a recruitment officer passing
/// on the national-register feed (recruitment keeps only the `person_id` it gets back);
/// either of an integration agency.
pub fn require_registrar(principal: &Principal) -> Result<(), AuthError> {
    if !principal.has(Role::RecruitmentOfficer) {
        return case_worker_scope(principal).map(|_| ());
    }
    if agency_scope(&principal.organisation).is_empty() {
        return Err(AuthError::Forbidden(format!(
            "organisation {} is not an integration agency and registers no persons",
            principal.organisation.alias
        )));
    }
    Ok(())
}

/// A case worker may act on a trajectory only within the scope of their agency.
pub fn may_handle(principal: &Principal, agency: Agency) -> Result<bool, AuthError> {
    Ok(case_worker_scope(principal)?.contains(&agency))
}

/// A ceremony's read of residents is for the organisers of their municipality: role
/// `ceremony-organiser` in the organisation `municipality-<nis>` (whose `nis` attribute,
/// when it has one, says the same).
pub fn require_ceremony_organiser(principal: &Principal, nis: &str) -> Result<(), AuthError> {
    principal.require(Role::CeremonyOrganiser)?;
    let org = &principal.organisation;
    let own = org
        .nis()
        .filter(|own| org.alias.strip_prefix("municipality-") == Some(own));
    if own == Some(nis) {
        Ok(())
    } else {
        Err(AuthError::Forbidden(format!(
            "municipality {nis} is outside organisation {}",
            org.alias
        )))
    }
}

/// A partner of the Brussels exchange: role `partner-exchange` in organisation `org`.
pub fn require_partner(principal: &Principal, org: &str) -> Result<(), AuthError> {
    principal.require(Role::PartnerExchange)?;
    if principal.organisation.alias == org {
        Ok(())
    } else {
        Err(AuthError::Forbidden(format!(
            "this exchange is {org}'s, not {}'s",
            principal.organisation.alias
        )))
    }
}

/// The reports that contradict a Bon contract are for the case workers who handle Bon's
/// trajectories.
pub fn require_bon_case_worker(principal: &Principal) -> Result<(), AuthError> {
    if case_worker_scope(principal)?.contains(&Agency::Bon) {
        Ok(())
    } else {
        Err(AuthError::Forbidden(format!(
            "organisation {} does not handle Bon's trajectories",
            principal.organisation.alias
        )))
    }
}

/// Who may call each RPC at all (the platform's first gate, issue 13); what a permitted
/// caller then sees of the data is decided by the functions above.
pub const ACCESS: &[Rule] = &[
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/RegisterPerson",
        allow: &[
            (Role::CaseWorker, Orgs::Agencies),
            (Role::RecruitmentOfficer, Orgs::Agencies),
        ],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/StartTrajectory",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/SignContract",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/GetTrajectory",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/ListTrajectories",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/RecordVdabRegistration",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/LogParticipation",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/WaiveParticipation",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/SuspendTrajectory",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/ResumeTrajectory",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/StopTrajectory",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/GetDvzAdvice",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/RecordActivity",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/ListB1FollowUpDue",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.TrajectoryService/DeclareEffort",
        allow: &[(Role::CaseWorker, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.ObligationCheckService/CheckObligation",
        allow: &[(Role::ObligationCheck, Orgs::Any)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.DisclosureService/DiscloseForCeremony",
        allow: &[(Role::CeremonyOrganiser, Orgs::Municipalities)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.PartnerExchangeService/ReportGgcRegistration",
        allow: &[(Role::PartnerExchange, Orgs::Only(&["ggc"]))],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.PartnerExchangeService/ListBonRegistrations",
        allow: &[(Role::PartnerExchange, Orgs::Only(&["ggc"]))],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.PartnerExchangeService/ListDutchRouteReferrals",
        allow: &[(Role::PartnerExchange, Orgs::Only(&["huis-nl-brussel"]))],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.PartnerExchangeService/ListExchangeConflicts",
        allow: &[(Role::CaseWorker, Orgs::Only(&["agii", "bon"]))],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.PartnerExchangeService/ListExchangeAudit",
        allow: &[(Role::PlatformAdmin, Orgs::Any)],
    },
    Rule {
        rpc: "inburgering.trajectories.v1.BrusselsStatisticsService/GetBrusselsFigures",
        allow: &[(Role::Monitor, Orgs::Any)],
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

    #[test]
    fn atlas_case_worker_handles_atlas_only() {
        let p = principal("atlas", &[Role::CaseWorker]);
        assert_eq!(may_handle(&p, Agency::Atlas), Ok(true));
        assert_eq!(may_handle(&p, Agency::InGent), Ok(false));
    }

    #[test]
    fn agii_covers_bon_but_bon_does_not_cover_agii() {
        assert_eq!(
            may_handle(&principal("agii", &[Role::CaseWorker]), Agency::Bon),
            Ok(true)
        );
        assert_eq!(
            may_handle(&principal("bon", &[Role::CaseWorker]), Agency::Agii),
            Ok(false)
        );
    }

    #[test]
    fn other_roles_and_organisations_are_refused() {
        assert_eq!(
            case_worker_scope(&principal("atlas", &[Role::Monitor])),
            Err(AuthError::MissingRole(Role::CaseWorker))
        );
        assert!(matches!(
            case_worker_scope(&principal("ggc", &[Role::CaseWorker])),
            Err(AuthError::Forbidden(_))
        ));
    }

    #[test]
    fn only_a_municipalitys_ceremony_organiser_reads_for_it() {
        let antwerp = principal("municipality-11002", &[Role::CeremonyOrganiser]);
        assert_eq!(require_ceremony_organiser(&antwerp, "11002"), Ok(()));
        assert!(matches!(
            require_ceremony_organiser(&antwerp, "44021"),
            Err(AuthError::Forbidden(_))
        ));
        assert_eq!(
            require_ceremony_organiser(
                &principal("municipality-11002", &[Role::MunicipalityOfficer]),
                "11002"
            ),
            Err(AuthError::MissingRole(Role::CeremonyOrganiser))
        );
        assert!(matches!(
            require_ceremony_organiser(&principal("atlas", &[Role::CeremonyOrganiser]), "11002"),
            Err(AuthError::Forbidden(_))
        ));
    }
}
