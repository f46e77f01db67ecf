-- A fire time's notification is sent once, whatever its attempts: the attempt that holds the
-- fire time claims the sending by setting notified_attempt where it is still unset, so an
-- attempt taken over (superseded) or a later one after a notified attempt died sends nothing.
ALTER TABLE schedule_fires ADD COLUMN notified_attempt INTEGER;
ALTER TABLE schedule_fires ADD COLUMN notified_at TIMESTAMPTZ;

-- Which attempt at its fire time a scheduled run is (NULL for a run not started by a schedule).
ALTER TABLE runs ADD COLUMN attempt INTEGER;
