-- 007_kinds: provider kinds, and the provider's view of the card.

-- A provider principal has a kind (DOMAIN.md "Provider kinds"): what it may
-- ask about. The other roles have none. Providers registered before get
-- one from their number: hospital for a NIHII starting 710 or 720, else
-- general_practitioner.
ALTER TABLE principal ADD COLUMN kind text
    CHECK (kind IN ('hospital', 'general_practitioner', 'pharmacy', 'paramedical',
                    'medical_transport', 'prosthesis'));

-- The trail says a principal's kind when it is added or changed.
CREATE OR REPLACE FUNCTION audit_principal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM audit_append(NULL, 'host', 'principal.add', 'principal/' || NEW.id,
            json_build_object('role', NEW.role, 'organisation', NEW.organisation,
                              'fingerprint', NEW.cert_fingerprint, 'kind', NEW.kind)::text);
    ELSIF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        PERFORM audit_append(NULL, 'host', 'principal.revoke', 'principal/' || NEW.id,
            json_build_object('role', NEW.role, 'organisation', NEW.organisation)::text);
    ELSIF OLD.kind IS DISTINCT FROM NEW.kind THEN
        PERFORM audit_append(NULL, 'host', 'principal.change', 'principal/' || NEW.id,
            json_build_object('kind', NEW.kind)::text);
    ELSE
        PERFORM audit_append(NULL, 'host', 'principal.change', 'principal/' || NEW.id, '{}');
    END IF;
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION audit_principal() FROM PUBLIC;

UPDATE principal SET kind = CASE WHEN organisation ~ '^7[12]0[0-9]{8}$' THEN 'hospital'
                                 ELSE 'general_practitioner' END
 WHERE role = 'provider';
ALTER TABLE principal ADD CONSTRAINT principal_kind_of_providers
    CHECK ((role = 'provider') = (kind IS NOT NULL));

-- A provider's consultation of a person's card (DOMAIN.md "The provider's
-- view of the card"): its own number, what was asked, and the answer exactly
-- as it was sent; recorded before it is sent, append-only, in the trail.
CREATE SEQUENCE card_number_seq;
CREATE TABLE card_consultation (
    number       text PRIMARY KEY CHECK (number ~ '^C[0-9]{4}-[0-9]{8}$'),
    issued_at    timestamptz NOT NULL DEFAULT now(),
    provider_id  bigint NOT NULL REFERENCES principal (id),
    provider_org text NOT NULL,
    ssin         text NOT NULL,
    date_from    date NOT NULL,
    date_to      date NOT NULL,
    covered      boolean NOT NULL,          -- at least one cover shown
    reasons      text[] NOT NULL,           -- the refusal codes given, sorted, distinct
    ocmws        text[] NOT NULL,           -- the OCMWs of the covers shown
    answer       text NOT NULL,
    CHECK (date_from <= date_to AND date_to - date_from < 31)
);
CREATE INDEX card_consultation_ssin_idx ON card_consultation (ssin, date_from);
CREATE INDEX card_consultation_provider_idx ON card_consultation (provider_org, issued_at);
CREATE TRIGGER card_consultation_append_only
    BEFORE UPDATE OR DELETE ON card_consultation
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();

CREATE FUNCTION audit_card_consultation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM audit_append(NEW.provider_id, NEW.provider_org, 'card.consult', NEW.number,
        json_build_object('ssin', NEW.ssin, 'from', NEW.date_from, 'to', NEW.date_to,
                          'covered', NEW.covered, 'reasons', NEW.reasons,
                          'answer_sha256', encode(sha256(convert_to(NEW.answer, 'UTF8')), 'hex')
                         )::text);
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER audit AFTER INSERT ON card_consultation
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_card_consultation();
REVOKE EXECUTE ON FUNCTION audit_card_consultation() FROM PUBLIC;

-- The person's decisions as they stood for each day of [p_from, p_to]
-- (decisions_known, every version), read under the person's lock in shared
-- mode as coverage_lookup does. Rows ordered by day then decision; a day
-- without any decision is one row whose decision columns are NULL.
CREATE FUNCTION card_lookup(p_ssin text, p_from date, p_to date, p_tz text)
RETURNS TABLE (day date, decision_id text, version integer, status text, ocmw text, body text,
               recorded_at text, death_date text, before_stop text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1836, hashtext(p_ssin));
    RETURN QUERY
    SELECT g.day::date, x.decision_id, x.version, x.status, x.ocmw, x.body, x.recorded_at,
        x.death_date, x.before_stop
    FROM generate_series(p_from, p_to, interval '1 day') g(day)
    LEFT JOIN LATERAL decisions_known(p_ssin, g.day::date, p_tz, NULL) x ON true
    ORDER BY g.day, x.decision_id;
END
$$;
