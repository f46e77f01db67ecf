//! PostgreSQL's bulk path for large batches: binary COPY straight into `observations` when
//! nothing stored overlaps the batch's key ranges, else into a staging table and one
//! `INSERT … SELECT … ON CONFLICT`; quarantined rows by COPY too. Same contract as the other
//! write paths: one transaction, equal values left untouched, counts of inserted and changed.

use std::pin::pin;

use tokio_postgres::{binary_copy::BinaryCopyInWriter, types::Type};

use super::rows::{NewObservation, NewQuarantine};

/// Whether any stored row falls in the key ranges of `rows` (which are sorted by key).
async fn overlaps_stored(
    tx: &tokio_postgres::Transaction<'_>,
    rows: &[NewObservation],
) -> Result<bool, tokio_postgres::Error> {
    // (commodity, source, first date, last date) of each series in the batch; ints and dates
    // we format ourselves, so they are safe to inline
    let mut ranges: Vec<String> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let (c, s) = (rows[i].commodity_id, rows[i].source_id);
        let mut j = i;
        while j + 1 < rows.len() && rows[j + 1].commodity_id == c && rows[j + 1].source_id == s {
            j += 1;
        }
        ranges.push(format!(
            "({c}, {s}, DATE '{}', DATE '{}')",
            rows[i].date, rows[j].date
        ));
        i = j + 1;
    }
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM (VALUES {}) AS v (c, s, lo, hi) \
         WHERE EXISTS (SELECT 1 FROM observations o \
                       WHERE o.commodity_id = v.c AND o.source_id = v.s AND o.date BETWEEN v.lo AND v.hi))",
        ranges.join(", ")
    );
    Ok(tx.query_one(&sql, &[]).await?.get(0))
}

const OBSERVATION_COLUMNS: &str =
    "(commodity_id, source_id, date, value, unit, fetched_at, run_id)";
const OBSERVATION_TYPES: [Type; 7] = [
    Type::INT4,
    Type::INT4,
    Type::DATE,
    Type::NUMERIC,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::INT8,
];

async fn copy_rows(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    rows: &[NewObservation],
) -> Result<(), tokio_postgres::Error> {
    let sink = tx
        .copy_in(&format!(
            "COPY {table} {OBSERVATION_COLUMNS} FROM STDIN BINARY"
        ))
        .await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &OBSERVATION_TYPES));
    for r in rows {
        let value = r.value.0.as_decimal();
        writer
            .as_mut()
            .write(&[
                &r.commodity_id,
                &r.source_id,
                &r.date,
                &value,
                &r.unit,
                &r.fetched_at.0,
                &r.run_id,
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

pub(super) async fn copy_upsert(
    client: &mut tokio_postgres::Client,
    rows: &[NewObservation],
    rejected: &[NewQuarantine],
) -> Result<(u64, u64), tokio_postgres::Error> {
    let mut tx = client.transaction().await?;
    // Fast path: nothing stored in the batch's key ranges (a first load, a new series, new
    // days), so the rows can go straight into the table. Should a concurrent writer get there
    // first, the unique key stops the COPY and the savepoint lets us take the general path.
    let mut counts = None;
    if !overlaps_stored(&tx, rows).await? {
        let sp = tx.savepoint("direct_copy").await?;
        match copy_rows(&sp, "observations", rows).await {
            Ok(()) => {
                sp.commit().await?;
                counts = Some((rows.len() as u64, 0));
            }
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                sp.rollback().await?;
            }
            Err(e) => return Err(e),
        }
    }
    let (inserted, changed) = match counts {
        Some(c) => c,
        None => {
            copy_rows(&tx, "obs_staging", rows).await?;
            // Staging rows are sorted by key, the order the upsert takes its row locks in.
            let row = tx
                .query_one(
                    "WITH up AS ( \
                       INSERT INTO observations (commodity_id, source_id, date, value, unit, fetched_at, run_id) \
                       SELECT commodity_id, source_id, date, value, unit, fetched_at, run_id FROM obs_staging \
                       ON CONFLICT (commodity_id, source_id, date) DO UPDATE \
                         SET value = EXCLUDED.value, unit = EXCLUDED.unit, \
                             fetched_at = EXCLUDED.fetched_at, run_id = EXCLUDED.run_id \
                         WHERE observations.value <> EXCLUDED.value \
                       RETURNING (xmax = 0) AS inserted) \
                     SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
                    &[],
                )
                .await?;
            (row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64)
        }
    };
    if !rejected.is_empty() {
        let sink = tx
            .copy_in(
                "COPY quarantine (run_id, commodity_id, source_id, date, raw_value, rule, reason, quarantined_at) \
                 FROM STDIN BINARY",
            )
            .await?;
        let mut writer = pin!(BinaryCopyInWriter::new(
            sink,
            &[
                Type::INT8,
                Type::INT4,
                Type::INT4,
                Type::DATE,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TIMESTAMPTZ
            ],
        ));
        for q in rejected {
            writer
                .as_mut()
                .write(&[
                    &q.run_id,
                    &q.commodity_id,
                    &q.source_id,
                    &q.date,
                    &q.raw_value,
                    &q.rule,
                    &q.reason,
                    &q.quarantined_at.0,
                ])
                .await?;
        }
        writer.finish().await?;
    }
    tx.commit().await?;
    Ok((inserted, changed))
}
