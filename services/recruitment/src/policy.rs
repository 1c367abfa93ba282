//! Who may do what in the recruitment service (DESIGN.md §5, issue 10). One function per
//! decision; handlers call them before touching data.
//! - a `recruitment-officer` of an agency works in the agency's area (AgII's covers Bon's):
//!   newcomers, templates, campaigns, referrals, ambassadors, plans, the funnel;
//! - a `municipality-officer` of `municipality-<nis>` reads that municipality's local plan
//!   and funnel, aggregates only;
//! - `monitor` reads the funnel everywhere.

use platform::{
    Agency, Principal, Role,
    auth::{AuthError, Orgs, Rule, agency_staff},
};

use crate::domain::{LetterKind, Municipality, Nis};

/// What a read may cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Municipality(Nis),
    Agencies(Vec<Agency>),
}

impl Scope {
    /// Whether a municipality whose competent agency is `agency` is inside.
    pub fn covers(&self, nis: Nis, agency: Option<Agency>) -> bool {
        match self {
            Scope::All => true,
            Scope::Municipality(own) => *own == nis,
            Scope::Agencies(agencies) => agency.is_some_and(|a| agencies.contains(&a)),
        }
    }
}

/// Refuses a municipality outside `scope`.
pub fn within(scope: &Scope, m: &Municipality, principal: &Principal) -> Result<(), AuthError> {
    if scope.covers(m.nis, m.agency) {
        Ok(())
    } else {
        Err(AuthError::Forbidden(format!(
            "municipality {} is outside the area of {}",
            m.nis, principal.organisation.alias
        )))
    }
}

/// Whether something of the agency stored as `alias` lies in an officer's `area`.
pub fn in_area(area: &[Agency], alias: &str) -> bool {
    Agency::from_alias(alias).is_some_and(|a| area.contains(&a))
}

/// The agencies of a recruitment officer's area; refuses anyone else.
pub fn officer(principal: &Principal) -> Result<Vec<Agency>, AuthError> {
    agency_staff(principal, Role::RecruitmentOfficer)
}

/// Who may upload a template of `kind`: the welcome letter is Bon's (an officer whose area
/// holds Bon), the recruitment letter the Flemish agencies' (AgII, Atlas, In-Gent).
pub fn may_upload(principal: &Principal, kind: LetterKind) -> Result<(), AuthError> {
    let area = officer(principal)?;
    let allowed = match kind {
        LetterKind::Welcome => area.contains(&Agency::Bon),
        LetterKind::Recruitment => area.iter().any(|a| *a != Agency::Bon),
    };
    if allowed {
        Ok(())
    } else {
        Err(AuthError::Forbidden(format!(
            "organisation {} does not send the {} letter",
            principal.organisation.alias,
            kind.as_str()
        )))
    }
}

/// The agency an officer acts as when creating something (a campaign, an ambassador).
pub fn acting_agency(principal: &Principal) -> Result<Agency, AuthError> {
    officer(principal)?;
    Agency::from_alias(&principal.organisation.alias).ok_or_else(|| {
        AuthError::Forbidden(format!(
            "organisation {} is not an integration agency",
            principal.organisation.alias
        ))
    })
}

/// The municipality a municipality officer acts for: only an organisation that is that
/// municipality (`municipality-<nis>`, with a matching `nis` attribute if it has one).
fn own_nis(principal: &Principal) -> Option<Nis> {
    if !principal.has(Role::MunicipalityOfficer) {
        return None;
    }
    let org = &principal.organisation;
    let nis = org.nis()?;
    (org.alias.strip_prefix("municipality-") == Some(nis))
        .then(|| Nis::parse("nis", nis).ok())
        .flatten()
}

/// What of the local plans the caller may read: an officer their area, a municipality
/// officer their municipality.
pub fn plan_scope(principal: &Principal) -> Result<Scope, AuthError> {
    if let Some(nis) = own_nis(principal) {
        return Ok(Scope::Municipality(nis));
    }
    if principal.has(Role::MunicipalityOfficer) && !principal.has(Role::RecruitmentOfficer) {
        return Err(AuthError::Forbidden(format!(
            "organisation {} is not a municipality",
            principal.organisation.alias
        )));
    }
    Ok(Scope::Agencies(officer(principal)?))
}

/// What of the funnel the caller may read: the monitor all, the others as for plans.
pub fn funnel_scope(principal: &Principal) -> Result<Scope, AuthError> {
    if principal.has(Role::Monitor) {
        return Ok(Scope::All);
    }
    if !(principal.has(Role::MunicipalityOfficer) || principal.has(Role::RecruitmentOfficer)) {
        return Err(AuthError::MissingRole(Role::RecruitmentOfficer));
    }
    plan_scope(principal)
}

/// Who may call each RPC at all (the platform's first gate, issue 13); what a permitted
/// caller then sees of the data is decided by the functions above.
pub const ACCESS: &[Rule] = &[
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/ListNewcomers",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/UploadTemplate",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/ListTemplates",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/LaunchCampaign",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/ListCampaigns",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/RecordReferral",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/AddAmbassador",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/WithdrawAmbassadorConsent",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/ListAmbassadors",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/CreateLocalPlan",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/AddPlanAction",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/UpdatePlanAction",
        allow: &[(Role::RecruitmentOfficer, Orgs::Agencies)],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/GetLocalPlan",
        allow: &[
            (Role::RecruitmentOfficer, Orgs::Agencies),
            (Role::MunicipalityOfficer, Orgs::Municipalities),
        ],
    },
    Rule {
        rpc: "inburgering.recruitment.v1.RecruitmentService/GetFunnel",
        allow: &[
            (Role::RecruitmentOfficer, Orgs::Agencies),
            (Role::MunicipalityOfficer, Orgs::Municipalities),
            (Role::Monitor, Orgs::Any),
        ],
    },
];

#[cfg(test)]
mod tests {
    use platform::auth::Organisation;

    use super::*;

    fn principal(org: &str, nis: Option<&str>, roles: &[Role]) -> Principal {
        Principal {
            subject: "s".into(),
            roles: roles.iter().copied().collect(),
            organisation: Organisation {
                alias: org.into(),
                attributes: nis
                    .map(|n| {
                        [("nis".to_owned(), vec![n.to_owned()])]
                            .into_iter()
                            .collect()
                    })
                    .unwrap_or_default(),
            },
        }
    }

    fn nis(code: &str) -> Nis {
        Nis::parse("nis", code).expect("valid")
    }

    #[test]
    fn agii_officers_cover_bon_and_bon_only_itself() {
        let agii = principal("agii", None, &[Role::RecruitmentOfficer]);
        assert_eq!(officer(&agii).ok(), Some(vec![Agency::Agii, Agency::Bon]));
        let bon = principal("bon", None, &[Role::RecruitmentOfficer]);
        assert_eq!(officer(&bon).ok(), Some(vec![Agency::Bon]));
        let case_worker = principal("bon", None, &[Role::CaseWorker]);
        assert!(officer(&case_worker).is_err());
        let ggc = principal("ggc", None, &[Role::RecruitmentOfficer]);
        assert!(officer(&ggc).is_err());
    }

    #[test]
    fn a_municipality_officer_reads_their_own_plan_and_funnel() {
        let schaarbeek = principal(
            "municipality-21015",
            Some("21015"),
            &[Role::MunicipalityOfficer],
        );
        let scope = funnel_scope(&schaarbeek).expect("allowed");
        assert!(scope.covers(nis("21015"), Some(Agency::Bon)));
        assert!(!scope.covers(nis("21004"), Some(Agency::Bon)));
        let pretender = principal(
            "municipality-21015",
            Some("21004"),
            &[Role::MunicipalityOfficer],
        );
        assert!(plan_scope(&pretender).is_err());
        assert!(officer(&schaarbeek).is_err());
    }

    #[test]
    fn the_monitor_reads_the_funnel_only() {
        let monitor = principal("agii", None, &[Role::Monitor]);
        assert_eq!(funnel_scope(&monitor).ok(), Some(Scope::All));
        assert!(plan_scope(&monitor).is_err());
    }
}
