//! Who the caller is: the roles and the organisation a token carries, and which
//! agencies' cases the organisation's staff handle.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    Agency,
    error::{Refusal, ServiceError, ServiceErrorCode},
};

/// The request metadata that picks one organisation when a token holds several.
pub const ORGANISATION_HEADER: &str = "x-organization";

/// Every role the platform knows (DESIGN.md §5). Roles in a token that are not here are
/// ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    CaseWorker,
    TestAdmin,
    CeremonyOrganiser,
    RecruitmentOfficer,
    InterpretingCoordinator,
    InterpretingRequester,
    MunicipalityOfficer,
    PartnerExchange,
    ObligationCheck,
    Monitor,
    PlatformAdmin,
}

impl Role {
    /// Every role, in the order DESIGN.md lists them.
    pub const ALL: [Role; 11] = [
        Role::CaseWorker,
        Role::TestAdmin,
        Role::CeremonyOrganiser,
        Role::RecruitmentOfficer,
        Role::InterpretingCoordinator,
        Role::InterpretingRequester,
        Role::MunicipalityOfficer,
        Role::PartnerExchange,
        Role::ObligationCheck,
        Role::Monitor,
        Role::PlatformAdmin,
    ];

    /// The role's name as it appears in `realm_access.roles`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CaseWorker => "case-worker",
            Role::TestAdmin => "test-admin",
            Role::CeremonyOrganiser => "ceremony-organiser",
            Role::RecruitmentOfficer => "recruitment-officer",
            Role::InterpretingCoordinator => "interpreting-coordinator",
            Role::InterpretingRequester => "interpreting-requester",
            Role::MunicipalityOfficer => "municipality-officer",
            Role::PartnerExchange => "partner-exchange",
            Role::ObligationCheck => "obligation-check",
            Role::Monitor => "monitor",
            Role::PlatformAdmin => "platform-admin",
        }
    }

    /// Parses a role name; `None` for a role the platform does not know.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One organisation a token holds: its alias and, in the map form, its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// `agii`, `bon`, `atlas`, `in-gent`, `ggc`, `huis-nl-brussel`, `municipality-<nis>`, …
    pub alias: String,
    /// Attributes of the map form, e.g. `nis` for a municipality.
    pub attributes: BTreeMap<String, Vec<String>>,
}

impl Organisation {
    /// A municipality's NIS code: its `nis` attribute, or the suffix of
    /// `municipality-<nis>` when the token uses the list form.
    pub fn nis(&self) -> Option<&str> {
        self.attributes
            .get("nis")
            .and_then(|v| v.first())
            .map(String::as_str)
            .or_else(|| self.alias.strip_prefix("municipality-"))
    }
}

/// The authenticated caller, acting for exactly one organisation.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's `sub` (a user or a service account id); not personal data of a
    /// newcomer, but still only logged as an id.
    pub subject: String,
    /// The organisation the caller acts for in this request.
    pub organisation: Organisation,
    /// Known roles from `realm_access.roles`.
    pub roles: BTreeSet<Role>,
}

impl Principal {
    /// Whether the caller holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// `Ok` when the caller holds `role`, else the refusal naming it.
    pub fn require(&self, role: Role) -> Result<(), AuthError> {
        if self.has(role) {
            Ok(())
        } else {
            Err(AuthError::MissingRole(role))
        }
    }

    /// The principal of the current request, put there by the platform's auth layer.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<&Principal, AuthError> {
        request
            .extensions()
            .get::<Principal>()
            .ok_or(AuthError::MissingToken)
    }
}

/// Why a caller was refused. The message is the reason the caller sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token in the authorization metadata")]
    MissingToken,
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    #[error("the token was signed with a key the issuer does not publish")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token is not meant for this audience")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token issuer cannot be reached to check the token")]
    IssuerUnavailable,
    #[error("the token carries no organisation")]
    NoOrganisation,
    #[error("the token holds several organisations; name one in x-organization")]
    AmbiguousOrganisation,
    #[error("x-organization names an organisation the token does not hold")]
    OrganisationNotHeld,
    #[error("the caller lacks the role {0}")]
    MissingRole(Role),
    /// The access gate's refusal: the RPC and the roles any of which it needs.
    #[error("{0}")]
    RpcNeedsRole(String),
    #[error("{0}")]
    Forbidden(String),
}

impl AuthError {
    /// A short, stable label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::Malformed(_) => "malformed",
            AuthError::AlgorithmNotAllowed(_) => "algorithm",
            AuthError::UnknownKey => "unknown_key",
            AuthError::BadSignature => "bad_signature",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::IssuerUnavailable => "issuer_unavailable",
            AuthError::NoOrganisation => "no_organisation",
            AuthError::AmbiguousOrganisation => "ambiguous_organisation",
            AuthError::OrganisationNotHeld => "organisation_not_held",
            AuthError::MissingRole(_) | AuthError::RpcNeedsRole(_) => "missing_role",
            AuthError::Forbidden(_) => "forbidden",
        }
    }
}

impl ServiceError for AuthError {
    fn auth(&self) -> Option<&dyn Refusal> {
        Some(self)
    }

    fn error_code(&self) -> ServiceErrorCode {
        match self {
            AuthError::MissingToken
            | AuthError::Malformed(_)
            | AuthError::AlgorithmNotAllowed(_)
            | AuthError::UnknownKey
            | AuthError::BadSignature
            | AuthError::WrongIssuer
            | AuthError::WrongAudience
            | AuthError::Expired
            | AuthError::NotYetValid => ServiceErrorCode::Unauthenticated,
            AuthError::IssuerUnavailable => ServiceErrorCode::Unavailable,
            AuthError::NoOrganisation
            | AuthError::AmbiguousOrganisation
            | AuthError::OrganisationNotHeld
            | AuthError::MissingRole(_)
            | AuthError::RpcNeedsRole(_)
            | AuthError::Forbidden(_) => ServiceErrorCode::PermissionDenied,
        }
    }
}

impl Refusal for AuthError {
    /// The status of a refusal, counted and logged: [`crate::error::into_status`] comes
    /// here for every error whose [`ServiceError::auth`] is one.
    fn status(&self) -> tonic::Status {
        crate::metrics::auth_refused(self.reason());
        tracing::warn!(reason = self.reason(), "request refused: {self}");
        let code = match self.error_code() {
            // The caller may retry; the message says which dependency, not its detail.
            ServiceErrorCode::Unavailable => tonic::Code::Unavailable,
            ServiceErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            _ => tonic::Code::PermissionDenied,
        };
        tonic::Status::new(code, self.to_string())
    }
}

impl From<AuthError> for tonic::Status {
    fn from(error: AuthError) -> Self {
        crate::error::into_status(error)
    }
}

/// Reads Keycloak's `organization` claim in both forms: a list of aliases, or a map from
/// alias to attributes (`{"atlas": {"id": "…", "kind": ["agency"]}}`).
pub fn parse_organisations(claim: &serde_json::Value) -> Result<Vec<Organisation>, AuthError> {
    use serde_json::Value;
    let malformed =
        || AuthError::Malformed("the organization claim is neither a list nor a map".into());
    match claim {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(alias) => Ok(Organisation {
                    alias: alias.clone(),
                    attributes: BTreeMap::new(),
                }),
                _ => Err(malformed()),
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(alias, attrs)| {
                let mut attributes = BTreeMap::new();
                if let Value::Object(attrs) = attrs {
                    for (name, value) in attrs {
                        let values = match value {
                            Value::String(s) => vec![s.clone()],
                            Value::Array(vs) => vs
                                .iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect(),
                            _ => continue,
                        };
                        attributes.insert(name.clone(), values);
                    }
                }
                Ok(Organisation {
                    alias: alias.clone(),
                    attributes,
                })
            })
            .collect(),
        _ => Err(malformed()),
    }
}

/// The agencies (by alias) whose cases an organisation's staff handle: AgII covers its
/// Brussels branch Bon; every other agency covers itself; other organisations none
/// (DESIGN.md §1, §5).
pub fn agency_scope(organisation: &Organisation) -> &'static [&'static str] {
    match organisation.alias.as_str() {
        "agii" => &["agii", "bon"],
        "bon" => &["bon"],
        "atlas" => &["atlas"],
        "in-gent" => &["in-gent"],
        _ => &[],
    }
}

/// The agencies a staff member in `role` works for: the role is required, and the
/// organisation must be an integration agency (AgII's area holds Bon's).
pub fn agency_staff(principal: &Principal, role: Role) -> Result<Vec<crate::Agency>, AuthError> {
    principal.require(role)?;
    let area: Vec<crate::Agency> = agency_scope(&principal.organisation)
        .iter()
        .filter_map(|a| crate::Agency::from_alias(a))
        .collect();
    if area.is_empty() {
        return Err(AuthError::Forbidden(format!(
            "organisation {} is not an integration agency",
            principal.organisation.alias
        )));
    }
    Ok(area)
}

/// Picks the organisation the caller acts for (DESIGN.md §5).
pub fn select_organisation(
    held: Vec<Organisation>,
    requested: Option<&str>,
) -> Result<Organisation, AuthError> {
    match requested {
        Some(alias) => held
            .into_iter()
            .find(|o| o.alias == alias)
            .ok_or(AuthError::OrganisationNotHeld),
        None => {
            let mut held = held.into_iter();
            match (held.next(), held.next()) {
                (None, _) => Err(AuthError::NoOrganisation),
                (Some(one), None) => Ok(one),
                (Some(_), Some(_)) => Err(AuthError::AmbiguousOrganisation),
            }
        }
    }
}

impl Agency {
    /// Whether staff of `organisation` handle this agency's cases ([`agency_scope`]:
    /// AgII covers Bon).
    pub fn covered_by(self, organisation: &Organisation) -> bool {
        agency_scope(organisation).contains(&self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_form_yields_aliases_without_attributes() {
        let orgs =
            parse_organisations(&json!(["atlas", "municipality-11002"])).expect("list parses");
        assert_eq!(orgs.len(), 2);
        assert_eq!(orgs[0].alias, "atlas");
        assert_eq!(orgs[1].nis(), Some("11002"));
    }

    #[test]
    fn map_form_yields_attributes_and_nis() {
        let orgs = parse_organisations(&json!({
            "municipality-44021": {"id": "b1", "nis": ["44021"], "kind": ["municipality"]}
        }))
        .expect("map parses");
        assert_eq!(orgs[0].nis(), Some("44021"));
        assert_eq!(orgs[0].attributes["id"], vec!["b1".to_string()]);
    }

    #[test]
    fn several_organisations_need_the_header_and_it_must_be_held() {
        let held = parse_organisations(&json!(["agii", "bon"])).expect("parses");
        assert_eq!(
            select_organisation(held.clone(), None),
            Err(AuthError::AmbiguousOrganisation)
        );
        assert_eq!(
            select_organisation(held.clone(), Some("atlas")),
            Err(AuthError::OrganisationNotHeld)
        );
        assert_eq!(
            select_organisation(held, Some("bon")).map(|o| o.alias),
            Ok("bon".to_string())
        );
    }

    #[test]
    fn a_number_is_not_an_organisation_claim() {
        assert!(parse_organisations(&json!(42)).is_err());
        assert_eq!(
            select_organisation(vec![], None),
            Err(AuthError::NoOrganisation)
        );
    }
}
