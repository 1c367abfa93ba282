//! Runs one service the same way everywhere (`inburgering serve <service>`, `inburgering
//! dev`, the test kit): database and migrations, topics, outbox relay, consumers, gRPC.

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use secrecy::SecretString;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    Config, PlatformError,
    auth::Verifier,
    db,
    events::{
        self, Outbox,
        consumer::{self, Handler, Subscription},
        relay,
    },
    grpc::{self, ServerOptions},
};

/// What a service hands its parts: its database, its outbox, the process config.
#[derive(Clone, Debug)]
pub struct ServiceContext {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub config: Arc<Config>,
}

/// A consumer a service runs in the background, made with [`ServiceContext::consumer`].
pub struct ConsumerTask {
    topics: Vec<String>,
    run: Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, Result<(), PlatformError>> + Send>,
}

impl ServiceContext {
    /// A consumer in group `group` of `topics`, applying events with `handler` through the
    /// inbox of this service's database.
    pub fn consumer<H: Handler>(&self, group: &str, topics: &[&str], handler: H) -> ConsumerTask {
        let subscription = Subscription {
            outbox: Some(self.outbox.clone()),
            ..Subscription::configured(group, topics, &self.config)
        };
        let db = self.db.clone();
        let brokers = self.config.kafka_brokers.clone();
        let handler = Arc::new(handler);
        ConsumerTask {
            topics: subscription.topics.clone(),
            run: Box::new(move |shutdown| {
                Box::pin(consumer::run(db, brokers, subscription, handler, shutdown))
            }),
        }
    }
}

/// A job a service runs on a schedule: at start, then every `every`, until shutdown.
/// Each run is a root span `scheduled job` and counts in `scheduled_job_runs_total`; a
/// failed run is logged and retried at the next tick, never fatal to the service.
pub struct ScheduledJob {
    pub name: &'static str,
    pub every: Duration,
    #[allow(clippy::type_complexity)]
    pub run: Arc<dyn Fn() -> BoxFuture<'static, Result<u64, String>> + Send + Sync>,
}

impl ScheduledJob {
    async fn run_until(self, stop: CancellationToken) -> Result<(), PlatformError> {
        use tracing::Instrument;
        loop {
            let span = tracing::info_span!(parent: None, "scheduled job", job = self.name, affected = tracing::field::Empty);
            let outcome = (self.run)().instrument(span.clone()).await;
            match outcome {
                Ok(affected) => {
                    span.record("affected", affected);
                    if affected > 0 {
                        tracing::info!(parent: &span, job = self.name, affected, "scheduled job acted");
                    }
                    crate::metrics::job_ran(self.name, "ok", affected);
                }
                Err(error) => {
                    tracing::warn!(parent: &span, job = self.name, %error, "scheduled job failed; retrying at the next run");
                    crate::metrics::job_ran(self.name, "error", 0);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {},
                _ = stop.cancelled() => return Ok(()),
            }
        }
    }
}

/// One service of the platform, as the binary and the test kit run it.
pub trait ServiceModule: 'static {
    /// Short name: `trajectories`; names the SQLite file and the CloudEvents source.
    const NAME: &'static str;
    /// The topic it publishes on, e.g. `trajectories.events.v1`.
    const TOPIC: &'static str;
    /// Fully qualified gRPC service names, for health.
    const GRPC_SERVICES: &'static [&'static str];
    /// Its schema: the platform's tables plus its own.
    type Migrator: MigratorTrait;
    /// Who may call each of its RPCs at all ([`crate::auth::access`]): one rule per RPC
    /// of [`Self::GRPC_SERVICES`], or the service does not start.
    const ACCESS: &'static [crate::auth::Rule];

    /// Its gRPC handlers.
    fn routes(ctx: &ServiceContext) -> Routes;

    /// The consumers it runs in the background.
    fn consumers(_ctx: &ServiceContext) -> Vec<ConsumerTask> {
        Vec::new()
    }

    /// The jobs it runs on a schedule.
    fn scheduled(_ctx: &ServiceContext) -> Vec<ScheduledJob> {
        Vec::new()
    }

    /// Refuses a configuration the service cannot run with (a rates file that does not
    /// parse), before anything starts.
    fn check_config(_config: &Config) -> Result<(), String> {
        Ok(())
    }
}

/// A service whose database is migrated, ready to [`serve`](Prepared::serve).
#[derive(Debug)]
pub struct Prepared {
    pub ctx: ServiceContext,
}

/// Connects and migrates the service's database.
pub async fn prepare<M: ServiceModule>(
    config: Arc<Config>,
    database_url: &SecretString,
) -> Result<Prepared, PlatformError> {
    M::check_config(&config).map_err(|e| PlatformError::Config(format!("{}: {e}", M::NAME)))?;
    let db = db::connect_and_migrate::<M::Migrator>(database_url, config.database_max_connections)
        .await?;
    Ok(Prepared {
        ctx: ServiceContext {
            db,
            outbox: Outbox::new(M::NAME, M::TOPIC),
            config,
        },
    })
}

impl Prepared {
    /// Serves gRPC on `listener` with relay and consumers until `shutdown`. Shutdown
    /// drains in order: the gRPC server finishes its calls, then the relay publishes what
    /// they staged and the consumers finish the event in hand.
    pub async fn serve<M: ServiceModule>(
        self,
        listener: TcpListener,
        verifier: Arc<Verifier>,
        descriptor: &'static [u8],
        shutdown: CancellationToken,
    ) -> Result<(), PlatformError> {
        let ctx = self.ctx;
        let background = CancellationToken::new();
        let mut tasks: JoinSet<Result<(), PlatformError>> = JoinSet::new();
        let brokers = ctx.config.kafka_brokers.clone();

        let (topic_brokers, stop) = (brokers.clone(), background.clone());
        tasks.spawn(async move {
            ensure_topics(topic_brokers, vec![M::TOPIC.to_owned()], stop.clone()).await?;
            // Stays alive until shutdown, so that its end does not read as a failure.
            stop.cancelled().await;
            Ok(())
        });
        tasks.spawn(relay::run(
            ctx.db.clone(),
            brokers.clone(),
            ctx.outbox.clone(),
            background.clone(),
        ));
        for task in M::consumers(&ctx) {
            let brokers = brokers.clone();
            let stop = background.clone();
            tasks.spawn(async move {
                // Subscribing to a topic that does not exist yet would wait for a metadata
                // refresh (minutes); make sure it exists first.
                ensure_topics(brokers, task.topics.clone(), stop.clone()).await?;
                if stop.is_cancelled() {
                    return Ok(());
                }
                (task.run)(stop).await
            });
        }

        for job in M::scheduled(&ctx) {
            tasks.spawn(job.run_until(background.clone()));
        }

        let access = crate::auth::AccessTable::new(M::ACCESS, M::GRPC_SERVICES, descriptor)
            .map_err(|e| PlatformError::Config(format!("{}: {e}", M::NAME)))?;
        let options = ServerOptions {
            access: Arc::new(access),
            service_names: M::GRPC_SERVICES.to_vec(),
            descriptor,
            request_timeout: Duration::from_secs(ctx.config.request_timeout_secs),
        };
        let server = grpc::serve(
            listener,
            M::routes(&ctx),
            verifier,
            options,
            shutdown.clone(),
        );
        let served = tokio::select! {
            served = server => served,
            Some(failed) = tasks.join_next() => {
                // A background task ended on its own: that is a failure of the service.
                let error = match failed {
                    Ok(Err(e)) => e,
                    Ok(Ok(())) => PlatformError::Config("a background task stopped early".into()),
                    Err(e) => PlatformError::Config(format!("a background task panicked: {e}")),
                };
                Err(error)
            }
        };
        background.cancel();
        while let Some(done) = tasks.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::warn!(service = M::NAME, error = %e, "background task ended with an error");
            }
        }
        tracing::info!(service = M::NAME, "service stopped");
        served
    }
}

/// Creates `topics` (and their DLQs), retrying while the broker is unreachable.
async fn ensure_topics(
    brokers: String,
    topics: Vec<String>,
    stop: CancellationToken,
) -> Result<(), PlatformError> {
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    loop {
        match events::ensure_topics(&brokers, &names).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, ?topics, "cannot create topics yet; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {},
                    _ = stop.cancelled() => return Ok(()),
                }
            }
        }
    }
}
