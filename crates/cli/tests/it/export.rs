//! Issue 17: `export` for the forecasting models: Parquet read back with the `parquet` crate
//! (schema and every value exact, −36.98 included), the wide layout's columns and empty cells,
//! `--as-of` through the binary, `--calendar-fill`, and `--output` leaving no half file.

use std::path::Path;

use arrow_array::{Array, Date32Array, Decimal128Array, StringArray};
use arrow_schema::DataType;
use chrono::{NaiveDate, TimeZone, Utc};
use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
use energy_storage::{DatabaseUrl, Store};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{
    pipeline::{Db, Env, real_data},
    support::{stderr, stdout},
};

/// Every batch of a Parquet file.
fn read_parquet(path: &Path) -> Vec<arrow_array::RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A decimal cell as the exact text `Price` prints.
fn decimal_text(column: &Decimal128Array, i: usize) -> Option<String> {
    let DataType::Decimal128(_, scale) = column.data_type() else {
        panic!("not a decimal column")
    };
    // a Parquet column has one scale for all its values: the number, without trailing zeros
    (!column.is_null(i)).then(|| {
        Price::from_decimal(
            rust_decimal::Decimal::from_i128_with_scale(column.value(i), *scale as u32).normalize(),
        )
        .to_string()
    })
}

fn day(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

async fn parquet_round_trip_on(db: Db) {
    let Some(env) = Env::new(real_data(), db).await else {
        return;
    };
    let (code, report, err) = env
        .run_json(&[
            "--mode",
            "backfill",
            "--start-date",
            "2020-03-02",
            "--end-date",
            "2020-05-29",
        ])
        .await;
    assert_eq!(code, Some(0), "{report}\n{err}");
    let csv = env.export(&[]).await;
    assert!(
        csv.iter().any(|l| l == "WTI,eia,2020-04-20,-36.98"),
        "{csv:?}"
    );
    let file = env.scratch.path().join("long.parquet");
    let out = env
        .run(&[
            "export",
            "--format",
            "parquet",
            "--output",
            file.to_str().unwrap(),
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(!env.scratch.path().join("long.parquet.partial").exists());
    let batches = read_parquet(&file);
    let schema = batches[0].schema();
    let fields: Vec<(String, DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect();
    let DataType::Decimal128(38, scale) = fields[3].1 else {
        panic!("{fields:?}")
    };
    assert!(scale >= 2, "the scale the data needs: {scale}");
    assert_eq!(
        fields,
        [
            ("commodity".to_owned(), DataType::Utf8, false),
            ("source".to_owned(), DataType::Utf8, false),
            ("date".to_owned(), DataType::Date32, false),
            ("value".to_owned(), DataType::Decimal128(38, scale), false),
            ("unit".to_owned(), DataType::Utf8, false),
        ]
    );
    // every row, in order, equal to the CSV export: the stored decimal, exactly
    let mut rows = Vec::new();
    for batch in &batches {
        let text = |i: usize| {
            batch
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone()
        };
        let (commodity, source) = (text(0), text(1));
        let date = batch
            .column(2)
            .as_any()
            .downcast_ref::<Date32Array>()
            .unwrap();
        let value = batch
            .column(3)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        for i in 0..batch.num_rows() {
            rows.push(format!(
                "{},{},{},{}",
                commodity.value(i),
                source.value(i),
                date.value_as_date(i).unwrap(),
                decimal_text(value, i).unwrap()
            ));
        }
    }
    // (the CSV keeps each value's published scale, the Parquet column one scale for all)
    let numbers: Vec<String> = csv
        .iter()
        .map(|l| match l.rsplit_once(',') {
            Some((key, v)) => match Price::parse(v) {
                Ok(p) => format!("{key},{}", p.as_decimal().normalize()),
                Err(_) => l.clone(),
            },
            None => l.clone(),
        })
        .collect();
    assert_eq!(rows, numbers);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_reads_back_equal_to_the_stored_decimals_on_sqlite() {
    parquet_round_trip_on(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_reads_back_equal_to_the_stored_decimals_on_postgres() {
    parquet_round_trip_on(Db::Postgres).await;
}

/// A small fixture written straight into the store behind `env`, at chosen instants:
/// - WTI/eia on Thu 2026-11-19 and Fri 20th (the 19th revised on day 3),
/// - WTI/fred on Fri 20th only, fetched on day 2,
/// - BRENT/eia on Mon 23rd and on Sat 21st (a day no market trades).
async fn fixture(env: &Env) {
    let store = Store::open(&DatabaseUrl::parse(&env.db_url()).unwrap())
        .await
        .unwrap();
    for (code, name) in [("WTI", "WTI crude"), ("BRENT", "Brent crude")] {
        store
            .catalog()
            .register_commodity(
                &CommodityCode::new(code).unwrap(),
                &CommoditySpec::new(name, "USD/bbl"),
            )
            .await
            .unwrap();
    }
    for s in ["eia", "fred"] {
        store
            .catalog()
            .register_source(&SourceId::new(s).unwrap(), s)
            .await
            .unwrap();
    }
    let o = |c: &str, s: &str, d: &str, v: &str| {
        Observation::new(
            CommodityCode::new(c).unwrap(),
            SourceId::new(s).unwrap(),
            d.parse().unwrap(),
            Price::parse(v).unwrap(),
            "USD/bbl",
        )
    };
    let at = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 16, 0, 0).unwrap();
    for (rows, when) in [
        (
            vec![
                o("WTI", "eia", "2026-11-19", "59.10"),
                o("WTI", "eia", "2026-11-20", "-36.98"),
            ],
            at(21),
        ),
        (
            vec![
                o("WTI", "fred", "2026-11-20", "-36.98"),
                o("BRENT", "eia", "2026-11-23", "64.5"),
                o("BRENT", "eia", "2026-11-21", "64.25"),
            ],
            at(22),
        ),
        (vec![o("WTI", "eia", "2026-11-19", "59.125")], at(23)),
    ] {
        store
            .observations()
            .write_batch_at(None, &rows, &[], when)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_as_of_and_calendar_fill_through_the_binary() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    fixture(&env).await;
    let text = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env = &env;
        async move {
            let mut all = vec!["export"];
            all.extend(args.iter().map(String::as_str));
            let out = env.run(&all).await;
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            (stdout(&out), stderr(&out))
        }
    };
    // wide CSV: the column set in key order, empty cells where a series has no value
    let (csv, _) = text(&["--layout", "wide"]).await;
    assert_eq!(
        csv,
        "date,BRENT/eia,WTI/eia,WTI/fred\n\
         2026-11-19,,59.125,\n\
         2026-11-20,,-36.98,-36.98\n\
         2026-11-21,64.25,,\n\
         2026-11-23,64.5,,\n"
    );
    // as of day 22, 16:00: the first value of the 19th, and what was fetched by then
    let (csv, _) = text(&["--layout", "wide", "--as-of", "2026-11-22T16:00:00Z"]).await;
    assert_eq!(
        csv,
        "date,BRENT/eia,WTI/eia,WTI/fred\n\
         2026-11-19,,59.10,\n\
         2026-11-20,,-36.98,-36.98\n\
         2026-11-21,64.25,,\n\
         2026-11-23,64.5,,\n"
    );
    // a minute before day 22's fetch: neither Fred nor Brent yet
    let (long, _) = text(&["--as-of", "2026-11-22T10:59:00-05:00"]).await;
    assert_eq!(
        long,
        "commodity,source,date,value\nWTI,eia,2026-11-19,59.10\nWTI,eia,2026-11-20,-36.98\n"
    );
    // calendar fill: the weekdays from the first date to the last, Saturday's value left out
    let (csv, err) = text(&["--layout", "wide", "--calendar-fill"]).await;
    assert_eq!(
        csv,
        "date,BRENT/eia,WTI/eia,WTI/fred\n\
         2026-11-19,,59.125,\n\
         2026-11-20,,-36.98,-36.98\n\
         2026-11-23,64.5,,\n"
    );
    assert!(err.contains("left out 1 values"), "{err}");
    // wide JSON lines: null where empty, exact numbers
    let (jsonl, _) = text(&["--layout", "wide", "--format", "jsonl"]).await;
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"date": "2026-11-19", "BRENT/eia": null, "WTI/eia": 59.125, "WTI/fred": null})
    );
    assert!(jsonl.contains("\"WTI/eia\":-36.98"), "{jsonl}");
    // wide Parquet: the schema (date, then one nullable decimal per series with its unit) and
    // the empty cells as nulls
    let file = env.scratch.path().join("wide.parquet");
    text(&[
        "--layout",
        "wide",
        "--format",
        "parquet",
        "-o",
        file.to_str().unwrap(),
    ])
    .await;
    let batches = read_parquet(&file);
    assert_eq!(batches.len(), 1);
    let batch = &batches[0];
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["date", "BRENT/eia", "WTI/eia", "WTI/fred"]);
    assert_eq!(schema.field(0).data_type(), &DataType::Date32);
    assert_eq!(schema.field(1).data_type(), &DataType::Decimal128(38, 3));
    assert!(schema.field(1).is_nullable());
    assert_eq!(schema.field(2).metadata()["unit"], "USD/bbl");
    let dates = batch
        .column(0)
        .as_any()
        .downcast_ref::<Date32Array>()
        .unwrap();
    assert_eq!(
        dates.values().to_vec(),
        ["2026-11-19", "2026-11-20", "2026-11-21", "2026-11-23"]
            .map(|d| day(d.parse().unwrap()))
            .to_vec()
    );
    let column = |i: usize| {
        let c = batch
            .column(i)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        (0..c.len()).map(|j| decimal_text(c, j)).collect::<Vec<_>>()
    };
    assert_eq!(
        column(2),
        [
            Some("59.125".to_owned()),
            Some("-36.98".to_owned()),
            None,
            None
        ]
    );
    assert_eq!(
        column(1),
        [
            None,
            None,
            Some("64.25".to_owned()),
            Some("64.5".to_owned())
        ]
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_refuses_what_it_cannot_do_and_leaves_no_half_file() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    fixture(&env).await;
    // --calendar-fill belongs to the wide layout; a bad instant is a usage error
    for args in [
        &["export", "--calendar-fill"][..],
        &["export", "--as-of", "2026-11-22"][..],
    ] {
        let out = env.run(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let err = stderr(&env.run(&["export", "--as-of", "yesterday"]).await);
    assert!(err.contains("RFC 3339"), "{err}");
    // a file that cannot be written: exit 1, the reason, nothing left behind
    let target = env.scratch.path().join("no-such-dir/out.csv");
    let out = env
        .run(&["export", "--output", target.to_str().unwrap()])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot create"), "{}", stderr(&out));
    // an existing file is replaced only by a complete export
    let target = env.scratch.path().join("out.csv");
    std::fs::write(&target, "old\n").unwrap();
    let out = env
        .run(&["export", "--output", target.to_str().unwrap()])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("commodity,source,date,value\nWTI,eia,2026-11-19,59.125\n"));
    env.cleanup().await;
}
