//! The storage test suite: every case runs against SQLite (a temporary file per test), plain
//! PostgreSQL (a fresh schema per test on `TEST_DATABASE_URL`) and PostgreSQL with TimescaleDB
//! (a fresh schema on `TEST_TIMESCALEDB_URL`), in parallel.

mod cases;
mod failures;
mod support;
mod timescale;
mod tls;

/// Expands each case into `sqlite::<case>`, `postgres::<case>` and `timescaledb::<case>` tests
/// with the same body.
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::support::TestDb::sqlite().await;
                    crate::cases::$case(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = crate::support::TestDb::postgres().await else { return };
                    crate::cases::$case(&db).await;
                    db.drop_schema().await;
                }
            )*
        }
        mod timescaledb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = crate::support::TestDb::timescaledb().await else { return };
                    crate::cases::$case(&db).await;
                    db.drop_schema().await;
                }
            )*
        }
    };
}

on_every_backend!(
    stored_dates_come_per_series_in_key_order,
    fire_ledger_claims_each_fire_time_once,
    a_fire_time_taken_over_fences_its_late_claimant,
    a_fire_time_is_notified_once_whatever_its_attempts,
    freshness_alert_changes_are_claimed_once,
    scheduler_instances_heartbeat_and_take_stop_requests,
    migrations_are_idempotent_and_every_down_reverses_its_up,
    writing_the_same_batch_twice_reports_the_second_as_unchanged,
    a_commodity_keeps_its_resolution_while_rows_are_stored,
    a_store_opened_before_another_registers_a_commodity_reads_it,
    changed_value_is_counted_and_the_previous_one_kept_in_revisions,
    large_batches_count_like_small_ones,
    concurrent_overlapping_writers_both_succeed_without_duplicates,
    values_round_trip_exactly,
    values_keep_their_published_scale_and_equal_numbers_stay_unchanged,
    repeated_key_in_one_batch_keeps_the_last_value,
    quarantined_rows_keep_rule_reason_and_run,
    unregistered_commodity_fails_the_whole_batch,
    latest_date_and_freshness_follow_the_newest_row,
    recent_values_come_newest_first_before_a_date,
    recent_values_of_every_series_match_the_per_series_lookup,
    export_streams_every_matching_row_in_key_order,
    commodity_values_come_per_source_in_date_order,
    as_of_reads_show_what_the_store_knew_then,
    run_ledger_records_start_finish_and_interruption,
    health_names_backend_and_version,
    a_large_load_leaves_planner_statistics,
);
