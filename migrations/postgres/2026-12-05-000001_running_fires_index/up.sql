-- Each scheduler asks at every heartbeat whether a fire time of its schedule is still `running`
-- (to take over one whose claimant is gone): an index of those few rows keeps that question
-- cheap however long the ledger grows (a 2-second cron adds 43,200 rows a day).
CREATE INDEX schedule_fires_running ON schedule_fires (schedule_key) WHERE state = 'running';

-- The heartbeat as one prepared statement the client keeps (an UPDATE written by the client is
-- prepared, run and closed each time: three round trips every 5 s of every scheduler's life):
-- records the heartbeat and the next fire time, and answers [stop requested, a fire time of
-- the schedule running under another claimant]; NULL when the scheduler is not registered.
CREATE FUNCTION scheduler_heartbeat(p_instance TEXT, p_key TEXT, p_at TIMESTAMPTZ,
                                    p_next TIMESTAMPTZ)
RETURNS BOOLEAN[] LANGUAGE sql AS $$
    UPDATE scheduler_instances SET heartbeat_at = p_at, next_fire_at = p_next
     WHERE instance_id = p_instance
    RETURNING ARRAY[stop_requested,
                    EXISTS (SELECT 1 FROM schedule_fires f
                             WHERE f.schedule_key = p_key AND f.state = 'running'
                               AND f.claimed_by <> p_instance)]
$$;
