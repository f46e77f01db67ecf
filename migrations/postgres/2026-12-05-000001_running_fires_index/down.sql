DROP INDEX schedule_fires_running;
