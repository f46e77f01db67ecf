//! TimescaleDB: `observations` becomes a hypertable with chunks sized for daily prices, once per
//! database (at start-up, with the migrations and under their lock); a server that has the
//! extension but cannot use it is reported once, with what to do, and in `status`.

use diesel::{
    QueryableByName,
    sql_types::{BigInt, Bool, Nullable, Text},
};

/// Days of market dates per chunk. Daily prices are a few hundred rows per series a year (90
/// series: about 23,000 rows, a few MB a year), so a year per chunk keeps every chunk small
/// while the whole history since 1986 is about 41 chunks: a transaction that writes a
/// series' full history locks some 80 chunk relations, far inside PostgreSQL's default lock
/// table (`max_locks_per_transaction` 64 × connections), and the planner has few chunks to
/// consider. TimescaleDB's default (7 days) makes 2,120 chunks of a few hundred rows each, and
/// a full-history write through them overflowed that lock table. A year also keeps
/// `drop_chunks` retention meaningful (drop whole years), which longer chunks would blunt.
pub const CHUNK_INTERVAL_DAYS: i64 = 365;

/// What the server offers, read in one query (no privilege needed beyond connecting).
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct Probe {
    /// The extension's files are installed on the server.
    #[diesel(sql_type = Bool)]
    pub available: bool,
    /// The library is loaded (in `shared_preload_libraries`): its settings exist.
    #[diesel(sql_type = Bool)]
    pub loaded: bool,
    /// The schema the extension was created in, in this database.
    #[diesel(sql_type = Nullable<Text>)]
    pub schema: Option<String>,
}

pub(crate) const PROBE_SQL: &str = "\
SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
       EXISTS (SELECT 1 FROM pg_settings WHERE name LIKE 'timescaledb.%') AS loaded,
       (SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'timescaledb') AS schema";

/// The chunk interval of `observations` in days, when it is a hypertable (needs the
/// extension's views; run only when the extension exists).
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct ChunkInterval {
    #[diesel(sql_type = BigInt)]
    pub days: i64,
}

pub(crate) const CHUNK_INTERVAL_SQL: &str = "\
SELECT CAST(EXTRACT(EPOCH FROM d.time_interval) / 86400 AS BIGINT) AS days
  FROM timescaledb_information.dimensions d
 WHERE d.hypertable_schema = current_schema() AND d.hypertable_name = 'observations'
   AND d.column_name = 'date'";

/// TimescaleDB as the store finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timescale {
    /// `observations` is a hypertable; new chunks span this many days.
    Hypertable { chunk_interval_days: i64 },
    /// The server has no TimescaleDB: plain PostgreSQL tables.
    NotInstalled,
    /// The extension is installed on the server but its library is not preloaded.
    NotPreloaded,
    /// TimescaleDB could have been used but enabling it failed; the server's reason.
    NotEnabled(String),
}

impl Timescale {
    pub fn is_hypertable(&self) -> bool {
        matches!(self, Timescale::Hypertable { .. })
    }

    /// One line for `status` and the logs: what the store uses and, if TimescaleDB is there
    /// but unused, what to do.
    pub fn describe(&self) -> String {
        match self {
            Timescale::Hypertable {
                chunk_interval_days,
            } => format!("TimescaleDB hypertable, {chunk_interval_days}-day chunks"),
            Timescale::NotInstalled => "plain PostgreSQL, no TimescaleDB".to_owned(),
            Timescale::NotPreloaded => "plain PostgreSQL: TimescaleDB is installed on the server \
                 but not preloaded; add timescaledb to shared_preload_libraries in postgresql.conf \
                 and restart PostgreSQL, and the next start-up of the pipeline converts \
                 observations into a hypertable"
                .to_owned(),
            Timescale::NotEnabled(reason) => format!(
                "plain PostgreSQL: TimescaleDB could not be enabled ({reason}); run CREATE \
                 EXTENSION timescaledb in this database as its owner or a superuser, and the \
                 next start-up of the pipeline converts observations into a hypertable"
            ),
        }
    }

    /// The text kept in `store_state`, to tell a new finding from one already reported.
    pub(crate) fn key(&self) -> String {
        match self {
            Timescale::Hypertable {
                chunk_interval_days,
            } => format!("hypertable:{chunk_interval_days}"),
            Timescale::NotInstalled => "not_installed".to_owned(),
            Timescale::NotPreloaded => "not_preloaded".to_owned(),
            Timescale::NotEnabled(reason) => format!("not_enabled:{reason}"),
        }
    }

    /// Reads back [`Timescale::key`].
    pub(crate) fn from_key(key: &str) -> Option<Self> {
        Some(match key.split_once(':') {
            Some(("hypertable", days)) => Timescale::Hypertable {
                chunk_interval_days: days.parse().ok()?,
            },
            Some(("not_enabled", reason)) => Timescale::NotEnabled(reason.to_owned()),
            _ if key == "not_installed" => Timescale::NotInstalled,
            _ if key == "not_preloaded" => Timescale::NotPreloaded,
            _ => return None,
        })
    }
}

/// What to do about TimescaleDB at start-up, from what the server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Already a hypertable: make new chunks follow [`CHUNK_INTERVAL_DAYS`] if they are shorter.
    Keep { schema: String, days: i64 },
    /// Create the extension (if needed) and convert `observations`.
    Convert { create_extension: bool },
    /// Nothing can be done: report this.
    Report(Timescale),
}

/// Decides the start-up step. `interval_days` is `observations`' chunk interval when the
/// extension exists and it is a hypertable.
pub(crate) fn plan(probe: &Probe, interval_days: Option<i64>) -> Step {
    match (&probe.schema, interval_days) {
        (Some(schema), Some(days)) => Step::Keep {
            schema: schema.clone(),
            days,
        },
        // the extension exists but cannot work without its library
        (Some(_), None) if !probe.loaded => Step::Report(Timescale::NotPreloaded),
        (Some(_), None) => Step::Convert {
            create_extension: false,
        },
        (None, _) if !probe.available => Step::Report(Timescale::NotInstalled),
        // CREATE EXTENSION without the library preloaded ends the session (FATAL)
        (None, _) if !probe.loaded => Step::Report(Timescale::NotPreloaded),
        (None, _) => Step::Convert {
            create_extension: true,
        },
    }
}

/// `name` as a quoted SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The statement that makes `observations` a hypertable (the form every TimescaleDB 2.x
/// accepts), moving any rows already stored into chunks.
pub(crate) fn create_hypertable_sql(schema: &str) -> String {
    format!(
        "SELECT {}.create_hypertable('observations', 'date', \
         chunk_time_interval => INTERVAL '{CHUNK_INTERVAL_DAYS} days', \
         create_default_indexes => FALSE, migrate_data => TRUE)",
        quote_ident(schema)
    )
}

/// The statement that makes new chunks span [`CHUNK_INTERVAL_DAYS`] (existing chunks keep
/// theirs).
pub(crate) fn set_interval_sql(schema: &str) -> String {
    format!(
        "SELECT {}.set_chunk_time_interval('observations', INTERVAL '{CHUNK_INTERVAL_DAYS} days')",
        quote_ident(schema)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(available: bool, loaded: bool, schema: Option<&str>) -> Probe {
        Probe {
            available,
            loaded,
            schema: schema.map(str::to_owned),
        }
    }

    #[test]
    fn the_step_follows_what_the_server_offers() {
        assert_eq!(
            plan(&probe(false, false, None), None),
            Step::Report(Timescale::NotInstalled)
        );
        // installed but not preloaded: never CREATE EXTENSION (it ends the session)
        assert_eq!(
            plan(&probe(true, false, None), None),
            Step::Report(Timescale::NotPreloaded)
        );
        assert_eq!(
            plan(&probe(true, true, None), None),
            Step::Convert {
                create_extension: true
            }
        );
        assert_eq!(
            plan(&probe(true, true, Some("public")), None),
            Step::Convert {
                create_extension: false
            }
        );
        assert_eq!(
            plan(&probe(true, false, Some("public")), None),
            Step::Report(Timescale::NotPreloaded)
        );
        assert_eq!(
            plan(&probe(true, true, Some("public")), Some(7)),
            Step::Keep {
                schema: "public".to_owned(),
                days: 7
            }
        );
    }

    #[test]
    fn findings_round_trip_through_their_key() {
        for t in [
            Timescale::Hypertable {
                chunk_interval_days: 365,
            },
            Timescale::NotInstalled,
            Timescale::NotPreloaded,
            Timescale::NotEnabled("permission denied: x".to_owned()),
        ] {
            assert_eq!(Timescale::from_key(&t.key()), Some(t.clone()));
        }
        assert_eq!(Timescale::from_key("garbage"), None);
    }

    #[test]
    fn the_not_preloaded_message_says_what_to_do() {
        let text = Timescale::NotPreloaded.describe();
        assert!(text.contains("shared_preload_libraries"), "{text}");
        assert!(text.contains("restart"), "{text}");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("public"), "\"public\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert!(create_hypertable_sql("public").contains("INTERVAL '365 days'"));
    }
}
