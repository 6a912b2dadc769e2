-- 016_planned_functions: the small SQL-language functions the hot paths call,
-- in PL/pgSQL, with the same results (issue 12, "Where the time goes").
--
-- PostgreSQL inlines a SQL function only when its body is one expression
-- without FROM (or, for a set-returning function in FROM, one SELECT). These
-- were not inlinable, so PostgreSQL 15 parsed, analysed and planned their
-- bodies again on every statement that called them: every coverage answer
-- (tariff_version_at, tariff_lines in coverage_lookup), every read record
-- (audit_org in audit_append_reads), every card (provider_kinds_at). A
-- PL/pgSQL function keeps its plans for the connection's life. Measured on the
-- benchmark's data (docs/performance.md): coverage_lookup alone, one client,
-- 0.85 ms before and 0.65 ms after; coverage answers/s at 64 connections,
-- 20-24 % more in runs alternating before and after on the same data.
--
-- Same arguments, same volatility (STABLE), same answer, NULL included (a
-- scalar subquery with no row gives NULL, as the SQL body did).

CREATE OR REPLACE FUNCTION tariff_version_at(p_known timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT id FROM tariff_import WHERE p_known IS NULL OR in_force_at <= p_known
            ORDER BY in_force_at DESC, id DESC LIMIT 1);
END
$$;

CREATE OR REPLACE FUNCTION tariff_lines(p_version bigint, p_codes text[], p_date date)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT string_agg(t.code || ',' || lower(t.period) || ',' || (upper(t.period) - 1)
                              || ',' || t.fee_cents || ',' || t.patient_share_cents || ','
                              || array_to_string(t.care_types, '|'), E'\n'
                              ORDER BY t.code, lower(t.period))
              FROM tariff t
             WHERE t.import_id = p_version AND t.code = ANY (p_codes) AND t.period @> p_date);
END
$$;

CREATE OR REPLACE FUNCTION audit_org(p bigint) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT organisation FROM principal WHERE id = p), 'host');
END
$$;

CREATE OR REPLACE FUNCTION provider_kinds_at(p_org text, p_known timestamptz) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(DISTINCT p.kind ORDER BY p.kind), '{}'::text[])
              FROM principal p
             WHERE p.role = 'provider' AND p.organisation = p_org AND p.created_at <= p_known
               AND (p.revoked_at IS NULL OR p.revoked_at > p_known));
END
$$;

CREATE OR REPLACE FUNCTION cap_used_at(p_ssin text, p_care_type text, p_date date,
                                       p_known timestamptz)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(sum(a.cap_cents), 0)::bigint FROM agreement a
             WHERE a.ssin = p_ssin AND a.care_type = p_care_type AND a.cap_cents > 0
               AND date_trunc('month', a.service_date) = date_trunc('month', p_date)
               AND coalesce(a.cap_at, a.issued_at) <= p_known
               AND NOT EXISTS (SELECT 1 FROM agreement_void v
                               WHERE v.number = a.number AND v.voided_at <= p_known));
END
$$;

CREATE OR REPLACE FUNCTION audit_tree_size() RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT idx + 1 FROM audit_tree_leaf ORDER BY idx DESC LIMIT 1), 0);
END
$$;
