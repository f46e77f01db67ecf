DROP TABLE freshness_alerts;
