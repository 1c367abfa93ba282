//! The local monitor over 1M projected facts: `GetLocalMonitor` for one municipality and
//! one year through gRPC (auth, the two aggregate queries, disclosure control, encoding)
//! against the same two aggregates as plain SQL on the same PostgreSQL. Prints both and
//! their ratio; asserts nothing about time.
//!
//! Run with `scripts/bench`.

use std::time::{Duration, Instant};

use proto::municipalities::v1 as pb;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use secrecy::ExposeSecret;
use testkit::{authed, spawn_app};

const FACTS: i64 = 1_000_000;
const ROUNDS: usize = 50;

/// 1M facts as the projection writes them: seven measures over 50 Flemish municipalities
/// (Antwerp and Ghent weighted as the big cities they are) and five years, about three facts
/// per trajectory.
const FILL: &str = "
insert into monitor_fact (subject, measure, nis, year, quarter, person_ref, amount)
select 'bench:' || g,
       (array['trajectories-started', 'contracts-signed', 'components-completed',
              'attests-issued', 'obligations-breached', 'participation-placements',
              'participation-hours'])[1 + g % 7],
       case when g % 10 < 3 then '11002' when g % 10 < 5 then '44021'
            else (array['11001','11004','11005','12002','12007','13001','13008','23002',
                        '23003','24001','24009','24062','31003','31005','32003','33011',
                        '34002','34022','35002','35013','36006','36015','37002','38002',
                        '41002','41011','42003','42006','43002','43005','44001','44011',
                        '45035','45041','46021','46024','71004','71011','71016','71053',
                        '72003','72004','72020','73001','73042','73066','73107','46025',
                        '44086','71072'])[1 + (g / 10) % 50] end,
       2022 + (g / 7) % 5,
       1 + (g / 35) % 4,
       md5((g / 3)::text)::uuid,
       case when g % 7 = 6 then 1 + g % 12 else 1 end
from generate_series(1, $FACTS) g";

const BY_QUARTER: &str = "select measure, quarter, count(*), count(distinct person_ref), \
    coalesce(sum(amount), 0) from monitor_fact where nis = $1 and year = $2 \
    group by measure, quarter";
const BY_YEAR: &str = "select measure, count(*), count(distinct person_ref), \
    coalesce(sum(amount), 0) from monitor_fact where nis = $1 and year = $2 \
    group by measure";

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() * 9 / 10])
}

#[tokio::main]
async fn main() {
    let app = spawn_app().await;
    let db = Database::connect(app.municipalities_db.expose_secret())
        .await
        .expect("municipalities database");
    let started = Instant::now();
    execute(&db, &FILL.replace("$FACTS", &FACTS.to_string())).await;
    // As autovacuum would after such a load: statistics, and the visibility map that lets
    // the aggregates read the covering index alone.
    execute(&db, "vacuum analyze monitor_fact").await;
    println!(
        "monitor: {FACTS} facts projected in {:.1} s (bulk insert)",
        started.elapsed().as_secs_f64()
    );

    // The same two aggregates, as literals and as the prepared statements with parameters
    // that the service sends.
    let backend = db.get_database_backend();
    let mut literal = Vec::with_capacity(ROUNDS);
    let mut sql = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for query in [BY_QUARTER, BY_YEAR] {
            let text = query.replace("$1", "'11002'").replace("$2", "2026");
            db.query_all_raw(Statement::from_string(backend, text))
                .await
                .expect("aggregate");
        }
        literal.push(t.elapsed());
        let t = Instant::now();
        for query in [BY_QUARTER, BY_YEAR] {
            db.query_all_raw(Statement::from_sql_and_values(
                backend,
                query,
                ["11002".into(), 2026i32.into()],
            ))
            .await
            .expect("aggregate");
        }
        sql.push(t.elapsed());
    }
    let (literal_median, literal_p90) = summary(literal);
    println!(
        "monitor: plain SQL aggregates as literals (Antwerp, 2026): median {:.1} ms, p90 {:.1} ms",
        literal_median.as_secs_f64() * 1e3,
        literal_p90.as_secs_f64() * 1e3
    );

    let token = app.token("agii", &["monitor"]);
    let mut client = app.municipalities().await;
    let mut grpc = Vec::with_capacity(ROUNDS);
    let mut rows = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let report = client
            .get_local_monitor(authed(
                pb::GetLocalMonitorRequest {
                    municipality_nis: "11002".into(),
                    year: 2026,
                },
                &token,
            ))
            .await
            .expect("monitor")
            .into_inner();
        grpc.push(t.elapsed());
        rows = report.rows.len();
    }
    let (sql_median, sql_p90) = summary(sql);
    let (grpc_median, grpc_p90) = summary(grpc);
    println!(
        "monitor: plain SQL aggregates with parameters: median {:.1} ms, p90 {:.1} ms",
        sql_median.as_secs_f64() * 1e3,
        sql_p90.as_secs_f64() * 1e3
    );
    println!(
        "monitor: GetLocalMonitor over gRPC ({rows} rows): median {:.1} ms, p90 {:.1} ms",
        grpc_median.as_secs_f64() * 1e3,
        grpc_p90.as_secs_f64() * 1e3
    );
    println!(
        "monitor: ratio gRPC / SQL with parameters (median) = {:.2}; / SQL as literals = {:.2}",
        grpc_median.as_secs_f64() / sql_median.as_secs_f64(),
        grpc_median.as_secs_f64() / literal_median.as_secs_f64()
    );
    db.close().await.ok();
    app.stop().await;
}
