//! A Keycloak-shaped OIDC issuer for the embedded default and the tests.
//!
//! It serves `/realms/inburgering/.well-known/openid-configuration`, the JWKS under
//! `/protocol/openid-connect/certs`, and client-credentials tokens under
//! `/protocol/openid-connect/token`, signed RS256 with the claims Keycloak 26 emits
//! (`realm_access.roles`, `organization`, `aud`). It is for development only: its clients'
//! secrets are public and it must never face a network.

use std::{path::Path, sync::Arc, time::Duration};

use axum::{
    Form, Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use rsa::{
    RsaPrivateKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding},
    traits::PublicKeyParts,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::PlatformError;

/// The realm path every issuer URL ends in, as in Keycloak.
pub const REALM_PATH: &str = "/realms/inburgering";

/// A client of the dev issuer's client-credentials grant.
#[derive(Debug, Clone)]
pub struct DevClient {
    pub client_id: &'static str,
    pub organisation: Value,
    pub roles: &'static [&'static str],
}

/// The dev issuer's clients: one per agency back office, GGC, a public body checking the
/// obligation, an officer of two municipalities (Antwerpen, Gent) and AgII's monitoring.
/// Their secret is `dev-secret`.
pub fn dev_clients() -> Vec<DevClient> {
    vec![
        DevClient {
            client_id: "agii-backoffice",
            organisation: json!({"agii": {"kind": ["agency"]}}),
            roles: &["case-worker", "test-admin"],
        },
        DevClient {
            client_id: "bon-backoffice",
            organisation: json!({"bon": {"kind": ["agency"], "parent": ["agii"]}}),
            roles: &["case-worker", "test-admin"],
        },
        DevClient {
            client_id: "atlas-backoffice",
            organisation: json!({"atlas": {"kind": ["agency"], "nis": ["11002"]}}),
            roles: &["case-worker", "test-admin"],
        },
        DevClient {
            client_id: "in-gent-backoffice",
            organisation: json!({"in-gent": {"kind": ["agency"], "nis": ["44021"]}}),
            roles: &["case-worker", "test-admin"],
        },
        DevClient {
            client_id: "ggc-exchange",
            organisation: json!(["ggc"]),
            roles: &["partner-exchange"],
        },
        DevClient {
            client_id: "huis-nl-brussel-exchange",
            organisation: json!(["huis-nl-brussel"]),
            roles: &["partner-exchange"],
        },
        DevClient {
            client_id: "vsb-obligation-check",
            organisation: json!(["vlaamse-sociale-bescherming"]),
            roles: &["obligation-check"],
        },
        DevClient {
            client_id: "municipality-11002-officer",
            organisation: json!({"municipality-11002": {
                "kind": ["municipality"],
                "nis": ["11002"],
                "region": ["flanders"],
                "agency": ["atlas"],
            }}),
            roles: &["municipality-officer"],
        },
        DevClient {
            client_id: "municipality-44021-officer",
            organisation: json!({"municipality-44021": {
                "kind": ["municipality"],
                "nis": ["44021"],
                "region": ["flanders"],
                "agency": ["in-gent"],
            }}),
            roles: &["municipality-officer"],
        },
        DevClient {
            client_id: "municipality-11002-organiser",
            organisation: json!({"municipality-11002": {
                "kind": ["municipality"],
                "nis": ["11002"],
                "region": ["flanders"],
                "agency": ["atlas"],
            }}),
            roles: &["ceremony-organiser"],
        },
        DevClient {
            client_id: "municipality-44021-organiser",
            organisation: json!({"municipality-44021": {
                "kind": ["municipality"],
                "nis": ["44021"],
                "region": ["flanders"],
                "agency": ["in-gent"],
            }}),
            roles: &["ceremony-organiser"],
        },
        DevClient {
            client_id: "bon-recruitment-officer",
            organisation: json!({"bon": {"kind": ["agency"], "parent": ["agii"]}}),
            roles: &["recruitment-officer"],
        },
        DevClient {
            client_id: "municipality-21015-officer",
            organisation: json!({"municipality-21015": {
                "kind": ["municipality"],
                "nis": ["21015"],
                "region": ["brussels"],
                "agency": ["bon"],
            }}),
            roles: &["municipality-officer"],
        },
        DevClient {
            client_id: "atlas-interpreting-coordinator",
            organisation: json!({"atlas": {"kind": ["agency"], "nis": ["11002"]}}),
            roles: &["interpreting-coordinator"],
        },
        DevClient {
            client_id: "ocmw-antwerpen-interpreting-requester",
            organisation: json!({"ocmw-antwerpen": {"kind": ["public-body"], "nis": ["11002"]}}),
            roles: &["interpreting-requester"],
        },
        DevClient {
            client_id: "agii-monitor",
            organisation: json!({"agii": {"kind": ["agency"]}}),
            roles: &["monitor"],
        },
    ]
}

const DEV_SECRET: &str = "dev-secret";

/// The dev issuer: an RSA key and the issuer URL it signs for.
pub struct DevIssuer {
    issuer: String,
    audience: String,
    kid: String,
    key: RsaPrivateKey,
    encoding: EncodingKey,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl DevIssuer {
    /// An issuer with a fresh key (tests).
    pub fn generate(
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, PlatformError> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|e| PlatformError::Oidc(format!("generating key: {e}")))?;
        Self::with_key(issuer.into(), audience.into(), key)
    }

    /// An issuer whose key lives in `path` (PEM, created on first use), so tokens printed
    /// by `inburgering token` stay valid across restarts of `inburgering dev`.
    pub fn load_or_create(
        path: &Path,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, PlatformError> {
        let key = match std::fs::read_to_string(path) {
            Ok(pem) => RsaPrivateKey::from_pkcs8_pem(&pem)
                .map_err(|e| PlatformError::Oidc(format!("reading {}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
                    .map_err(|e| PlatformError::Oidc(format!("generating key: {e}")))?;
                let pem = key
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| PlatformError::Oidc(format!("encoding key: {e}")))?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(path, pem.as_bytes())?;
                key
            }
            Err(e) => return Err(e.into()),
        };
        Self::with_key(issuer.into(), audience.into(), key)
    }

    fn with_key(
        issuer: String,
        audience: String,
        key: RsaPrivateKey,
    ) -> Result<Self, PlatformError> {
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| PlatformError::Oidc(format!("encoding key: {e}")))?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| PlatformError::Oidc(format!("loading key: {e}")))?;
        let n = key.n().to_bytes_be();
        // The kid is derived from the key so that a rotated key gets a new kid.
        let kid = URL_SAFE_NO_PAD.encode(&n[..12]);
        Ok(Self {
            issuer,
            audience,
            kid,
            key,
            encoding,
        })
    }

    /// The issuer URL (`http://127.0.0.1:<port>/realms/inburgering`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience tokens are minted for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The key id in the JWKS and in every token header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as SPKI PEM (tests use it to forge HS256 tokens that must fail).
    pub fn public_key_pem(&self) -> String {
        self.key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("an in-memory RSA public key always encodes")
    }

    /// The claims Keycloak would put in an access token for this organisation and roles.
    pub fn claims(
        &self,
        subject: &str,
        organisation: Value,
        roles: &[&str],
        ttl: Duration,
    ) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "azp": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl.as_secs() as i64,
            "typ": "Bearer",
            "realm_access": {"roles": roles},
            "organization": organisation,
        })
    }

    /// Signs arbitrary claims with the issuer's key (RS256, with its kid).
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("RS256 signing of JSON claims with a valid key cannot fail")
    }

    /// A token for one organisation alias and roles, valid for an hour.
    pub fn token(&self, organisation: &str, roles: &[&str]) -> String {
        let subject = format!("dev-{organisation}");
        self.sign(&self.claims(
            &subject,
            json!([organisation]),
            roles,
            Duration::from_secs(3600),
        ))
    }

    fn discovery(&self) -> Value {
        let base = format!("{}/protocol/openid-connect", self.issuer);
        json!({
            "issuer": self.issuer,
            "authorization_endpoint": format!("{base}/auth"),
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/certs"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        })
    }

    fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(self.key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(self.key.e().to_bytes_be()),
        }]})
    }

    /// The HTTP routes, mounted at the root (the realm path is part of each route).
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(
                &format!("{REALM_PATH}/.well-known/openid-configuration"),
                get(|State(issuer): State<Arc<DevIssuer>>| async move { Json(issuer.discovery()) }),
            )
            .route(
                &format!("{REALM_PATH}/protocol/openid-connect/certs"),
                get(|State(issuer): State<Arc<DevIssuer>>| async move { Json(issuer.jwks()) }),
            )
            .route(
                &format!("{REALM_PATH}/protocol/openid-connect/token"),
                post(token_endpoint),
            )
            .with_state(self)
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    client_id: String,
    client_secret: String,
}

async fn token_endpoint(
    State(issuer): State<Arc<DevIssuer>>,
    Form(request): Form<TokenRequest>,
) -> Response {
    let error = |code: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": code, "error_description": description})),
        )
            .into_response()
    };
    if request.grant_type != "client_credentials" {
        return error(
            "unsupported_grant_type",
            "only client_credentials is offered",
        );
    }
    let Some(client) = dev_clients()
        .into_iter()
        .find(|c| c.client_id == request.client_id)
    else {
        return error("invalid_client", "unknown client");
    };
    if request.client_secret != DEV_SECRET {
        return error("invalid_client", "wrong client secret");
    }
    let ttl = Duration::from_secs(300);
    let subject = format!("service-account-{}", client.client_id);
    let token = issuer.sign(&issuer.claims(&subject, client.organisation, client.roles, ttl));
    Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
    }))
    .into_response()
}
