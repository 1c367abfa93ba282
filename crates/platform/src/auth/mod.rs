//! Who is calling: OIDC access-token validation and the [`Principal`] it yields.
//!
//! Tokens come from a Keycloak-compatible issuer (DESIGN.md §5). Roles come from
//! `realm_access.roles`; the organisation from Keycloak 26's `organization` claim, in
//! either of its forms. Each service decides with its own policy function what a
//! principal may do; this module only establishes who the principal is. Refusals carry a
//! reason and never personal data.

//!
//! The module is only its parts: [`principal`] (roles, organisations, the principal),
//! [`access`] (who may call which RPC), the token [`Verifier`] and the [`DevIssuer`];
//! [`AuthError`], why a caller was refused, lives beside the principal.

pub mod access;
mod dev_issuer;
pub mod principal;
mod verifier;

pub use access::{ANYONE, AccessTable, Orgs, Rule};
pub use dev_issuer::{DevClient, DevIssuer, dev_clients};
pub use principal::{
    AuthError, ORGANISATION_HEADER, Organisation, Principal, Role, agency_scope, agency_staff,
    parse_organisations, select_organisation,
};
pub use verifier::Verifier;
#[doc(hidden)]
pub use verifier::{header, principal_from_claims};
