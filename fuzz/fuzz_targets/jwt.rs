//! JWT parsing in `platform::auth`: the header check every bearer token meets first
//! (`auth::header`: `jsonwebtoken::decode_header`, the accepted algorithms, the `kid`),
//! the claims set read into the `Principal` (`auth::principal_from_claims`: `sub`/`azp`,
//! `realm_access.roles`, Keycloak's `organization` claim as a list of aliases or a map
//! with attributes, `auth::parse_organisations`, `auth::select_organisation` with and
//! without `x-organization`), and what services read of a principal
//! (`Organisation::nis`, `auth::agency_scope`).
//!
//! The input is tried as a whole token, as a claims JSON document, and, when it has the
//! form `header.payload.signature`, its payload decoded as a token's is.
//!
//! Asserts: nothing panics; an accepted header names an asymmetric algorithm (never
//! `none` or HS*) and a key; a principal acts for an organisation the claims hold (the
//! requested one when one is named) and has only roles the platform knows; refusals are
//! `AuthError`s with a reason.
#![no_main]

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;
use platform::auth::{self, Role};

/// The algorithms `Verifier` accepts, by their `Debug` name, written out again.
fn is_asymmetric(name: &str) -> bool {
    matches!(
        name,
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "EdDSA"
    )
}

const REQUESTED: [Option<&str>; 4] = [None, Some("bon"), Some("municipality-44021"), Some("")];

fn claims(json: &[u8]) {
    for requested in REQUESTED {
        match auth::principal_from_claims(json, requested) {
            Ok(p) => {
                if let Some(alias) = requested {
                    assert_eq!(p.organisation.alias, alias);
                }
                assert!(p.roles.iter().all(|r| Role::parse(r.as_str()) == Some(*r)));
                let _ = p.organisation.nis();
                let _ = auth::agency_scope(&p.organisation);
                for role in Role::ALL {
                    let _ = auth::agency_staff(&p, role);
                }
            }
            Err(e) => assert!(!e.reason().is_empty()),
        }
    }
    // The organisation claim alone, whatever JSON it is.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) {
        let claim = value.get("organization").unwrap_or(&value);
        if let Ok(held) = auth::parse_organisations(claim) {
            for o in &held {
                let _ = o.nis();
            }
            let _ = auth::select_organisation(held, None);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match auth::header(&text) {
        Ok((alg, kid)) => {
            assert!(is_asymmetric(&format!("{alg:?}")), "{alg:?} accepted");
            let _ = kid;
        }
        Err(e) => assert!(!e.reason().is_empty()),
    }
    claims(data);
    let mut parts = text.split('.');
    if let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
        && let Ok(json) = URL_SAFE_NO_PAD.decode(payload)
    {
        claims(&json);
    }
});
