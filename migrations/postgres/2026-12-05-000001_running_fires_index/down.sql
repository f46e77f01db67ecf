DROP FUNCTION scheduler_heartbeat(TEXT, TEXT, TIMESTAMPTZ, TIMESTAMPTZ);
DROP INDEX schedule_fires_running;
