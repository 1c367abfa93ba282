//! The issuers tests trust: the platform's dev issuer, and the independent
//! `oidc-provider` (npm) that the test command starts.

use std::sync::Arc;

use platform::auth::DevIssuer;
use tokio::net::TcpListener;

/// Serves a fresh dev issuer on a port of its own; `(issuer, issuer URL)`.
pub async fn serve_dev_issuer() -> (Arc<DevIssuer>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let url = format!(
        "http://{}/realms/inburgering",
        listener.local_addr().expect("bound address")
    );
    let issuer = Arc::new(DevIssuer::generate(url.clone(), "inburgering").expect("RSA key"));
    let router = issuer.clone().router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (issuer, url)
}

/// The issuer URL of the `oidc-provider` the test command started
/// (`INBURGERING_TEST_OIDC_ISSUER`).
pub fn provider_issuer() -> String {
    std::env::var("INBURGERING_TEST_OIDC_ISSUER").expect(
        "INBURGERING_TEST_OIDC_ISSUER is not set: run the tests with scripts/test, which starts oidc-provider",
    )
}

/// A client-credentials access token from `oidc-provider` for `client_id`
/// (clients in tests/oidc-provider/clients.json; secret `test-secret`).
pub async fn provider_token(client_id: &str) -> String {
    let url = format!("{}/protocol/openid-connect/token", provider_issuer());
    let response = openidconnect::reqwest::Client::new()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", "test-secret"),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("oidc-provider at {url} does not answer: {e}"));
    let status = response.status();
    let bytes = response.bytes().await.expect("token response body");
    let body: serde_json::Value = serde_json::from_slice(&bytes).expect("token response is JSON");
    assert!(
        status.is_success(),
        "token request for {client_id} failed: {body}"
    );
    body["access_token"]
        .as_str()
        .expect("access_token in the token response")
        .to_owned()
}
