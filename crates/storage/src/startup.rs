//! PostgreSQL start-up, on a blocking thread with a connection of its own (so it works on any
//! runtime flavour): pending migrations under an advisory lock that keeps two processes from
//! racing, then the TimescaleDB step under the same lock, then what to log about it.

use std::time::{Duration, Instant};

use diesel::{RunQueryDsl, connection::SimpleConnection, sql_types::Text};
use diesel_async::{AsyncPgConnection, async_connection_wrapper::AsyncConnectionWrapper};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{
    connect::{ConnectError, Connector},
    error::{DbErrorKind, describe_diesel},
    timescale::{self, Step, Timescale},
    types::TextRow,
};

pub(crate) type PgSyncConn = AsyncConnectionWrapper<AsyncPgConnection>;

pub(crate) const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
/// Arbitrary constant naming the advisory lock that serialises migrations between processes.
const MIGRATION_LOCK: i64 = 0x656e_6572_6779;

/// What the PostgreSQL start-up step did, reported by the caller on the async side.
pub(crate) struct PgStartup {
    pub applied: usize,
    pub timescale: Timescale,
    /// The finding recorded by an earlier start-up, if any.
    pub previous: Option<Timescale>,
    /// How long converting `observations` into a hypertable took, if it was converted now.
    pub converted_in: Option<Duration>,
    /// The chunk interval was lengthened from this many days.
    pub lengthened_from: Option<i64>,
}

pub(crate) enum StartupError {
    Connect(ConnectError),
    Failed(String),
}

/// A migration error with the server's detail and hint when it is a database error.
pub(crate) fn migration_error_text(e: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    match e.downcast_ref::<diesel::result::Error>() {
        Some(d) => describe_diesel(d),
        None => e.to_string(),
    }
}

/// On a blocking thread: connect, take the migration lock, apply pending migrations, run the
/// TimescaleDB step, release the lock.
pub(crate) fn pg_startup(
    handle: &tokio::runtime::Handle,
    connector: &Connector,
) -> Result<PgStartup, StartupError> {
    let mut c: PgSyncConn = handle
        .block_on(connector.diesel())
        .map_err(StartupError::Connect)?
        .into();
    c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .map_err(|e| StartupError::Failed(describe_diesel(&e)))?;
    let result = c
        .run_pending_migrations(PG_MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| migration_error_text(&*e))
        .and_then(|applied| timescale_step(&mut c, applied).map_err(|e| describe_diesel(&e)));
    let _ = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    result.map_err(StartupError::Failed)
}

/// Makes `observations` a hypertable when the server can, lengthens short chunk intervals, and
/// records the finding in `store_state`. A failure to enable TimescaleDB is a finding, not an
/// error: the store works on plain tables.
fn timescale_step(c: &mut PgSyncConn, applied: usize) -> diesel::QueryResult<PgStartup> {
    let probe: timescale::Probe = diesel::sql_query(timescale::PROBE_SQL).get_result(c)?;
    let interval = match probe.schema {
        Some(_) => diesel::sql_query(timescale::CHUNK_INTERVAL_SQL)
            .load::<timescale::ChunkInterval>(c)?
            .into_iter()
            .next()
            .map(|r| r.days),
        None => None,
    };
    let (mut converted_in, mut lengthened_from) = (None, None);
    let found = match timescale::plan(&probe, interval) {
        Step::Keep { schema, days } if days < timescale::CHUNK_INTERVAL_DAYS => {
            c.batch_execute(&timescale::set_interval_sql(&schema))?;
            lengthened_from = Some(days);
            Timescale::Hypertable {
                chunk_interval_days: timescale::CHUNK_INTERVAL_DAYS,
            }
        }
        Step::Keep { days, .. } => Timescale::Hypertable {
            chunk_interval_days: days,
        },
        Step::Report(t) => t,
        Step::Convert { create_extension } => {
            let started = Instant::now();
            let created = if create_extension {
                c.batch_execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            } else {
                Ok(())
            };
            let converted = created.and_then(|()| {
                let probe: timescale::Probe =
                    diesel::sql_query(timescale::PROBE_SQL).get_result(c)?;
                let schema = probe.schema.unwrap_or_else(|| "public".to_owned());
                c.batch_execute(&timescale::create_hypertable_sql(&schema))
            });
            match converted {
                Ok(()) => {
                    converted_in = Some(started.elapsed());
                    Timescale::Hypertable {
                        chunk_interval_days: timescale::CHUNK_INTERVAL_DAYS,
                    }
                }
                Err(e) if DbErrorKind::of_diesel(&e) == DbErrorKind::ConnectionClosed => {
                    return Err(e);
                }
                Err(e) => Timescale::NotEnabled(describe_diesel(&e)),
            }
        }
    };
    let previous: Option<Timescale> =
        diesel::sql_query("SELECT value AS text FROM store_state WHERE key = 'timescaledb'")
            .load::<TextRow>(c)?
            .into_iter()
            .next()
            .and_then(|r| Timescale::from_key(&r.text));
    if previous.as_ref() != Some(&found) {
        diesel::sql_query(
            "INSERT INTO store_state (key, value, noted_at) VALUES ('timescaledb', $1, now()) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, noted_at = EXCLUDED.noted_at",
        )
        .bind::<Text, _>(found.key())
        .execute(c)?;
    }
    Ok(PgStartup {
        applied,
        timescale: found,
        previous,
        converted_in,
        lengthened_from,
    })
}

/// Logs what start-up did: TimescaleDB findings once, when they change.
pub(crate) fn report_startup(db: &str, done: &PgStartup) {
    if done.applied > 0 {
        tracing::info!(applied = done.applied, "database migrations applied");
    }
    if let Some(took) = done.converted_in {
        tracing::info!(
            seconds = took.as_secs_f64(),
            "TimescaleDB: observations is now a hypertable ({})",
            done.timescale.describe()
        );
    }
    if let Some(days) = done.lengthened_from {
        tracing::info!(
            "TimescaleDB: new chunks of observations span {} days (was {days}); existing chunks keep theirs",
            timescale::CHUNK_INTERVAL_DAYS
        );
    }
    let news = done.previous.as_ref() != Some(&done.timescale);
    match &done.timescale {
        Timescale::NotPreloaded | Timescale::NotEnabled(_) if news => {
            tracing::warn!(database = db, "{}", done.timescale.describe());
        }
        other => tracing::debug!(database = db, "{}", other.describe()),
    }
}
