//! The first gate of every call: which roles, in which kinds of organisation, may call an
//! RPC at all. Each service declares one [`Rule`] per RPC ([`ServiceModule::ACCESS`]); the
//! auth layer applies it after the token check and before the handler sees the request,
//! so a caller without the role learns nothing of the request's validation. An RPC
//! without a rule is refused, and a service whose rules and served RPCs differ does not
//! start. What a permitted caller may see of the data (its agency's trajectories, its
//! municipality's ceremonies) stays with the service's policy.
//!
//! [`ServiceModule::ACCESS`]: crate::runtime::ServiceModule::ACCESS

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;

use super::{AuthError, Principal, Role, agency_scope};

/// The organisations a permitted role must act for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orgs {
    /// Any organisation.
    Any,
    /// An integration agency (AgII, Bon, Atlas, In-Gent).
    Agencies,
    /// A municipality, `municipality-<nis>`, whose `nis` attribute (when it has one) is
    /// the same code.
    Municipalities,
    /// Exactly these aliases.
    Only(&'static [&'static str]),
}

impl Orgs {
    fn admits(self, principal: &Principal) -> bool {
        let org = &principal.organisation;
        match self {
            Orgs::Any => true,
            Orgs::Agencies => !agency_scope(org).is_empty(),
            Orgs::Municipalities => org
                .alias
                .strip_prefix("municipality-")
                .is_some_and(|nis| !nis.is_empty() && org.nis() == Some(nis)),
            Orgs::Only(aliases) => aliases.contains(&org.alias.as_str()),
        }
    }

    fn describe(self) -> String {
        match self {
            Orgs::Any => "any organisation".into(),
            Orgs::Agencies => "an integration agency".into(),
            Orgs::Municipalities => "a municipality".into(),
            Orgs::Only(aliases) => aliases.join(" or "),
        }
    }
}

/// Who may call one RPC, `package.Service/Method`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub rpc: &'static str,
    /// `(role, organisations)`: a caller holding one role in one of its organisations.
    pub allow: &'static [(Role, Orgs)],
}

/// Every authenticated caller (reference data such as the municipality register).
pub const ANYONE: &[(Role, Orgs)] = &[
    (Role::CaseWorker, Orgs::Any),
    (Role::TestAdmin, Orgs::Any),
    (Role::CeremonyOrganiser, Orgs::Any),
    (Role::RecruitmentOfficer, Orgs::Any),
    (Role::InterpretingCoordinator, Orgs::Any),
    (Role::InterpretingRequester, Orgs::Any),
    (Role::MunicipalityOfficer, Orgs::Any),
    (Role::PartnerExchange, Orgs::Any),
    (Role::ObligationCheck, Orgs::Any),
    (Role::Monitor, Orgs::Any),
    (Role::PlatformAdmin, Orgs::Any),
];

/// The rules of the services one server hosts, looked up by request path.
#[derive(Debug, Clone, Default)]
pub struct AccessTable {
    rules: BTreeMap<String, &'static [(Role, Orgs)]>,
}

impl AccessTable {
    /// The table of `rules`, checked against the RPCs of `services` in `descriptor`:
    /// every served RPC has exactly one rule and every rule names a served RPC.
    pub fn new(
        rules: &'static [Rule],
        services: &[&str],
        descriptor: &[u8],
    ) -> Result<Self, String> {
        let set = prost_types::FileDescriptorSet::decode(descriptor)
            .map_err(|e| format!("the descriptor set does not decode: {e}"))?;
        let mut served = BTreeSet::new();
        for file in &set.file {
            for service in &file.service {
                let name = format!("{}.{}", file.package(), service.name());
                if services.contains(&name.as_str()) {
                    for method in &service.method {
                        served.insert(format!("{name}/{}", method.name()));
                    }
                }
            }
        }
        let mut table = BTreeMap::new();
        for rule in rules {
            if table.insert(rule.rpc.to_owned(), rule.allow).is_some() {
                return Err(format!("two access rules for {}", rule.rpc));
            }
        }
        let missing: Vec<&String> = served.iter().filter(|s| !table.contains_key(*s)).collect();
        if !missing.is_empty() {
            return Err(format!("RPCs without an access rule: {missing:?}"));
        }
        let unknown: Vec<&String> = table.keys().filter(|k| !served.contains(*k)).collect();
        if !unknown.is_empty() {
            return Err(format!("access rules for RPCs not served: {unknown:?}"));
        }
        Ok(Self { rules: table })
    }

    /// Whether `principal` may call the RPC at `path` (`/package.Service/Method`).
    pub fn check(&self, path: &str, principal: &Principal) -> Result<(), AuthError> {
        let rpc = path.trim_start_matches('/');
        let allow = self
            .rules
            .get(rpc)
            .ok_or_else(|| AuthError::Forbidden(format!("{rpc} has no access rule")))?;
        if allow
            .iter()
            .any(|(role, orgs)| principal.has(*role) && orgs.admits(principal))
        {
            return Ok(());
        }
        // The refusal names what would have been needed, never the request.
        let held: Vec<&(Role, Orgs)> = allow.iter().filter(|(r, _)| principal.has(*r)).collect();
        if held.is_empty() {
            let roles: BTreeSet<&str> = allow.iter().map(|(r, _)| r.as_str()).collect();
            let roles: Vec<&str> = roles.into_iter().collect();
            return Err(AuthError::RpcNeedsRole(format!(
                "{rpc} needs the role {}",
                roles.join(" or ")
            )));
        }
        let wanted: Vec<String> = held
            .iter()
            .map(|(r, o)| format!("{} of {}", r.as_str(), o.describe()))
            .collect();
        Err(AuthError::Forbidden(format!(
            "{rpc} needs {}; organisation {} is not one",
            wanted.join(" or "),
            principal.organisation.alias
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Organisation;

    fn principal(alias: &str, nis: Option<&str>, roles: &[Role]) -> Principal {
        Principal {
            subject: "s".into(),
            organisation: Organisation {
                alias: alias.into(),
                attributes: nis
                    .map(|n| [("nis".to_string(), vec![n.to_string()])].into())
                    .unwrap_or_default(),
            },
            roles: roles.iter().copied().collect(),
        }
    }

    fn table() -> AccessTable {
        AccessTable {
            rules: [
                (
                    "p.S/Agency".to_owned(),
                    &[(Role::CaseWorker, Orgs::Agencies)][..],
                ),
                (
                    "p.S/Town".to_owned(),
                    &[(Role::MunicipalityOfficer, Orgs::Municipalities)][..],
                ),
            ]
            .into(),
        }
    }

    #[test]
    fn a_role_counts_only_in_the_kind_of_organisation_its_rule_names() {
        let t = table();
        let atlas = principal("atlas", None, &[Role::CaseWorker]);
        assert!(t.check("/p.S/Agency", &atlas).is_ok());
        let ggc = principal("ggc", None, &[Role::CaseWorker]);
        let refused = t.check("/p.S/Agency", &ggc).expect_err("ggc is no agency");
        assert!(refused.to_string().contains("organisation ggc is not one"));
        let monitor = principal("atlas", None, &[Role::Monitor]);
        let refused = t.check("/p.S/Agency", &monitor).expect_err("no role");
        assert!(refused.to_string().contains("needs the role case-worker"));
        assert!(t.check("/p.S/Unknown", &atlas).is_err());
    }

    #[test]
    fn a_municipality_is_its_alias_and_an_agreeing_nis() {
        let t = table();
        let ok = principal("municipality-11002", None, &[Role::MunicipalityOfficer]);
        assert!(t.check("/p.S/Town", &ok).is_ok());
        let attr = principal(
            "municipality-11002",
            Some("11002"),
            &[Role::MunicipalityOfficer],
        );
        assert!(t.check("/p.S/Town", &attr).is_ok());
        let disagree = principal(
            "municipality-11002",
            Some("44021"),
            &[Role::MunicipalityOfficer],
        );
        assert!(t.check("/p.S/Town", &disagree).is_err());
        let other = principal("atlas", Some("11002"), &[Role::MunicipalityOfficer]);
        assert!(t.check("/p.S/Town", &other).is_err());
    }
}
