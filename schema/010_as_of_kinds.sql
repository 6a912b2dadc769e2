-- 010_as_of_kinds: coverage-as-of judges the provider's kind.
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
