-- The freshness alert ledger: what was last announced of each series (STALE, or OK after a
-- recovery), so that a series that stays STALE is announced once, by one process, across
-- restarts. Keyed by code and name: a series no longer configured keeps its row.
CREATE TABLE freshness_alerts (
    commodity  TEXT NOT NULL,
    source     TEXT NOT NULL,
    state      TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (commodity, source)
);
