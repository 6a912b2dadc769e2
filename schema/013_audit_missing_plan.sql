-- audit_missing (006) by index lookups per row, whatever the statistics say:
-- right after a bulk of writes the planner, still believing the trail small,
-- scanned the whole of audit_log once per row (seconds for a few thousand
-- agreements), and verify's completeness check answered 503 database_timeout.
-- audit_missing_page (010) already runs so.
ALTER FUNCTION audit_missing(integer) SET enable_seqscan = off;
