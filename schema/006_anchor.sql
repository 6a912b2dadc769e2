-- 006_anchor: reads in the audit trail, signed checkpoints of the chain
-- heads, and the check that every version and agreement has its record.

-- Reads of a person's data (decision reads, histories, beneficiary lookups,
-- agreement reads, the auditors' queries), batched: the daemon appends every
-- read answered in one turn of a worker's loop with one call (one
-- transaction, one commit). Each record is appended with audit_append, so a
-- read is chained like a write. The daemon's role may call this function,
-- but only for reads: the action must start with 'read.', the principal must
-- exist, and its organisation is the principal's (audit_org), not the
-- caller's word. The daemon can thus add read records, never forge a write.
CREATE FUNCTION audit_append_reads(p_principal bigint[], p_action text[], p_object text[],
                                   p_detail text[])
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    i integer;
    n integer := coalesce(array_length(p_action, 1), 0);
BEGIN
    IF coalesce(array_length(p_principal, 1), 0) <> n
       OR coalesce(array_length(p_object, 1), 0) <> n
       OR coalesce(array_length(p_detail, 1), 0) <> n THEN
        RAISE EXCEPTION 'audit_append_reads: arrays of different lengths'
            USING ERRCODE = '22023';
    END IF;
    FOR i IN 1 .. n LOOP
        IF p_action[i] IS NULL OR p_action[i] NOT LIKE 'read.%' OR p_object[i] IS NULL
           OR p_detail[i] IS NULL OR p_detail[i]::json IS NULL THEN
            RAISE EXCEPTION 'audit_append_reads: not a read record' USING ERRCODE = '22023';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM principal WHERE id = p_principal[i]) THEN
            RAISE EXCEPTION 'audit_append_reads: no such principal' USING ERRCODE = '22023';
        END IF;
        PERFORM audit_append(p_principal[i], audit_org(p_principal[i]), p_action[i],
                             p_object[i], p_detail[i]);
    END LOOP;
    RETURN n;
END
$$;
REVOKE EXECUTE ON FUNCTION audit_append_reads(bigint[], text[], text[], text[]) FROM PUBLIC;
-- (`medaidd migrate` grants EXECUTE on it to the daemon's role.)

-- The person a record is about ("who read this person's data"): the SSIN in
-- its detail, for reads and for coverage answers (a coverage question reads
-- the person's decisions).
CREATE FUNCTION audit_person(p_action text, p_detail text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_action LIKE 'read.%' OR p_action = 'agreement.issue'
                THEN p_detail::json->>'ssin' END
$$;
CREATE INDEX audit_log_person_idx ON audit_log (audit_person(action, detail), seq)
    WHERE action LIKE 'read.%' OR action = 'agreement.issue';

-- Signed checkpoints of every chain's head (seq, chain_seq and hash), made
-- by the daemon with its Ed25519 key at an interval (slot: the interval's
-- number, one checkpoint per slot whatever the number of workers or
-- instances) and on demand (slot NULL). signed is the exact text the
-- signature covers (docs/auditing.md); answer the checkpoint as sent.
CREATE TABLE audit_checkpoint (
    id         bigserial PRIMARY KEY,
    slot       bigint UNIQUE,
    made_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    key_id     text NOT NULL,
    signed     text NOT NULL,
    signature  text NOT NULL,
    answer     text NOT NULL
);
CREATE TRIGGER audit_checkpoint_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();

-- Versions and agreements without exactly one audit record of their own
-- (at most p_limit): kind ('decision_version' or 'agreement'), the object
-- (D…/version or the agreement number) and how many records it has.
-- SECURITY INVOKER: the daemon's role reads these tables itself.
CREATE FUNCTION audit_missing(p_limit integer)
RETURNS TABLE (kind text, object text, records bigint)
LANGUAGE sql STABLE AS $$
    (SELECT 'decision_version', v.decision_id || '/' || v.version,
            (SELECT count(*) FROM audit_log l WHERE l.object = v.decision_id || '/' || v.version
                AND l.action = 'decision.' || v.change)
       FROM decision_version v
      WHERE (SELECT count(*) FROM audit_log l WHERE l.object = v.decision_id || '/' || v.version
                AND l.action = 'decision.' || v.change) <> 1
      ORDER BY 2 LIMIT p_limit)
    UNION ALL
    (SELECT 'agreement', a.number,
            (SELECT count(*) FROM audit_log l WHERE l.object = a.number
                AND l.action = 'agreement.issue')
       FROM agreement a
      WHERE (SELECT count(*) FROM audit_log l WHERE l.object = a.number
                AND l.action = 'agreement.issue') <> 1
      ORDER BY 2 LIMIT p_limit)
$$;
GRANT EXECUTE ON FUNCTION audit_missing(integer), audit_person(text, text) TO PUBLIC;
