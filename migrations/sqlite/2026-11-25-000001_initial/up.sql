-- The whole schema of the pipeline on SQLite. Same tables and columns as on PostgreSQL; prices
-- are TEXT holding the canonical decimal (SQLite has no exact decimal type) and times are TEXT
-- holding RFC 3339 UTC with microseconds, which sorts correctly.

CREATE TABLE commodities (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL
);

CREATE TABLE sources (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL
);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    run_uuid      TEXT NOT NULL UNIQUE,
    run_trigger   TEXT NOT NULL CHECK (run_trigger IN ('manual', 'schedule')),
    mode          TEXT NOT NULL,
    scheduled_for TEXT,
    status        TEXT NOT NULL CHECK (status IN ('running', 'success', 'partial', 'failed', 'interrupted')),
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    heartbeat_at  TEXT NOT NULL,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    fetched       BIGINT NOT NULL DEFAULT 0,
    stored        BIGINT NOT NULL DEFAULT 0,
    unchanged     BIGINT NOT NULL DEFAULT 0,
    rejected      BIGINT NOT NULL DEFAULT 0,
    report        TEXT
);
CREATE INDEX runs_by_start ON runs (started_at DESC);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';

CREATE TABLE observations (
    commodity_id INTEGER NOT NULL,
    source_id    INTEGER NOT NULL,
    date         DATE NOT NULL,
    value        TEXT NOT NULL,
    unit         TEXT NOT NULL,
    fetched_at   TEXT NOT NULL,
    run_id       BIGINT,
    PRIMARY KEY (commodity_id, source_id, date)
) WITHOUT ROWID;

CREATE TABLE revisions (
    id              INTEGER PRIMARY KEY,
    commodity_id    INTEGER NOT NULL,
    source_id       INTEGER NOT NULL,
    date            DATE NOT NULL,
    old_value       TEXT NOT NULL,
    old_unit        TEXT NOT NULL,
    old_fetched_at  TEXT NOT NULL,
    old_run_id      BIGINT,
    new_value       TEXT NOT NULL,
    replaced_at     TEXT NOT NULL,
    replaced_by_run BIGINT
);
CREATE INDEX revisions_by_key ON revisions (commodity_id, source_id, date);

CREATE TRIGGER observations_revision
    AFTER UPDATE OF value ON observations
    FOR EACH ROW WHEN OLD.value IS NOT NEW.value
BEGIN
    INSERT INTO revisions (commodity_id, source_id, date, old_value, old_unit, old_fetched_at,
                           old_run_id, new_value, replaced_at, replaced_by_run)
    VALUES (OLD.commodity_id, OLD.source_id, OLD.date, OLD.value, OLD.unit, OLD.fetched_at,
            OLD.run_id, NEW.value, NEW.fetched_at, NEW.run_id);
END;

CREATE TABLE quarantine (
    id             INTEGER PRIMARY KEY,
    run_id         BIGINT,
    commodity_id   INTEGER NOT NULL,
    source_id      INTEGER NOT NULL,
    date           DATE NOT NULL,
    raw_value      TEXT NOT NULL,
    rule           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    quarantined_at TEXT NOT NULL
);
CREATE INDEX quarantine_by_run ON quarantine (run_id);
CREATE INDEX quarantine_by_key ON quarantine (commodity_id, source_id, date);

CREATE TABLE schedule_fires (
    schedule_key  TEXT NOT NULL,
    scheduled_for TEXT NOT NULL,
    state         TEXT NOT NULL,
    claimed_by    TEXT NOT NULL,
    claimed_at    TEXT NOT NULL,
    finished_at   TEXT,
    run_id        BIGINT,
    note          TEXT,
    PRIMARY KEY (schedule_key, scheduled_for)
);

CREATE TABLE scheduler_instances (
    instance_id    TEXT PRIMARY KEY,
    host           TEXT NOT NULL,
    pid            INTEGER NOT NULL,
    started_at     TEXT NOT NULL,
    heartbeat_at   TEXT NOT NULL,
    next_fire_at   TEXT,
    state          TEXT NOT NULL,
    stop_requested BOOLEAN NOT NULL DEFAULT FALSE
);
