-- 003_agreements: tariffs, the monthly patient-share cap, and voided
-- agreements.

-- The nomenclature: one row per code and validity period. An import
-- replaces the table in one statement; the no-overlap rule is checked at
-- commit (deferred) so the old rows may be deleted in the same statement.
CREATE TABLE tariff (
    code                text NOT NULL CHECK (code ~ '^[0-9]{6}$'),
    period              daterange NOT NULL CHECK (NOT isempty(period)),
    fee_cents           bigint NOT NULL CHECK (fee_cents BETWEEN 0 AND 1000000000),
    patient_share_cents bigint NOT NULL
        CHECK (patient_share_cents >= 0 AND patient_share_cents <= fee_cents),
    care_types          text[] NOT NULL CHECK (cardinality(care_types) BETWEEN 1 AND 8),
    imported_at         timestamptz NOT NULL DEFAULT now(),
    imported_by         bigint NOT NULL REFERENCES principal (id),
    CONSTRAINT tariff_no_overlap EXCLUDE USING gist (code WITH =, period WITH &&)
        DEFERRABLE INITIALLY DEFERRED
);

-- Every import, with a digest of what was sent.
CREATE TABLE tariff_import (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by bigint NOT NULL REFERENCES principal (id),
    lines       integer NOT NULL,
    sha256      text NOT NULL
);

-- What the OCMW granted of a monthly patient-share cap, per beneficiary,
-- care type and calendar month (of the service date). Changed only in the
-- statement that records the agreement, by compare-and-set on used_cents,
-- so concurrent questions can never grant more than the cap.
CREATE TABLE cap_usage (
    ssin       text NOT NULL,
    care_type  text NOT NULL,
    month      date NOT NULL CHECK (extract(day FROM month) = 1),
    used_cents bigint NOT NULL CHECK (used_cents >= 0),
    PRIMARY KEY (ssin, care_type, month)
);

-- The part of an agreement's OCMW amount that counted against the cap.
ALTER TABLE agreement ADD COLUMN cap_cents bigint NOT NULL DEFAULT 0 CHECK (cap_cents >= 0);

-- The moment the registry's data was read for the answer (see
-- coverage_lookup below): what "coverage as of" that moment recomputes.
ALTER TABLE agreement ADD COLUMN known_at timestamptz;

-- A version becomes known when its change commits; writers of one person
-- hold that person's lock until then and stamp the version after taking it.
ALTER TABLE decision_version ALTER COLUMN recorded_at SET DEFAULT clock_timestamp();

-- Everything one coverage answer needs, read under the person's lock in
-- shared mode: writers of that person take it exclusively until they
-- commit, so no change of theirs is half-done while we read, and `known_at`
-- (taken once the lock is held; the query below then runs with a fresh
-- snapshot, as in any VOLATILE function) separates exactly the versions the
-- answer saw (recorded at or before) from the ones it did not.
-- Rows: the person's decisions as they stood for the service date (the last
-- version recorded in the business calendar on or before it, version 1 for
-- earlier dates), the death date the current version knows, the status
-- before a stop; the tariff lines of the asked codes valid on that date (CSV
-- lines), what the month's patient-share cap already granted, and known_at.
-- At least one row; the decision columns are NULL when there is none.
CREATE FUNCTION coverage_lookup(p_ssin text, p_date date, p_tz text, p_care_type text,
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
    FROM (SELECT 1) one LEFT JOIN LATERAL (
        SELECT v.decision_id, v.version, v.status, d.ocmw, v.body::text AS body,
            to_char(v.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS recorded_at,
            cur.body->'beneficiary'->>'death_date' AS death_date,
            CASE WHEN v.status = 'stopped' THEN (SELECT b.status FROM decision_version b
                WHERE b.decision_id = v.decision_id AND b.version = v.version - 1) END AS before_stop
        FROM decision d
        JOIN decision_version cur ON cur.decision_id = d.id AND cur.version = d.current_version
        JOIN LATERAL (SELECT * FROM decision_version y WHERE y.decision_id = d.id
            AND (y.version = 1 OR (y.recorded_at AT TIME ZONE p_tz)::date <= p_date)
            ORDER BY y.version DESC LIMIT 1) v ON true
        WHERE d.ssin = p_ssin) x ON true
    ORDER BY x.decision_id;
END
$$;
CREATE INDEX agreement_provider_idx ON agreement (provider_org, issued_at);

-- A provider may void an agreement it was issued (it will not bill it);
-- the amount goes back to the month. The agreement itself never changes.
CREATE TABLE agreement_void (
    number    text PRIMARY KEY REFERENCES agreement (number),
    voided_at timestamptz NOT NULL DEFAULT now(),
    voided_by bigint NOT NULL REFERENCES principal (id)
);
