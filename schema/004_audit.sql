-- 004_audit: one tamper-evident audit trail.
--
-- Every decision version, agreement, void, tariff import and principal
-- change appends one record, from a trigger, in the same transaction as the
-- change. Records form hash chains: each hash is SHA-256 over the previous
-- record's hash (in its chain) and this record's canonical text, so
-- altering, removing or reordering any record breaks its chain at that
-- record. The triggers are deferred to commit, so a chain's head is locked
-- only while committing, and concurrent transactions use different chains.
--
-- The daemon's role gets no UPDATE, DELETE or TRUNCATE on these tables and
-- cannot call the append function (see `medaidd migrate`: grants).

CREATE SEQUENCE audit_seq;

-- Records form AUDIT_CHAINS independent hash chains (so that writers do not
-- queue behind one lock held through every commit's flush); within a chain
-- each record's hash covers the previous record's hash. seq orders all
-- records (a gap in seq is an append rolled back with its change);
-- (chain, chain_seq) has no gap.
CREATE TABLE audit_log (
    seq          bigint PRIMARY KEY,
    chain        smallint NOT NULL,
    chain_seq    bigint NOT NULL,
    recorded_at  timestamptz NOT NULL,
    principal_id bigint,          -- NULL: done from the host (medaidd principal ...)
    organisation text NOT NULL,   -- of the principal, or 'host'
    action       text NOT NULL,   -- decision.create, agreement.issue, ...
    object       text NOT NULL,   -- D2026-00000001/3, A2026-00000042, ...
    detail       text NOT NULL,   -- JSON
    prev_hash    text NOT NULL,
    hash         text NOT NULL,
    UNIQUE (chain, chain_seq)
);
CREATE INDEX audit_log_object_idx ON audit_log (object);
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();

-- The end of each chain.
CREATE TABLE audit_head (
    chain          smallint PRIMARY KEY,
    last_chain_seq bigint NOT NULL,
    last_seq       bigint NOT NULL,
    last_hash      text NOT NULL
);
INSERT INTO audit_head SELECT c, 0, 0, repeat('0', 64) FROM generate_series(0, 15) c;

-- The text a record's hash covers, computed from its stored columns alone
-- (the verifier uses the same function).
CREATE FUNCTION audit_canonical(seq bigint, chain smallint, chain_seq bigint,
                                recorded_at timestamptz, principal_id bigint,
                                organisation text, action text, object text, detail text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT json_build_array(seq, chain, chain_seq,
        to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        principal_id, organisation, action, object, detail)::text
$$;

-- Append one record to a chain no other transaction holds (SKIP LOCKED),
-- the same chain for every record of this transaction; the chain's head
-- stays locked until commit, so a chain never forks.
CREATE FUNCTION audit_append(p_principal bigint, p_organisation text, p_action text,
                             p_object text, p_detail text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    head audit_head%ROWTYPE;
    mine smallint := nullif(current_setting('medaid.audit_chain', true), '')::smallint;
    at   timestamptz;
    s    bigint;
    h    text;
BEGIN
    IF mine IS NULL THEN
        SELECT * INTO head FROM audit_head
         ORDER BY (chain - pg_backend_pid() % 16 + 16) % 16 LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            SELECT * INTO head FROM audit_head WHERE chain = pg_backend_pid() % 16 FOR UPDATE;
        END IF;
        PERFORM set_config('medaid.audit_chain', head.chain::text, true);
    ELSE
        SELECT * INTO head FROM audit_head WHERE chain = mine FOR UPDATE;
    END IF;
    at := clock_timestamp();
    s := nextval('audit_seq');
    h := encode(sha256(convert_to(head.last_hash || audit_canonical(s, head.chain,
             head.last_chain_seq + 1, at, p_principal, p_organisation, p_action, p_object,
             p_detail), 'UTF8')), 'hex');
    INSERT INTO audit_log VALUES (s, head.chain, head.last_chain_seq + 1, at, p_principal,
                                  p_organisation, p_action, p_object, p_detail,
                                  head.last_hash, h);
    UPDATE audit_head SET last_chain_seq = head.last_chain_seq + 1, last_seq = s, last_hash = h
     WHERE chain = head.chain;
END
$$;

CREATE FUNCTION audit_org(p bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT organisation FROM principal WHERE id = p), 'host')
$$;

CREATE FUNCTION audit_decision_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM audit_append(NEW.recorded_by, audit_org(NEW.recorded_by), 'decision.' || NEW.change,
        NEW.decision_id || '/' || NEW.version,
        json_build_object('status', NEW.status, 'start', NEW.period_start,
                          'end', NEW.period_end,
                          'body_sha256', encode(sha256(convert_to(NEW.body::text, 'UTF8')), 'hex')
                         )::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_agreement() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM audit_append(NEW.provider_id, NEW.provider_org, 'agreement.issue', NEW.number,
        json_build_object('ssin', NEW.ssin, 'service_date', NEW.service_date,
                          'care_type', NEW.care_type, 'covered', NEW.covered,
                          'reason', NEW.reason, 'decision', NEW.decision_id,
                          'decision_version', NEW.decision_version,
                          'answer_sha256', encode(sha256(convert_to(NEW.answer, 'UTF8')), 'hex')
                         )::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_agreement_void() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM audit_append(NEW.voided_by, audit_org(NEW.voided_by), 'agreement.void', NEW.number,
                         '{}');
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_tariff_import() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM audit_append(NEW.imported_by, audit_org(NEW.imported_by), 'tariffs.import',
        'tariffs/' || NEW.id,
        json_build_object('lines', NEW.lines, 'sha256', NEW.sha256)::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_principal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM audit_append(NULL, 'host', 'principal.add', 'principal/' || NEW.id,
            json_build_object('role', NEW.role, 'organisation', NEW.organisation,
                              'fingerprint', NEW.cert_fingerprint)::text);
    ELSIF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        PERFORM audit_append(NULL, 'host', 'principal.revoke', 'principal/' || NEW.id,
            json_build_object('role', NEW.role, 'organisation', NEW.organisation)::text);
    ELSE
        PERFORM audit_append(NULL, 'host', 'principal.change', 'principal/' || NEW.id, '{}');
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER audit AFTER INSERT ON decision_version
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_decision_version();
CREATE CONSTRAINT TRIGGER audit AFTER INSERT ON agreement
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_agreement();
CREATE CONSTRAINT TRIGGER audit AFTER INSERT ON agreement_void
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_agreement_void();
CREATE CONSTRAINT TRIGGER audit AFTER INSERT ON tariff_import
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_tariff_import();
CREATE CONSTRAINT TRIGGER audit AFTER INSERT OR UPDATE ON principal
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_principal();

-- Nobody but the owner calls these directly (triggers do not need EXECUTE).
REVOKE EXECUTE ON FUNCTION audit_append(bigint, text, text, text, text) FROM PUBLIC;
REVOKE USAGE ON SEQUENCE audit_seq FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION audit_decision_version(), audit_agreement(), audit_agreement_void(),
                           audit_tariff_import(), audit_principal() FROM PUBLIC;
