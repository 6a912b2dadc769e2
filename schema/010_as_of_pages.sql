-- 010_as_of_pages: coverage-as-of judges the provider's kind; audit_missing in pages.
--
-- The kinds the provider principals of organisation p_org had at p_known:
-- those registered by then and not revoked by then, each kind once, in
-- name order; empty when there was none. The as-of answer judges the care
-- type asked against them as the live answer judged it against the asking
-- principal's kind (DOMAIN.md "Provider kinds").
CREATE FUNCTION provider_kinds_at(p_org text, p_known timestamptz) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT p.kind ORDER BY p.kind), '{}'::text[])
      FROM principal p
     WHERE p.role = 'provider' AND p.organisation = p_org AND p.created_at <= p_known
       AND (p.revoked_at IS NULL OR p.revoked_at > p_known)
$$;
GRANT EXECUTE ON FUNCTION provider_kinds_at(text, timestamptz) TO PUBLIC;

-- audit_missing (006) in pages, as verify walks the chains: one statement
-- over the whole of decision_version or agreement exceeds db_wait_timeout_ms
-- at a few hundred thousand rows. A page is the versions of the next p_limit
-- decisions after p_after (p_kind 'decision_version'), or the next p_limit
-- agreements after p_after (p_kind 'agreement'), by primary key: their rows
-- without exactly one record of their own, in audit_missing's order
-- (object), then one row with kind NULL and next_after the page's last key
-- (NULL: there is no more, the page was shorter than p_limit). All pages of 'decision_version' and then of
-- 'agreement', in order, give audit_missing's rows in its order.
CREATE FUNCTION audit_missing_page(p_kind text, p_after text, p_limit integer)
RETURNS TABLE (kind text, object text, records bigint, next_after text)
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
DECLARE
    last text;
    n integer;
BEGIN
    IF p_kind = 'decision_version' THEN
        SELECT max(d.id), count(*) INTO last, n
          FROM (SELECT id FROM decision WHERE id > coalesce(p_after, '')
                ORDER BY id LIMIT p_limit) d;
        RETURN QUERY
        SELECT 'decision_version'::text, x.obj, x.n, NULL::text
          FROM (SELECT v.decision_id || '/' || v.version AS obj,
                       (SELECT count(*) FROM audit_log l
                         WHERE l.object = v.decision_id || '/' || v.version
                           AND l.action = 'decision.' || v.change) AS n
                  FROM decision_version v
                 WHERE v.decision_id > coalesce(p_after, '') AND v.decision_id <= last) x
         WHERE x.n <> 1
         ORDER BY x.obj;
    ELSIF p_kind = 'agreement' THEN
        SELECT max(a.number), count(*) INTO last, n
          FROM (SELECT number FROM agreement WHERE number > coalesce(p_after, '')
                ORDER BY number LIMIT p_limit) a;
        RETURN QUERY
        SELECT 'agreement'::text, x.obj, x.n, NULL::text
          FROM (SELECT a.number AS obj,
                       (SELECT count(*) FROM audit_log l WHERE l.object = a.number
                           AND l.action = 'agreement.issue') AS n
                  FROM agreement a
                 WHERE a.number > coalesce(p_after, '') AND a.number <= last) x
         WHERE x.n <> 1
         ORDER BY x.obj;
    END IF;
    -- a page shorter than p_limit is the last one
    RETURN QUERY SELECT NULL::text, NULL::text, NULL::bigint,
                        CASE WHEN n < p_limit THEN NULL ELSE last END;
END
$$;
GRANT EXECUTE ON FUNCTION audit_missing_page(text, text, integer) TO PUBLIC;
