-- 009: tariff versions. Each import is a new version of the table: its
-- lines are added, the earlier versions are kept and never changed. An
-- answer uses the version in force when it was given (coverage_lookup), and
-- "coverage as of T" (coverage_as_of) the version in force at T, with the
-- month's cap use as it stood at T: so it reproduces the amounts too.

-- A version is in force from the moment its import holds the tariff lock
-- (taken exclusively by the import, shared by every coverage answer, until
-- they commit): an answer whose known_at is before that moment did not see
-- the version, one after it did.
ALTER TABLE tariff_import ADD COLUMN in_force_at timestamptz;
UPDATE tariff_import SET in_force_at = imported_at;

-- Lines imported before versions existed belong to the last import (an
-- import replaced the table); should there be none, one is made for them.
INSERT INTO tariff_import (imported_at, imported_by, lines, sha256, in_force_at)
SELECT min(imported_at), min(imported_by), count(*), 'before-009', min(imported_at)
FROM tariff HAVING count(*) > 0 AND NOT EXISTS (SELECT 1 FROM tariff_import);
ALTER TABLE tariff_import ALTER COLUMN in_force_at SET NOT NULL;

ALTER TABLE tariff ADD COLUMN import_id bigint REFERENCES tariff_import (id);
UPDATE tariff SET import_id = (SELECT max(id) FROM tariff_import);
ALTER TABLE tariff ALTER COLUMN import_id SET NOT NULL;
ALTER TABLE tariff DROP CONSTRAINT tariff_no_overlap;
ALTER TABLE tariff ADD CONSTRAINT tariff_no_overlap
    EXCLUDE USING gist (import_id WITH =, code WITH =, period WITH &&)
    DEFERRABLE INITIALLY DEFERRED;

-- Versions are never changed (the daemon's role has no UPDATE or DELETE on
-- them either: admin/migrate.c).
CREATE TRIGGER tariff_append_only
    BEFORE UPDATE OR DELETE ON tariff
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();
CREATE TRIGGER tariff_import_append_only
    BEFORE UPDATE OR DELETE ON tariff_import
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();

CREATE FUNCTION tariff_import_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1837, 0);
    NEW.in_force_at := clock_timestamp();
    RETURN NEW;
END
$$;
CREATE TRIGGER tariff_import_stamp
    BEFORE INSERT ON tariff_import
    FOR EACH ROW EXECUTE FUNCTION tariff_import_stamp();

-- The version in force at p_known (NULL: the newest one); NULL when there
-- was none yet.
CREATE FUNCTION tariff_version_at(p_known timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT id FROM tariff_import WHERE p_known IS NULL OR in_force_at <= p_known
    ORDER BY in_force_at DESC, id DESC LIMIT 1
$$;

-- The tariff lines of the codes valid on a date in one version, as CSV
-- lines (code,start,end,fee,share,types), as coverage_lookup gives them.
CREATE FUNCTION tariff_lines(p_version bigint, p_codes text[], p_date date) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(t.code || ',' || lower(t.period) || ',' || (upper(t.period) - 1)
                      || ',' || t.fee_cents || ',' || t.patient_share_cents || ','
                      || array_to_string(t.care_types, '|'), E'\n' ORDER BY t.code, lower(t.period))
    FROM tariff t WHERE t.import_id = p_version AND t.code = ANY (p_codes) AND t.period @> p_date
$$;

-- The month's cap use, reproducible at any moment: an agreement that takes
-- from a monthly cap is stamped (cap_at) when it holds the person's lock,
-- and a void likewise (voided_at), so the use the coverage answer read
-- (cap_usage, under the person's lock in shared mode) is exactly the sum of
-- the agreements stamped at or before its known_at, less the voids stamped
-- at or before it. Agreements of earlier releases count from issued_at.
ALTER TABLE agreement ADD COLUMN cap_at timestamptz;

CREATE FUNCTION agreement_cap_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1836, hashtext(NEW.ssin));
    NEW.cap_at := clock_timestamp();
    RETURN NEW;
END
$$;
CREATE TRIGGER agreement_cap_stamp
    BEFORE INSERT ON agreement
    FOR EACH ROW WHEN (NEW.cap_cents > 0) EXECUTE FUNCTION agreement_cap_stamp();

-- cap_usage changes under the person's lock, taken before the row's lock
-- (BEFORE INSERT fires before ON CONFLICT locks the row), in the same order
-- as a void takes them (agreement_void first, then cap_usage).
CREATE FUNCTION cap_usage_lock() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1836, hashtext(NEW.ssin));
    RETURN NEW;
END
$$;
CREATE TRIGGER cap_usage_lock
    BEFORE INSERT OR UPDATE ON cap_usage
    FOR EACH ROW EXECUTE FUNCTION cap_usage_lock();

CREATE FUNCTION agreement_void_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1836, hashtext(a.ssin)) FROM agreement a
        WHERE a.number = NEW.number;
    NEW.voided_at := clock_timestamp();
    RETURN NEW;
END
$$;
CREATE TRIGGER agreement_void_stamp
    BEFORE INSERT ON agreement_void
    FOR EACH ROW EXECUTE FUNCTION agreement_void_stamp();

-- What the month's patient-share cap had granted at p_known.
CREATE FUNCTION cap_used_at(p_ssin text, p_care_type text, p_date date, p_known timestamptz)
RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(a.cap_cents), 0)::bigint FROM agreement a
    WHERE a.ssin = p_ssin AND a.care_type = p_care_type AND a.cap_cents > 0
      AND date_trunc('month', a.service_date) = date_trunc('month', p_date)
      AND coalesce(a.cap_at, a.issued_at) <= p_known
      AND NOT EXISTS (SELECT 1 FROM agreement_void v
                      WHERE v.number = a.number AND v.voided_at <= p_known)
$$;

-- As in 005 (same rows, same person's lock), with the tariff lock in shared
-- mode and the lines of the version in force at known_at.
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
    PERFORM pg_advisory_xact_lock_shared(1837, 0);
    k := clock_timestamp();
    RETURN QUERY
    SELECT x.decision_id, x.version, x.status, x.ocmw, x.body, x.recorded_at, x.death_date,
        tariff_lines(tariff_version_at(k), p_codes, p_date),
        coalesce((SELECT u.used_cents FROM cap_usage u WHERE u.ssin = p_ssin
                   AND u.care_type = p_care_type
                   AND u.month = date_trunc('month', p_date)::date), 0::bigint),
        x.before_stop,
        to_char(k AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    FROM (SELECT 1) one LEFT JOIN decisions_known(p_ssin, p_date, p_tz, NULL) x ON true
    ORDER BY x.decision_id;
END
$$;

-- What the registry would have answered at p_known: the rows of audit_as_of,
-- with the tariff lines of the version in force then (and that version) and
-- the month's cap use then. At least one row.
CREATE FUNCTION coverage_as_of(p_ssin text, p_date date, p_tz text, p_care_type text,
                               p_codes text[], p_known timestamptz)
RETURNS TABLE (decision_id text, version integer, status text, ocmw text, body text,
               recorded_at text, death_date text, before_stop text, today date, known_at text,
               tariffs text, used_cents bigint, tariff_version bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.*, tariff_lines(tariff_version_at(p_known), p_codes, p_date),
        cap_used_at(p_ssin, p_care_type, p_date, p_known), tariff_version_at(p_known)
    FROM audit_as_of(p_ssin, p_date, p_tz, p_known) a
$$;

GRANT EXECUTE ON FUNCTION tariff_version_at(timestamptz), tariff_lines(bigint, text[], date),
                          cap_used_at(text, text, date, timestamptz),
                          coverage_lookup(text, date, text, text, text[]),
                          coverage_as_of(text, date, text, text, text[], timestamptz) TO PUBLIC;
