-- 005: one reading of a person's decisions for a service date, shared by the
-- coverage answer (coverage_lookup) and by "coverage as of" (audit_as_of),
-- which were two copies of the same query (one in 003, one in the daemon).

-- The person's decisions as they stood for the service date, counting only
-- the versions recorded at or before p_known (NULL: every version): for each
-- decision, the last such version recorded in the business calendar (p_tz)
-- on or before p_date (version 1 for earlier dates); the death date the
-- latest such version knows (a death is a fact, not a change: it applies to
-- every service date); the status before a stop. No row when there is none.
-- SECURITY INVOKER: the daemon's role reads these tables itself.
CREATE FUNCTION decisions_known(p_ssin text, p_date date, p_tz text, p_known timestamptz)
RETURNS TABLE (decision_id text, version integer, status text, ocmw text, body text,
               recorded_at text, death_date text, before_stop text)
LANGUAGE sql STABLE AS $$
    SELECT v.decision_id, v.version, v.status, d.ocmw, v.body::text,
        to_char(v.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        cur.body->'beneficiary'->>'death_date',
        CASE WHEN v.status = 'stopped' THEN (SELECT b.status FROM decision_version b
            WHERE b.decision_id = v.decision_id AND b.version = v.version - 1) END
    FROM decision d
    JOIN LATERAL (SELECT * FROM decision_version c WHERE c.decision_id = d.id
        AND (p_known IS NULL OR c.recorded_at <= p_known)
        ORDER BY c.version DESC LIMIT 1) cur ON true
    JOIN LATERAL (SELECT * FROM decision_version y WHERE y.decision_id = d.id
        AND (p_known IS NULL OR y.recorded_at <= p_known)
        AND (y.version = 1 OR (y.recorded_at AT TIME ZONE p_tz)::date <= p_date)
        ORDER BY y.version DESC LIMIT 1) v ON true
    WHERE d.ssin = p_ssin
$$;

-- As in 003 (same rows, same lock), reading the decisions through
-- decisions_known: every version counts (they were all recorded before the
-- lock was taken).
CREATE OR REPLACE FUNCTION coverage_lookup(p_ssin text, p_date date, p_tz text, p_care_type text,
                                           p_codes text[])
RETURNS TABLE (decision_id text, version integer, status text, ocmw text, body text,
               recorded_at text, death_date text, tariffs text, used_cents bigint,
               before_stop text, known_at text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1836, hashtext(p_ssin));
    k := clock_timestamp();
    RETURN QUERY
    SELECT x.decision_id, x.version, x.status, x.ocmw, x.body, x.recorded_at, x.death_date,
        (SELECT string_agg(t.code || ',' || lower(t.period) || ',' || (upper(t.period) - 1)
                           || ',' || t.fee_cents || ',' || t.patient_share_cents || ','
                           || array_to_string(t.care_types, '|'), E'\n')
           FROM tariff t WHERE t.code = ANY (p_codes) AND t.period @> p_date),
        coalesce((SELECT u.used_cents FROM cap_usage u WHERE u.ssin = p_ssin
                   AND u.care_type = p_care_type
                   AND u.month = date_trunc('month', p_date)::date), 0::bigint),
        x.before_stop,
        to_char(k AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    FROM (SELECT 1) one LEFT JOIN decisions_known(p_ssin, p_date, p_tz, NULL) x ON true
    ORDER BY x.decision_id;
END
$$;

-- What the registry knew at p_known about a person, for a service date: the
-- decisions as coverage_lookup reads them, counting only the versions recorded
-- at or before p_known; with the calendar date at p_known (the "today" of that
-- answer) and p_known in UTC. At least one row; the decision columns are NULL
-- when there is none.
CREATE FUNCTION audit_as_of(p_ssin text, p_date date, p_tz text, p_known timestamptz)
RETURNS TABLE (decision_id text, version integer, status text, ocmw text, body text,
               recorded_at text, death_date text, before_stop text, today date, known_at text)
LANGUAGE sql STABLE AS $$
    SELECT x.decision_id, x.version, x.status, x.ocmw, x.body, x.recorded_at, x.death_date,
        x.before_stop, (p_known AT TIME ZONE p_tz)::date,
        to_char(p_known AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    FROM (SELECT 1) one LEFT JOIN decisions_known(p_ssin, p_date, p_tz, p_known) x ON true
    ORDER BY x.decision_id
$$;

-- The daemon's role calls these (as it calls coverage_lookup and
-- audit_canonical): EXECUTE stays granted to PUBLIC, as for every function
-- but the audit ones that 004 revokes. Said here so that it is a decision.
GRANT EXECUTE ON FUNCTION decisions_known(text, date, text, timestamptz),
                          coverage_lookup(text, date, text, text, text[]),
                          audit_as_of(text, date, text, timestamptz) TO PUBLIC;
