//! The ceremonies' report for one year over 1M attests and their invitations: `GetReport`
//! through gRPC (auth, the aggregate over ceremonies and invitations, the imported
//! overviews, names, totals, encoding) against the same aggregate as plain SQL on the
//! same PostgreSQL. Prints both and their ratio; asserts nothing about time.
//!
//! Run with `scripts/bench`.

use std::time::{Duration, Instant};

use proto::ceremonies::v1 as pb;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use secrecy::ExposeSecret;
use testkit::{authed, spawn_app};

const ATTESTS: i64 = 1_000_000;
const ROUNDS: usize = 30;

/// 300 municipalities (Flemish and Brussels codes of the register), five years, both
/// kinds: 3,000 ceremonies held, one invitation per attest of the municipality and year,
/// about 60% of the invited came.
const FILL: [&str; 4] = [
    "insert into attest (trajectory_id, person_id, nis, agency, issued_on)
     select md5('t' || g)::uuid, md5('p' || g)::uuid, m.code, coalesce(m.agency, 'agii'),
            make_date(2022 + g % 5, 1 + (g / 5) % 12, 1 + (g / 60) % 28)
     from generate_series(1, $ATTESTS) g
     join (select code, agency, row_number() over (order by code) - 1 as n
           from municipality where code = current_nis and agency is not null limit 300) m
       on m.n = (g / 7) % 300",
    "insert into ceremony (id, nis, agency, kind, date, year, place, host, capacity,
                           attest_from, attest_to, co_organiser, min_age, max_age, state,
                           invitations, rounds, created_by, cancel_reason)
     select md5(a.nis || y || k)::uuid, a.nis, min(a.agency), k, make_date(y, 12, 15), y,
            'Stadhuis', 'mayor', 5000, make_date(y, 1, 1), make_date(y, 12, 14), null,
            case when k = 'youth' then 12 end, case when k = 'youth' then 30 end, 'held',
            count(*), 1, 'bench', null
     from attest a, generate_series(2022, 2026) y, unnest(array['integration', 'youth']) k
     where extract(year from a.issued_on) = y
     group by a.nis, y, k",
    "insert into invitation (id, ceremony_id, person_id, given_name, family_name,
                             contact_language, attest_issued_on, late_addition, invited_at,
                             rsvp, guests, attended_at, cancellation_sent)
     select md5('i' || a.trajectory_id)::uuid,
            md5(a.nis || extract(year from a.issued_on)::int
                || case when hashtext(a.person_id::text) % 5 = 0 then 'youth' else 'integration' end)::uuid,
            a.person_id, 'Bench', 'Invitee', 'fr', a.issued_on, false, now(), 'yes', 1,
            case when hashtext(a.trajectory_id::text) % 10 < 6 then now() end, false
     from attest a",
    // What CloseCeremony writes: the counts of its invitations.
    "update ceremony c set invitations = x.n, participants = x.a, no_shows = x.y - x.a
     from (select ceremony_id, count(*) as n, count(attended_at) as a, count(*) as y
           from invitation group by ceremony_id) x
     where x.ceremony_id = c.id",
];

/// The same figures as a plain SQL aggregate over the invitations themselves.
const OVER_INVITATIONS: &str = "select c.nis, c.kind, count(distinct c.id) as held, \
    count(i.id) as invitations, count(i.attended_at) as participants \
    from ceremony as c left join invitation as i on i.ceremony_id = c.id \
    where c.year = $1 and c.state = $2 group by c.nis, c.kind";
/// The statement the service sends: held ceremonies carry their counts from closing.
const AS_THE_SERVICE: &str = "select nis, kind, count(id) as held, \
    cast(sum(invitations) as bigint) as invitations, \
    cast(sum(coalesce(participants, 0)) as bigint) as participants \
    from ceremony where year = $1 and state = $2 group by nis, kind";

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() * 9 / 10])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let app = spawn_app().await;
    let db = Database::connect(app.ceremonies_db.expose_secret())
        .await
        .expect("ceremonies database");
    let started = Instant::now();
    for sql in FILL {
        execute(&db, &sql.replace("$ATTESTS", &ATTESTS.to_string())).await;
    }
    execute(&db, "vacuum analyze attest, ceremony, invitation").await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("count")
                .expect("a row");
            row.try_get_by_index::<i64>(0).expect("a count")
        }
    };
    println!(
        "ceremonies: {} attests, {} ceremonies, {} invitations loaded in {:.1} s (bulk insert)",
        count("select count(*) from attest").await,
        count("select count(*) from ceremony").await,
        count("select count(*) from invitation").await,
        started.elapsed().as_secs_f64()
    );

    let backend = db.get_database_backend();
    let timed = |query: &'static str| {
        let db = db.clone();
        async move {
            let mut samples = Vec::with_capacity(ROUNDS);
            let mut groups = 0;
            for _ in 0..ROUNDS {
                let t = Instant::now();
                let rows = db
                    .query_all_raw(Statement::from_sql_and_values(
                        backend,
                        query,
                        [2026i32.into(), "held".into()],
                    ))
                    .await
                    .expect("aggregate");
                samples.push(t.elapsed());
                groups = rows.len();
            }
            (samples, groups)
        }
    };
    let (over_invitations, groups) = timed(OVER_INVITATIONS).await;
    let (as_service, _) = timed(AS_THE_SERVICE).await;

    let token = app.token("agii", &["monitor"]);
    let mut client = app.ceremonies().await;
    let mut grpc = Vec::with_capacity(ROUNDS);
    let mut rows = 0;
    let mut invitations = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let report = client
            .get_report(authed(
                pb::GetReportRequest {
                    year: 2026,
                    municipality_nis: String::new(),
                    agency: 0,
                },
                &token,
            ))
            .await
            .expect("report")
            .into_inner();
        grpc.push(t.elapsed());
        rows = report.rows.len();
        invitations = report
            .rows
            .iter()
            .filter_map(|r| r.invitations)
            .sum::<i32>();
    }
    let (sql_median, sql_p90) = summary(over_invitations);
    let (service_median, service_p90) = summary(as_service);
    let (grpc_median, grpc_p90) = summary(grpc);
    println!(
        "ceremonies: plain SQL aggregate over the invitations for 2026 ({groups} groups): median {:.1} ms, p90 {:.1} ms",
        ms(sql_median),
        ms(sql_p90)
    );
    println!(
        "ceremonies: plain SQL of the service's statement (counts kept at closing): median {:.2} ms, p90 {:.2} ms",
        ms(service_median),
        ms(service_p90)
    );
    println!(
        "ceremonies: GetReport over gRPC ({rows} rows, {invitations} invitations): median {:.1} ms, p90 {:.1} ms",
        ms(grpc_median),
        ms(grpc_p90)
    );
    println!(
        "ceremonies: ratio gRPC / plain SQL over the invitations (median) = {:.2}; / the service's statement = {:.1}",
        grpc_median.as_secs_f64() / sql_median.as_secs_f64(),
        grpc_median.as_secs_f64() / service_median.as_secs_f64()
    );
    db.close().await.ok();
    app.stop().await;
}
