//! The tables, as Diesel sees them. Private to this crate; the DDL is in `migrations/`.

diesel::table! {
    commodities (id) {
        id -> Integer,
        code -> Text,
        name -> Text,
        unit -> Text,
        resolution -> Text,
    }
}

diesel::table! {
    sources (id) {
        id -> Integer,
        name -> Text,
        title -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::UtcTime;

    runs (id) {
        id -> BigInt,
        run_uuid -> Text,
        run_trigger -> Text,
        mode -> Text,
        scheduled_for -> Nullable<UtcTime>,
        status -> Text,
        started_at -> UtcTime,
        finished_at -> Nullable<UtcTime>,
        heartbeat_at -> UtcTime,
        host -> Text,
        pid -> Integer,
        fetched -> BigInt,
        stored -> BigInt,
        unchanged -> BigInt,
        rejected -> BigInt,
        report -> Nullable<Text>,
        attempt -> Nullable<Integer>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{ExactDecimal, UtcTime};

    observations (commodity_id, source_id, date) {
        commodity_id -> Integer,
        source_id -> Integer,
        date -> Date,
        value -> ExactDecimal,
        unit -> Text,
        fetched_at -> UtcTime,
        run_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{ExactDecimal, UtcTime};

    revisions (id) {
        id -> BigInt,
        commodity_id -> Integer,
        source_id -> Integer,
        date -> Date,
        old_value -> ExactDecimal,
        old_unit -> Text,
        old_fetched_at -> UtcTime,
        old_run_id -> Nullable<BigInt>,
        new_value -> ExactDecimal,
        replaced_at -> UtcTime,
        replaced_by_run -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::UtcTime;

    quarantine (id) {
        id -> BigInt,
        run_id -> Nullable<BigInt>,
        commodity_id -> Integer,
        source_id -> Integer,
        date -> Date,
        raw_value -> Text,
        rule -> Text,
        reason -> Text,
        quarantined_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::UtcTime;

    schedule_fires (schedule_key, scheduled_for) {
        schedule_key -> Text,
        scheduled_for -> UtcTime,
        state -> Text,
        claimed_by -> Text,
        claimed_at -> UtcTime,
        finished_at -> Nullable<UtcTime>,
        run_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
        attempt -> Integer,
        notified_attempt -> Nullable<Integer>,
        notified_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::UtcTime;

    fire_attempts (schedule_key, scheduled_for, attempt) {
        schedule_key -> Text,
        scheduled_for -> UtcTime,
        attempt -> Integer,
        claimed_by -> Text,
        claimed_at -> UtcTime,
        state -> Text,
        finished_at -> Nullable<UtcTime>,
        run_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::UtcTime;

    scheduler_instances (instance_id) {
        instance_id -> Text,
        host -> Text,
        pid -> Integer,
        started_at -> UtcTime,
        heartbeat_at -> UtcTime,
        next_fire_at -> Nullable<UtcTime>,
        state -> Text,
        stop_requested -> Bool,
    }
}

diesel::joinable!(observations -> commodities (commodity_id));
diesel::joinable!(observations -> sources (source_id));
diesel::allow_tables_to_appear_in_same_query!(observations, commodities, sources);
// a scheduler's heartbeat asks, in the same statement, whether a fire time runs under another
diesel::allow_tables_to_appear_in_same_query!(scheduler_instances, schedule_fires);

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::UtcTime;

    freshness_alerts (commodity, source) {
        commodity -> Text,
        source -> Text,
        state -> Text,
        changed_at -> UtcTime,
    }
}
