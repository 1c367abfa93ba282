//! What the chart ships agrees with what the services do: the dashboards query only
//! metrics that `/metrics` really serves, and the realm export, the dev issuer, the test
//! provider and the services' roles are one set.

use std::{collections::BTreeSet, path::PathBuf, time::Duration};

use inburgering_testkit::{eventually, kafka, register_start_sign, spawn_app};
use platform::{Role, auth::dev_clients};
use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn collect_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", Value::String(expr)) => out.push(expr.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

/// PromQL words that are not metric names.
const PROMQL: &[&str] = &[
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "rate",
    "irate",
    "increase",
    "histogram_quantile",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "topk",
    "bottomk",
    "clamp_min",
    "clamp_max",
    "abs",
    "delta",
    "deriv",
    "vector",
    "scalar",
    "time",
    "offset",
    "bool",
    "label_replace",
    "sort",
    "sort_desc",
    "max_over_time",
    "min_over_time",
    "avg_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "absent",
    "ceil",
    "floor",
    "round",
    "changes",
    "resets",
    "quantile_over_time",
    "group",
];

/// The metric names a PromQL expression reads: identifiers outside label matchers,
/// strings, ranges and grouping clauses, that are not functions or keywords.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut last_word = String::new();
    while i < chars.len() {
        let c = chars[i];
        let skip_to = |open: char, close: char, from: usize| {
            let mut depth = 0;
            let mut j = from;
            while j < chars.len() {
                if chars[j] == open {
                    depth += 1;
                } else if chars[j] == close {
                    depth -= 1;
                    if depth == 0 {
                        return j + 1;
                    }
                }
                j += 1;
            }
            j
        };
        if c == '{' {
            i = skip_to('{', '}', i);
        } else if c == '[' {
            i = skip_to('[', ']', i);
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            i += 1;
        } else if c == '('
            && [
                "by",
                "without",
                "on",
                "ignoring",
                "group_left",
                "group_right",
            ]
            .contains(&last_word.as_str())
        {
            i = skip_to('(', ')', i);
            last_word.clear();
        } else if c.is_ascii_digit() {
            // A number or a duration (`offset 15m`): its letters are no metric.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            last_word.clear();
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == ':'
                    || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut k = i;
            while k < chars.len() && chars[k] == ' ' {
                k += 1;
            }
            let is_call = k < chars.len() && chars[k] == '(';
            if !is_call && !word.starts_with('$') && !PROMQL.contains(&word.as_str()) {
                names.push(word.clone());
            }
            last_word = word;
        } else {
            if !c.is_whitespace() {
                last_word.clear();
            }
            i += 1;
        }
    }
    names
}

/// The names of the samples `/metrics` serves.
async fn served_names() -> BTreeSet<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(platform::metrics::serve(listener, stop.clone()));
    let body = openidconnect::reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    stop.cancel();
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_dashboard_query_reads_a_metric_the_services_serve() {
    // Exercise what the dashboards watch, so every family has samples: calls, a refusal,
    // events through the outbox to a consumer, a dead letter, the consumer's lag.
    let app = spawn_app().await;
    let signed = register_start_sign(&app, 850_730_033).await;
    let _ = app
        .trajectories()
        .await
        .list_trajectories(proto::trajectories::v1::ListTrajectoriesRequest::default())
        .await;
    kafka::produce(
        &app.broker.address(),
        "trajectories.events.v1",
        "poison",
        &[("ce_id", "not-a-uuid")],
        b"x",
    )
    .await;
    let served = eventually(
        "every metric family to have samples",
        Duration::from_secs(30),
        || async {
            let names = served_names().await;
            [
                "messaging_consumer_lag",
                "messaging_consumer_stalled",
                "messaging_dead_lettered_total",
                "auth_refusals_total",
                "outbox_backlog",
                "outbox_oldest_unsent_age_seconds",
            ]
            .iter()
            .all(|n| names.contains(*n))
            .then_some(names)
        },
    )
    .await;
    let _ = signed;
    assert!(
        served.contains("rpc_server_duration_seconds_bucket"),
        "{served:?}"
    );
    let dir = repo("helm/inburgering/dashboards");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let dashboard: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut exprs = Vec::new();
        collect_exprs(&dashboard, &mut exprs);
        for expr in exprs {
            for name in metric_names(&expr) {
                assert!(
                    served.contains(&name),
                    "{}: {name} (in {expr}) is not served; served: {served:?}",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 10,
        "the dashboards hold queries ({checked} metric references)"
    );
    // The alert rules too: an alert on a metric nobody serves never fires.
    let rules = std::fs::read_to_string(repo("helm/inburgering/files/alerts.yml")).unwrap();
    let mut alerts = 0;
    for expr in alert_exprs(&rules) {
        for name in metric_names(&expr) {
            assert!(
                served.contains(&name),
                "alerts.yml: {name} (in {expr}) is not served; served: {served:?}"
            );
            alerts += 1;
        }
    }
    assert!(
        alerts >= 7,
        "the alert rules hold expressions ({alerts} metric references)"
    );
}

/// The `expr` of every rule in a Prometheus rules file: one line, or a `|` block.
fn alert_exprs(rules: &str) -> Vec<String> {
    let mut exprs = Vec::new();
    let mut lines = rules.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((indent, rest)) = line.split_once("expr:") else {
            continue;
        };
        let rest = rest.trim();
        if rest != "|" && rest != "|-" {
            exprs.push(rest.to_owned());
            continue;
        }
        let mut block = String::new();
        while let Some(next) = lines.peek() {
            let deeper = next.len() > indent.len() + 2
                && next.chars().take(indent.len() + 2).all(char::is_whitespace);
            if !deeper && !next.trim().is_empty() {
                break;
            }
            block.push_str(next.trim());
            block.push(' ');
            lines.next();
        }
        exprs.push(block);
    }
    exprs
}

#[test]
fn metric_names_are_read_from_promql() {
    assert_eq!(
        metric_names(
            r#"histogram_quantile(0.95, sum by (le, rpc_method) (rate(rpc_server_duration_seconds_bucket{rpc_service=~"$s"}[$__rate_interval])))"#
        ),
        ["rpc_server_duration_seconds_bucket"]
    );
    assert_eq!(
        metric_names("sum(outbox_backlog) / sum(rate(outbox_published_total[5m]))"),
        ["outbox_backlog", "outbox_published_total"]
    );
    assert_eq!(
        metric_names("(x_total unless x_total offset 15m) > 0.25 and y_seconds > 60"),
        ["x_total", "x_total", "y_seconds"]
    );
    let rules = "      - alert: A\n        expr: a_total > 1\n        for: 2m\n      - alert: B\n        expr: |\n          max(\n            b_seconds\n          ) > 60\n        for: 1m\n";
    assert_eq!(
        alert_exprs(rules),
        ["a_total > 1", "max( b_seconds ) > 60 "]
    );
}

#[test]
fn the_realm_export_dev_issuer_test_provider_and_services_share_one_set_of_roles() {
    let known: BTreeSet<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let realm = json("infra/keycloak/inburgering-realm.json");
    let realm_roles: BTreeSet<&str> = realm["roles"]["realm"]
        .as_array()
        .expect("realm roles")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .filter(|r| {
            !r.starts_with("default-roles") && !["offline_access", "uma_authorization"].contains(r)
        })
        .collect();
    assert_eq!(
        realm_roles, known,
        "realm export roles = the platform's roles"
    );

    let realm_clients: BTreeSet<&str> = realm["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .filter_map(|c| c["clientId"].as_str())
        .collect();
    for client in dev_clients() {
        assert!(
            realm_clients.contains(client.client_id),
            "dev client {} is missing from the realm",
            client.client_id
        );
        for role in client.roles {
            assert!(
                known.contains(role),
                "dev client {} has unknown role {role}",
                client.client_id
            );
        }
    }
    let provider = json("tests/oidc-provider/clients.json");
    for client in provider.as_array().expect("clients.json is a list") {
        for role in client["roles"].as_array().expect("roles") {
            assert!(
                known.contains(role.as_str().unwrap()),
                "oidc-provider client has unknown role {role}"
            );
        }
    }

    // The token carries the organisation claim and the audience the services expect.
    let text = std::fs::read_to_string(repo("infra/keycloak/inburgering-realm.json")).unwrap();
    assert!(
        text.contains("oidc-organization-membership-mapper"),
        "the Organization Membership mapper"
    );
    assert!(
        text.contains("\"included.custom.audience\": \"inburgering\"")
            || text.contains("\"included.client.audience\": \"inburgering\""),
        "the audience mapper"
    );
    let orgs: BTreeSet<&str> = realm["organizations"]
        .as_array()
        .expect("organizations")
        .iter()
        .filter_map(|o| o["alias"].as_str())
        .collect();
    for alias in [
        "agii",
        "bon",
        "atlas",
        "in-gent",
        "ggc",
        "huis-nl-brussel",
        "municipality-11002",
        "municipality-44021",
    ] {
        assert!(
            orgs.contains(alias),
            "organisation {alias} is missing from the realm"
        );
    }
}
