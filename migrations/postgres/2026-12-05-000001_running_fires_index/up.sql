-- Each scheduler asks at every heartbeat whether a fire time of its schedule is still `running`
-- (to take over one whose claimant is gone): an index of those few rows keeps that question
-- cheap however long the ledger grows (a 2-second cron adds 43,200 rows a day).
CREATE INDEX schedule_fires_running ON schedule_fires (schedule_key) WHERE state = 'running';
