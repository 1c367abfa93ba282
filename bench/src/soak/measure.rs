//! How far behind the consumers are: dev's `/metrics` (the `messaging_consumer_lag` gauge,
//! the largest lags seen) and the services' SQLite files read directly (events staged in
//! an outbox against those applied in an inbox).

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    path::Path,
    time::{Duration, Instant},
};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::topics::{Group, Topic, groups, topics};

// Metrics ----------------------------------------------------------------------------------

/// dev's `/metrics` body, or `None` when it does not answer.
pub(crate) async fn scrape(addr: SocketAddr) -> Option<String> {
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
    };
    tokio::time::timeout(Duration::from_secs(10), fetch)
        .await
        .ok()
        .flatten()
}

/// `messaging_consumer_lag` summed over partitions, per consumer group.
pub(crate) fn lag_by_group(metrics: &str) -> BTreeMap<String, i64> {
    let mut lag = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("messaging_consumer_lag{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let Some(group) = labels
            .split("messaging_consumer_group_name=\"")
            .nth(1)
            .and_then(|g| g.split('"').next())
        else {
            continue;
        };
        let value = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        *lag.entry(group.to_owned()).or_insert(0) += value as i64;
    }
    lag
}

/// The largest lags `/metrics` showed.
#[derive(Debug, Default)]
pub(crate) struct LagWatch {
    pub(crate) scrapes: u64,
    pub(crate) failed: u64,
    /// The largest sum over every group at one scrape, and when (from the load's start).
    pub(crate) max_total: i64,
    pub(crate) max_total_at: Duration,
    max_by_group: BTreeMap<String, i64>,
    pub(crate) now_total: i64,
}

impl LagWatch {
    /// The groups that were ever behind, with their largest lag.
    pub(crate) fn per_group(&self) -> String {
        let behind: Vec<String> = self
            .max_by_group
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(g, n)| format!("{g} {n}"))
            .collect();
        if behind.is_empty() {
            "0 for every group".to_owned()
        } else {
            behind.join(", ")
        }
    }

    pub(crate) fn observe(&mut self, lag: &BTreeMap<String, i64>, at: Duration) {
        self.scrapes += 1;
        let total: i64 = lag.values().sum();
        self.now_total = total;
        if total > self.max_total {
            self.max_total = total;
            self.max_total_at = at;
        }
        for (group, n) in lag {
            let max = self.max_by_group.entry(group.clone()).or_insert(0);
            *max = (*max).max(*n);
        }
    }
}

// The SQLite files -------------------------------------------------------------------------

/// Each service's SQLite file, opened read-only.
pub(crate) struct Files {
    pub(crate) dbs: BTreeMap<&'static str, DatabaseConnection>,
}

impl Files {
    /// Opens every file, waiting (at most `patience`) for the services to create them.
    pub(crate) async fn open(data: &Path, patience: Duration) -> Result<Files, String> {
        let deadline = Instant::now() + patience;
        let mut dbs = BTreeMap::new();
        for t in topics() {
            let path = data.join(format!("{}.sqlite", t.service));
            let db = loop {
                let url = format!("sqlite://{}?mode=ro", path.display());
                let mut options = ConnectOptions::new(url);
                options
                    .max_connections(1)
                    .min_connections(1)
                    .sqlx_logging(false);
                match Database::connect(options).await {
                    Ok(db) => break db,
                    Err(e) if Instant::now() >= deadline => {
                        return Err(format!("open {} read-only: {e}", path.display()));
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            };
            dbs.insert(t.service, db);
        }
        Ok(Files { dbs })
    }

    fn db(&self, service: &str) -> &DatabaseConnection {
        self.dbs.get(service).expect("every service's file is open")
    }

    async fn try_rows(
        &self,
        service: &str,
        sql: &str,
    ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        let db = self.db(service);
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
    }

    async fn rows(&self, service: &str, sql: &str) -> Vec<sea_orm::QueryResult> {
        self.try_rows(service, sql)
            .await
            .unwrap_or_else(|e| panic!("{service}: {sql}: {e}"))
    }

    /// The first column of the first row; `None` when the query fails.
    pub(crate) async fn count(&self, service: &str, sql: &str) -> Option<i64> {
        self.try_rows(service, sql)
            .await
            .ok()?
            .first()
            .and_then(|r| r.try_get_by_index::<i64>(0).ok())
    }

    pub(crate) async fn ids(&self, service: &str, sql: &str) -> BTreeSet<String> {
        self.rows(service, sql)
            .await
            .iter()
            .filter_map(|r| r.try_get_by_index::<String>(0).ok())
            .collect()
    }

    async fn staged(&self, topic: &Topic) -> Option<i64> {
        self.count(
            topic.service,
            &format!(
                "select count(*) from outbox where topic = '{}'",
                topic.topic
            ),
        )
        .await
    }

    async fn applied(&self, group: &Group) -> Option<i64> {
        self.count(
            group.service,
            &format!(
                "select count(*) from inbox where consumer = '{}' and topic = '{}'",
                group.group, group.topic
            ),
        )
        .await
    }

    /// The groups declared, and any other whose inbox holds rows.
    pub(crate) async fn all_groups(&self) -> Vec<Group> {
        let mut all: BTreeSet<Group> = groups().into_iter().collect();
        for t in topics() {
            for row in self
                .rows(t.service, "select distinct consumer, topic from inbox")
                .await
            {
                if let (Ok(group), Ok(topic)) = (
                    row.try_get_by_index::<String>(0),
                    row.try_get_by_index::<String>(1),
                ) {
                    all.insert(Group {
                        group,
                        topic,
                        service: t.service,
                    });
                }
            }
        }
        all.into_iter().collect()
    }

    /// Per group, the events staged on its topic that its inbox does not count yet;
    /// `None` when a file could not be read this time.
    pub(crate) async fn lag(&self, groups: &[Group]) -> Option<BTreeMap<String, i64>> {
        let mut staged = BTreeMap::new();
        for t in topics() {
            staged.insert(t.topic, self.staged(&t).await?);
        }
        let mut lag = BTreeMap::new();
        for g in groups {
            let want = staged.get(g.topic.as_str()).copied().unwrap_or(0);
            let behind = (want - self.applied(g).await?).max(0);
            lag.insert(g.group.clone(), behind);
        }
        Some(lag)
    }
}
