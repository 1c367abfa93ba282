//! The operator's commands as an operator meets them: the real `inburgering` binary, its
//! flags, what it says when it is called wrongly, and the logs it writes to a pipe.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

const CSV_HEADER: &str = "year,municipality,kind,invitations,participants,reported_rate\n";

/// Runs `inburgering args…` in a scratch folder, with none of the caller's `INBURGERING_*`
/// settings and with backtraces asked for: a mistake must still print one line.
fn inburgering(args: &[&str], env: &[(&str, &str)]) -> Output {
    let cwd = scratch("cwd");
    let mut command =
        std::process::Command::new(inburgering_testkit::workspace_binary("inburgering"));
    command.args(args).current_dir(&cwd);
    for (key, _) in std::env::vars() {
        if key.starts_with("INBURGERING_") {
            command.env_remove(key);
        }
    }
    let output = command
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run inburgering");
    assert!(
        is_empty(&cwd),
        "inburgering {args:?} left files in its working folder"
    );
    output
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cli-{name}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one line a mistake prints, asserting that it is one line, with no backtrace or
/// Debug dump of an error chain, and the exit code.
fn one_line(output: &Output, code: i32) -> String {
    let text = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit code; stderr:\n{text}"
    );
    assert_eq!(text.trim_end().lines().count(), 1, "one line:\n{text}");
    for dump in ["backtrace", "Caused by", "Error {", "panicked"] {
        assert!(!text.contains(dump), "{dump:?} in:\n{text}");
    }
    assert!(text.starts_with("inburgering: "), "{text}");
    text
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn token_refuses_a_data_dir_without_the_dev_issuers_key_instead_of_making_one() {
    let empty = scratch("token-empty");
    let out = inburgering(
        &[
            "token",
            "--org",
            "atlas",
            "--role",
            "case-worker",
            "--data-dir",
            path(&empty),
        ],
        &[],
    );
    let line = one_line(&out, 2);
    assert!(line.contains(path(&empty)), "names the folder: {line}");
    assert!(out.stdout.is_empty(), "no token printed");
    assert!(is_empty(&empty), "no key made in {}", empty.display());

    let missing = empty.join("not-there");
    let out = inburgering(
        &["token", "--org", "atlas", "--role", "case-worker"],
        &[("INBURGERING_DATA_DIR", path(&missing))],
    );
    let line = one_line(&out, 2);
    assert!(
        line.contains(&format!("--data-dir {}: no such folder", missing.display())),
        "{line}"
    );
    assert!(!missing.exists(), "the folder was not made");
}

#[test]
fn token_signs_with_the_key_dev_keeps_in_the_data_dir() {
    let data = scratch("token-key");
    let issuer_url = "http://127.0.0.1:18180/realms/inburgering";
    let dev = platform::auth::DevIssuer::load_or_create(
        &data.join("dev-issuer").join("key.pem"),
        issuer_url,
        "inburgering",
    )
    .unwrap();
    let out = inburgering(
        &[
            "token",
            "--org",
            "atlas",
            "--role",
            "case-worker",
            "--data-dir",
            path(&data),
            "--issuer",
            issuer_url,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(dev.public_key_pem().as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["inburgering"]);
    validation.set_issuer(&[issuer_url]);
    jsonwebtoken::decode::<serde_json::Value>(token.trim(), &key, &validation)
        .expect("the token verifies with dev's key");
}

#[test]
fn an_import_refuses_a_data_dir_without_the_services_database_and_creates_nothing() {
    let files = scratch("import-files");
    let overview = files.join("overview.csv");
    std::fs::write(&overview, CSV_HEADER).unwrap();
    let register = files.join("register.csv");
    std::fs::write(&register, "national_number,register,registration_date,municipality_nis,nationality,languages,given_name,family_name,street,postal_code,city\n").unwrap();

    let empty = scratch("import-empty");
    let out = inburgering(
        &[
            "ceremonies",
            "import",
            path(&overview),
            "--data-dir",
            path(&empty),
        ],
        &[],
    );
    let line = one_line(&out, 2);
    assert!(
        line.contains(path(&empty)) && line.contains("ceremonies"),
        "{line}"
    );
    assert!(is_empty(&empty), "nothing made in {}", empty.display());

    let out = inburgering(
        &["recruitment", "import-register", path(&register)],
        &[
            ("INBURGERING_DATA_DIR", path(&empty)),
            ("INBURGERING_TOKEN", "not-checked-before-the-database"),
        ],
    );
    let line = one_line(&out, 2);
    assert!(
        line.contains(path(&empty)) && line.contains("recruitment"),
        "{line}"
    );
    assert!(is_empty(&empty), "nothing made in {}", empty.display());

    let missing = empty.join("not-there");
    let out = inburgering(
        &[
            "ceremonies",
            "report",
            "--year",
            "2019",
            "--data-dir",
            path(&missing),
        ],
        &[],
    );
    let line = one_line(&out, 2);
    assert!(line.contains("no such folder"), "{line}");
    assert!(!missing.exists());
}

#[test]
fn logs_are_json_when_they_go_to_a_pipe_and_commands_find_what_migrate_made() {
    let data = scratch("migrate");
    let out = inburgering(
        &["migrate", "ceremonies", "--data-dir", path(&data)],
        &[("INBURGERING_LOG", "info")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "database migrated"),
        "{stdout}"
    );
    assert!(data.join("ceremonies.sqlite").is_file());

    // The folder now holds the database: the report reads it (an empty year).
    let out = inburgering(
        &[
            "ceremonies",
            "report",
            "--year",
            "2019",
            "--data-dir",
            path(&data),
        ],
        &[("INBURGERING_LOG", "warn")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("year,"));

    // INBURGERING_LOG_FORMAT=text asks for readable lines even on a pipe.
    let text = scratch("migrate-text");
    let out = inburgering(
        &["migrate", "ceremonies", "--data-dir", path(&text)],
        &[
            ("INBURGERING_LOG", "info"),
            ("INBURGERING_LOG_FORMAT", "text"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("database migrated"), "{stdout}");
    assert!(!stdout.trim_start().starts_with('{'), "{stdout}");
}

#[test]
fn a_service_that_does_not_answer_is_a_failure_of_one_line_with_exit_code_one() {
    let out = inburgering(
        &[
            "stats",
            "brussels",
            "--from",
            "2024-01-01",
            "--to",
            "2024-12-31",
            "--trajectories-url",
            "http://127.0.0.1:1",
        ],
        &[("INBURGERING_TOKEN", "a-token")],
    );
    let line = one_line(&out, 1);
    assert!(line.contains("http://127.0.0.1:1"), "{line}");

    let out = inburgering(
        &[
            "stats",
            "brussels",
            "--from",
            "2024-01-01",
            "--to",
            "2024-12-31",
        ],
        &[],
    );
    let line = one_line(&out, 2);
    assert!(line.contains("INBURGERING_TOKEN"), "{line}");
}

#[test]
fn every_command_on_the_data_folder_or_a_service_lists_the_same_flags_in_its_help() {
    let data_dir: &[&[&str]] = &[
        &["dev"],
        &["serve"],
        &["migrate"],
        &["token"],
        &["ceremonies", "import"],
        &["ceremonies", "report"],
        &["recruitment", "import-register"],
        &["recruitment", "letters"],
    ];
    for command in data_dir {
        let help = help(command);
        assert!(
            help.contains("--data-dir <DIR>") && help.contains("INBURGERING_DATA_DIR"),
            "{command:?} --help:\n{help}"
        );
    }
    let trajectories: &[&[&str]] = &[
        &["serve"],
        &["recruitment", "import-register"],
        &["stats", "brussels"],
    ];
    for command in trajectories {
        let help = help(command);
        assert!(
            help.contains("--trajectories-url <URL>")
                && help.contains("INBURGERING_TRAJECTORIES_URL"),
            "{command:?} --help:\n{help}"
        );
    }
    for command in [&["events", "tail"], &["events", "replay"]] {
        let help = help(command);
        assert!(
            help.contains("--brokers") && help.contains("INBURGERING_KAFKA_BROKERS"),
            "{command:?} --help:\n{help}"
        );
    }
}

fn help(command: &[&str]) -> String {
    let mut args = command.to_vec();
    args.push("--help");
    let out = inburgering(&args, &[]);
    assert!(out.status.success(), "{command:?} --help: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}
