-- Fencing and takeover: each claim of a fire time is an attempt with a number that grows with
-- every takeover. The ledger row is the live attempt; an outcome is written only by the attempt
-- that holds it, so a claimant that wakes after its claim was taken over cannot overwrite it.
ALTER TABLE schedule_fires ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;

-- Every attempt of every fire time, the superseded ones included.
CREATE TABLE fire_attempts (
    schedule_key  TEXT NOT NULL,
    scheduled_for TEXT NOT NULL,
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),
    claimed_by    TEXT NOT NULL,
    claimed_at    TEXT NOT NULL,
    state         TEXT NOT NULL,
    finished_at   TEXT,
    run_id        BIGINT,
    note          TEXT,
    PRIMARY KEY (schedule_key, scheduled_for, attempt)
);

-- the fire times claimed before attempts were kept: their one attempt
INSERT INTO fire_attempts (schedule_key, scheduled_for, attempt, claimed_by, claimed_at, state,
                           finished_at, run_id, note)
SELECT schedule_key, scheduled_for, 1, claimed_by, claimed_at, state, finished_at, run_id, note
FROM schedule_fires;
