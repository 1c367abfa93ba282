//! The access matrix (issue 13): every RPC of every service, from the descriptor set, called
//! without a token, with an expired one, and as every role of every kind of organisation.
//! [`matrix::MATRIX`] says who may call what; an RPC missing from it fails the test, and so
//! does an entry for an RPC that no longer exists. `bola` checks that objects of one
//! organisation are never returned to, or changed by, another.
mod bola;
mod dynamic;
mod matrix;

use std::{collections::BTreeMap, time::Duration};

use futures::{StreamExt, stream};
use inburgering_testkit::spawn_app;
use platform::Role;
use prost_reflect::{DynamicMessage, MethodDescriptor};
use serde_json::json;
use tonic::Code;

use dynamic::{Channels, methods, rpc_name};
use matrix::{MATRIX, ORGANISATIONS};

/// One call's RPC, caller (none: no or an expired token), whether it had a token, code and
/// message.
type Outcome<'a> = (String, Option<(Role, &'a str)>, bool, Code, String);

/// Whether a status is a refusal of the caller (as opposed to the request).
fn refused(code: Code) -> bool {
    matches!(code, Code::Unauthenticated | Code::PermissionDenied)
}

#[tokio::test]
async fn every_rpc_refuses_every_caller_the_matrix_does_not_allow() {
    let app = spawn_app().await;
    let channels = Channels::of(&app).await;
    let methods = methods();

    // The matrix and the descriptor set name the same RPCs.
    let matrix: BTreeMap<&str, &[(Role, &[&str])]> =
        MATRIX.iter().map(|(rpc, who)| (*rpc, *who)).collect();
    assert_eq!(matrix.len(), MATRIX.len(), "an RPC is in the matrix twice");
    let served: Vec<String> = methods.iter().map(rpc_name).collect();
    let missing: Vec<&String> = served
        .iter()
        .filter(|rpc| !matrix.contains_key(rpc.as_str()))
        .collect();
    let gone: Vec<&&str> = matrix
        .keys()
        .filter(|rpc| !served.iter().any(|s| s == **rpc))
        .collect();
    let dump = std::env::var_os("INBURGERING_MATRIX_DUMP").is_some();
    if !dump {
        assert!(
            missing.is_empty(),
            "RPCs without a matrix entry: {missing:?}"
        );
        assert!(
            gone.is_empty(),
            "matrix entries for RPCs not served: {gone:?}"
        );
    }

    // Every caller: one role of one organisation.
    let mut callers = Vec::new();
    for organisation in ORGANISATIONS {
        for role in Role::ALL {
            callers.push((
                role,
                *organisation,
                app.token(organisation, &[role.as_str()]),
            ));
        }
    }
    let expired = {
        let mut claims = app.dev_issuer.claims(
            "dev-atlas",
            json!(["atlas"]),
            &Role::ALL.map(Role::as_str),
            Duration::from_secs(1),
        );
        claims["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
        app.dev_issuer.sign(&claims)
    };

    type Case<'a> = (
        &'a MethodDescriptor,
        Option<(Role, &'a str)>,
        Option<&'a str>,
    );
    let mut cases: Vec<Case> = Vec::new();
    for method in &methods {
        cases.push((method, None, None));
        cases.push((method, None, Some(expired.as_str())));
        for (role, organisation, token) in &callers {
            cases.push((method, Some((*role, *organisation)), Some(token.as_str())));
        }
    }
    let total = cases.len();
    let results: Vec<Outcome> = stream::iter(cases)
        .map(|(method, caller, token)| {
            let channels = channels.clone();
            async move {
                let empty = DynamicMessage::new(method.input());
                let outcome = channels.call(method, empty, token).await;
                let (code, message) = match outcome {
                    Ok(_) => (Code::Ok, String::new()),
                    Err(s) => (s.code(), s.message().to_owned()),
                };
                (rpc_name(method), caller, token.is_some(), code, message)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(results.len(), total);

    if dump {
        let mut allowed: BTreeMap<String, BTreeMap<Role, Vec<&str>>> = BTreeMap::new();
        for (rpc, caller, _, code, _) in &results {
            let entry = allowed.entry(rpc.clone()).or_default();
            if let Some((role, organisation)) = caller
                && !refused(*code)
            {
                entry.entry(*role).or_default().push(organisation);
            }
        }
        for (rpc, roles) in allowed {
            let who: Vec<String> = roles
                .iter()
                .map(|(role, orgs)| format!("(Role::{role:?}, &{orgs:?})"))
                .collect();
            println!("MATRIX (\"{rpc}\", &[{}]),", who.join(", "));
        }
        return;
    }

    let mut wrong = Vec::new();
    let mut allowed_calls = 0;
    for (rpc, caller, has_token, code, message) in &results {
        let expected_refusal = match caller {
            None => Some(Code::Unauthenticated),
            Some((role, organisation)) => {
                let may = matrix[rpc.as_str()]
                    .iter()
                    .any(|(r, orgs)| r == role && orgs.contains(organisation));
                (!may).then_some(Code::PermissionDenied)
            }
        };
        let what = match caller {
            None if *has_token => "an expired token".to_owned(),
            None => "no token".to_owned(),
            Some((role, org)) => format!("{} of {org}", role.as_str()),
        };
        match expected_refusal {
            Some(expected) if *code != expected => wrong.push(format!(
                "{rpc} as {what}: expected {expected:?}, got {code:?} {message:?}"
            )),
            Some(_) if message.is_empty() => {
                wrong.push(format!("{rpc} as {what}: refused without a reason"))
            }
            None if refused(*code) => wrong.push(format!(
                "{rpc} as {what}: allowed by the matrix, refused with {code:?} {message:?}"
            )),
            None => allowed_calls += 1,
            Some(_) => {}
        }
    }
    println!(
        "access matrix: {} RPCs, {total} calls, {allowed_calls} allowed, {} refused as expected",
        methods.len(),
        total - allowed_calls - wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{} calls disagree with the matrix:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    app.stop().await;
}
