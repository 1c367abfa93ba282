//! The suite's fault scenario (`Plan::short()`, what `it::faults` runs) again and again
//! while both cores are kept busy: two busy loops (`bash -c 'while …; do :; done'`) run
//! beside each run, as a CI machine's other jobs would. Each run is a `bench-faults
//! --short` process of its own, so that a failed run (a panic in `assert_sound`) does not
//! end the bench; its exit code tells pass or fail.
//!
//! Per run it prints pass or fail and the seconds from the end of the last fault
//! (PostgreSQL accepting again) until every consumer group had applied every staged
//! event; then the passes and the minimum, median and maximum of those seconds. It exits
//! non-zero when a run failed, never because of a time.
//!
//! `CONTENDED_RUNS` (default 10) sets the number of runs. Each run's whole output is kept
//! in a log file (its path is printed). Run with `scripts/bench [--release] contended`.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

/// The prefix of `bench-faults`' line with the seconds from the last fault to lag 0.
const LAG_LINE: &str = "last fault → lag 0:";

/// Longer than a short run can take (its drain alone gives up after 60 s): a run still
/// going then is killed and counted as failed; the busy loops end by then on their own
/// even if this process is killed.
const RUN_BOUND: Duration = Duration::from_secs(900);

/// Busy loops: one per core of the machine the figures are for (2).
const BURNERS: usize = 2;

/// How one run ended.
#[derive(Debug)]
struct Outcome {
    passed: bool,
    /// `Some(seconds)` when every group reached lag 0; `None` when it never did or the
    /// line is missing.
    lag_zero_after: Option<f64>,
    /// The line as printed (or why there is none).
    lag_text: String,
    took: Duration,
    /// Why it failed: the first lines of its panic, or its exit status.
    failure: Option<String>,
    log: PathBuf,
}

/// Two (or [`BURNERS`]) busy loops, killed on drop, bounded in time by themselves.
struct Burners(Vec<Child>);

impl Burners {
    fn start(bound: Duration) -> Burners {
        // bash's SECONDS: a loop of builtins only, so the one process is all there is to
        // kill, and it ends by itself after `bound`.
        let script = format!("while [ $SECONDS -lt {} ]; do :; done", bound.as_secs());
        let children = (0..BURNERS)
            .map(|_| {
                Command::new("bash")
                    .arg("-c")
                    .arg(&script)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .expect("start a busy loop (bash)")
            })
            .collect();
        Burners(children)
    }

    async fn stop(mut self) {
        for child in &mut self.0 {
            let _ = child.kill().await;
        }
    }
}

fn runs() -> usize {
    std::env::var("CONTENDED_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(10)
}

fn bench_faults() -> PathBuf {
    let exe = std::env::current_exe().expect("this executable's path");
    let bin = exe.with_file_name("bench-faults");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --workspace --bins` (scripts/bench does)",
        bin.display()
    );
    bin
}

/// The seconds of a `last fault → lag 0: 12.3 s` line; `None` for `never …`.
fn parse_lag(line: &str) -> Option<f64> {
    line.strip_prefix(LAG_LINE)?
        .trim()
        .strip_suffix(" s")?
        .trim()
        .parse()
        .ok()
}

/// Why a run failed, from its output: the panic message's first lines (the list of what
/// is wrong comes first, then the figures).
fn failure_reason(output: &str) -> Option<String> {
    let mut lines = output.lines().skip_while(|l| !l.contains("panicked at"));
    let at = lines.next()?;
    let mut reason = vec![at.trim().to_owned()];
    reason.extend(lines.take(2).map(|l| l.trim().to_owned()));
    Some(reason.join(" | "))
}

async fn run_once(bin: &Path, log: PathBuf) -> Outcome {
    let file = std::fs::File::create(&log)
        .unwrap_or_else(|e| panic!("create the run's log {}: {e}", log.display()));
    let burners = Burners::start(RUN_BOUND);
    let started = Instant::now();
    let mut child = Command::new(bin)
        .arg("--short")
        .stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone().expect("log handle")))
        .stderr(Stdio::from(file))
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let status = match tokio::time::timeout(RUN_BOUND, child.wait()).await {
        Ok(status) => Some(status.expect("wait for bench-faults")),
        Err(_) => {
            let _ = child.kill().await;
            None
        }
    };
    let took = started.elapsed();
    burners.stop().await;

    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let lag_text = output
        .lines()
        .find(|l| l.starts_with(LAG_LINE))
        .map_or_else(|| format!("{LAG_LINE} (no such line)"), str::to_owned);
    let lag_zero_after = parse_lag(&lag_text);
    let passed = status.is_some_and(|s| s.success());
    let failure = (!passed).then(|| match status {
        None => format!("still running after {} s: killed", RUN_BOUND.as_secs()),
        Some(status) => failure_reason(&output).unwrap_or_else(|| format!("exited with {status}")),
    });
    Outcome {
        passed,
        lag_zero_after,
        lag_text,
        took,
        failure,
        log,
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[tokio::main]
async fn main() {
    let runs = runs();
    let bin = bench_faults();
    let logs = std::env::temp_dir().join(format!("inburgering-contended-{}", std::process::id()));
    std::fs::create_dir_all(&logs).unwrap_or_else(|e| panic!("create {}: {e}", logs.display()));
    println!(
        "inburgering faults under contention ({} build): the suite's fault scenario (Plan::short) {runs} times, each beside {BURNERS} busy loops",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("  each run's output: {}/run-<n>.log", logs.display());

    let mut outcomes = Vec::new();
    for n in 1..=runs {
        let outcome = run_once(&bin, logs.join(format!("run-{n}.log"))).await;
        println!(
            "run {n:>2}/{runs}: {}  {}  (run took {:.0} s)",
            if outcome.passed { "pass" } else { "FAIL" },
            outcome.lag_text,
            outcome.took.as_secs_f64()
        );
        if let Some(why) = &outcome.failure {
            println!("        {why}");
            println!("        log: {}", outcome.log.display());
        }
        outcomes.push(outcome);
    }

    let passes = outcomes.iter().filter(|o| o.passed).count();
    let mut lags: Vec<f64> = outcomes.iter().filter_map(|o| o.lag_zero_after).collect();
    lags.sort_by(f64::total_cmp);
    println!("passes {passes}/{runs}");
    match (lags.first(), lags.last()) {
        (Some(min), Some(max)) => println!(
            "last fault → lag 0 (s), over the {} runs that drained: min {min:.1}, median {:.1}, max {max:.1}",
            lags.len(),
            median(&lags)
        ),
        _ => println!("last fault → lag 0: no run drained"),
    }
    if passes < runs {
        std::process::exit(1);
    }
}
