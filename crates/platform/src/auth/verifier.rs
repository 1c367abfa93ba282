//! Access-token validation against an OIDC issuer's discovery document and JWKS.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind, jwk::JwkSet};
use openidconnect::{IssuerUrl, JsonWebKeySetUrl, core::CoreProviderMetadata};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::{AuthError, Organisation, Principal, Role, parse_organisations, select_organisation};

/// Asymmetric algorithms only: `none` and HS* (which a public key would let anyone forge)
/// are refused before any key is looked at.
const ALLOWED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];
/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;
/// Keys are trusted this long before the JWKS is fetched again.
const JWKS_TTL: Duration = Duration::from_secs(300);
/// An unknown `kid` refetches the JWKS at most this often, so forged kids cannot make us
/// hammer the issuer.
const REFETCH_MIN_INTERVAL: Duration = Duration::from_secs(5);

struct Key {
    decoding: DecodingKey,
    /// The algorithm the JWK pins, if it names one.
    alg: Option<Algorithm>,
}

#[derive(Default)]
struct Cache {
    jwks_uri: Option<JsonWebKeySetUrl>,
    keys: HashMap<String, Arc<Key>>,
    fetched_at: Option<Instant>,
}

/// Validates bearer tokens of one issuer for one audience.
pub struct Verifier {
    issuer: String,
    audience: String,
    http: openidconnect::reqwest::Client,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    azp: Option<String>,
    #[serde(default)]
    realm_access: RealmAccess,
    #[serde(default)]
    organization: serde_json::Value,
}

#[derive(Deserialize, Default)]
struct RealmAccess {
    #[serde(default)]
    roles: Vec<String>,
}

/// The algorithm and key id of `token`'s header, refused before any key is looked at
/// when the algorithm is not an accepted one or no key is named. Public for the fuzz
/// targets (`fuzz/`); services call [`Verifier::verify`].
#[doc(hidden)]
pub fn header(token: &str) -> Result<(Algorithm, String), AuthError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| AuthError::Malformed(format!("header: {e}")))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(AuthError::AlgorithmNotAllowed(format!("{:?}", header.alg)));
    }
    let kid = header
        .kid
        .ok_or_else(|| AuthError::Malformed("the header names no key (kid)".into()))?;
    Ok((header.alg, kid))
}

/// The principal of verified `claims`, acting for `requested_org` or the only
/// organisation the token holds.
fn principal(claims: Claims, requested_org: Option<&str>) -> Result<Principal, AuthError> {
    let organisations: Vec<Organisation> = parse_organisations(&claims.organization)?;
    let organisation = select_organisation(organisations, requested_org)?;
    Ok(Principal {
        subject: claims.sub.or(claims.azp).unwrap_or_default(),
        organisation,
        roles: claims
            .realm_access
            .roles
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect(),
    })
}

/// The principal of a token's claims set as JSON (the decoded payload, whose signature,
/// issuer, audience and times [`Verifier::verify`] checks first), read into the same
/// claims type `verify` reads. Public for the fuzz targets (`fuzz/`); services call
/// [`Verifier::verify`].
#[doc(hidden)]
pub fn principal_from_claims(
    json: &[u8],
    requested_org: Option<&str>,
) -> Result<Principal, AuthError> {
    let claims: Claims =
        serde_json::from_slice(json).map_err(|e| AuthError::Malformed(format!("claims: {e}")))?;
    principal(claims, requested_org)
}

impl Verifier {
    /// A verifier for tokens of `issuer` meant for `audience`. Nothing is fetched until
    /// the first token arrives, so a service starts even while the issuer is down.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a reqwest client with default TLS always builds");
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            http,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The issuer this verifier trusts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Validates `token` and returns the principal acting for `requested_org` (the
    /// `x-organization` metadata) or for the token's only organisation.
    pub async fn verify(
        &self,
        token: &str,
        requested_org: Option<&str>,
    ) -> Result<Principal, AuthError> {
        let (alg, kid) = header(token)?;
        let key = self.key(&kid).await?;
        if key.alg.is_some_and(|a| a != alg) {
            return Err(AuthError::AlgorithmNotAllowed(format!("{alg:?}")));
        }

        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).map_err(
            |e| match e.kind() {
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidAlgorithm => AuthError::AlgorithmNotAllowed(format!("{alg:?}")),
                other => AuthError::Malformed(format!("{other:?}")),
            },
        )?;
        principal(data.claims, requested_org)
    }

    async fn key(&self, kid: &str) -> Result<Arc<Key>, AuthError> {
        let mut cache = self.cache.lock().await;
        let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < JWKS_TTL);
        if fresh && let Some(key) = cache.keys.get(kid) {
            return Ok(key.clone());
        }
        let may_refetch = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= REFETCH_MIN_INTERVAL);
        if may_refetch {
            self.refresh(&mut cache).await?;
        }
        cache.keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
    }

    /// Fetches discovery (once) and the JWKS. The lock is held on purpose: concurrent
    /// requests with a new kid wait for one fetch instead of each making their own.
    async fn refresh(&self, cache: &mut Cache) -> Result<(), AuthError> {
        let jwks_uri = match &cache.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let issuer = IssuerUrl::new(self.issuer.clone())
                    .map_err(|_| AuthError::IssuerUnavailable)?;
                let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| {
                        tracing::warn!(issuer = %self.issuer, error = %e, "OIDC discovery failed");
                        AuthError::IssuerUnavailable
                    })?;
                let uri = metadata.jwks_uri().clone();
                cache.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let response = self
            .http
            .get(jwks_uri.url().clone())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| {
                tracing::warn!(issuer = %self.issuer, error = %e, "JWKS fetch failed");
                AuthError::IssuerUnavailable
            })?;
        let body = response.bytes().await.map_err(|e| {
            tracing::warn!(issuer = %self.issuer, error = %e, "JWKS unreadable");
            AuthError::IssuerUnavailable
        })?;
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| {
            tracing::warn!(issuer = %self.issuer, error = %e, "JWKS is not a JWK set");
            AuthError::IssuerUnavailable
        })?;
        cache.keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let decoding = DecodingKey::from_jwk(jwk).ok()?;
                let alg = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| a.to_string().parse::<Algorithm>().ok());
                Some((kid, Arc::new(Key { decoding, alg })))
            })
            .collect();
        cache.fetched_at = Some(Instant::now());
        tracing::info!(issuer = %self.issuer, keys = cache.keys.len(), "JWKS refreshed");
        Ok(())
    }
}
