-- 008_invoices: the paying fund (role fund), invoices checked against their
-- agreements, payments, and what each payer owes (DOMAIN.md "Invoices and
-- settlement").
--
-- Invoices, their lines and payments are append-only (medaid_refuse_change)
-- and each leaves an audit record from a deferred trigger, in the same
-- transaction, like agreements (004). The daemon's role may only INSERT
-- them (`medaidd migrate`: grants).

ALTER TABLE principal DROP CONSTRAINT principal_role_check;
ALTER TABLE principal ADD CONSTRAINT principal_role_check
    CHECK (role IN ('ocmw', 'provider', 'auditor', 'admin', 'fund'));

-- The agreed items of an agreement: its answer's items that were not
-- refused, one row per code (a code asked twice counts as one item: the
-- sum of its quantities and amounts). None for a refused answer.
CREATE FUNCTION agreement_items(p_number text)
RETURNS TABLE (code text, quantity bigint, state_cents bigint, ocmw_cents bigint)
LANGUAGE sql STABLE AS $$
    SELECT i->>'code', sum((i->>'quantity')::bigint), sum((i->>'state_cents')::bigint),
           sum((i->>'ocmw_cents')::bigint)
    FROM agreement a, jsonb_array_elements(CASE WHEN a.covered AND jsonb_typeof(
             a.answer::jsonb->'items') = 'array' THEN a.answer::jsonb->'items'
             ELSE '[]'::jsonb END) i
    WHERE a.number = p_number AND NOT (i ? 'refused')
    GROUP BY i->>'code'
$$;

CREATE SEQUENCE invoice_number_seq;

-- An invoice as the provider sent it and as the registry answered it: the
-- answer is stored exactly as it was sent (a retry with the same
-- Idempotency-Key gets it again).
CREATE TABLE invoice (
    id             text PRIMARY KEY CHECK (id ~ '^I[0-9]{4}-[0-9]{8}$'),
    provider_id    bigint NOT NULL REFERENCES principal (id),
    provider_org   text NOT NULL,
    invoice_date   date NOT NULL,       -- the registry's calendar day it came in
    reference      text,                -- the provider's own invoice number
    idem_key       text,
    request_hash   text NOT NULL,
    submitted_at   timestamptz NOT NULL DEFAULT now(),
    status         text NOT NULL CHECK (status IN ('accepted', 'partial', 'rejected')),
    state_cents    bigint NOT NULL CHECK (state_cents >= 0),   -- accepted lines' state share
    ocmw_cents     bigint NOT NULL CHECK (ocmw_cents >= 0),    -- accepted lines' OCMW share
    answer         text NOT NULL,
    UNIQUE (provider_org, idem_key)
);
CREATE INDEX invoice_provider_idx ON invoice (provider_org, invoice_date);
CREATE INDEX invoice_date_idx ON invoice (invoice_date);

-- Every line with its outcome; what the agreement says about it is copied
-- (NULL when the agreement is unknown to that provider), so that statements
-- read one table.
CREATE TABLE invoice_line (
    invoice_id    text NOT NULL REFERENCES invoice (id),
    line_no       integer NOT NULL CHECK (line_no >= 1),
    agreement     text NOT NULL,
    code          text NOT NULL,
    quantity      integer NOT NULL CHECK (quantity >= 1),
    state_cents   bigint NOT NULL CHECK (state_cents >= 0),
    ocmw_cents    bigint NOT NULL CHECK (ocmw_cents >= 0),
    patient_cents bigint NOT NULL CHECK (patient_cents >= 0),
    accepted      boolean NOT NULL,
    reason        text,
    ocmw          text,
    ssin          text,
    service_date  date,
    PRIMARY KEY (invoice_id, line_no),
    CHECK (accepted = (reason IS NULL)),
    CHECK (NOT accepted OR (ocmw IS NOT NULL AND ssin IS NOT NULL))
);
CREATE INDEX invoice_line_item_idx ON invoice_line (agreement, code) WHERE accepted;
CREATE INDEX invoice_line_ocmw_idx ON invoice_line (ocmw) WHERE accepted;

-- What the fund paid of an invoice's state share.
CREATE TABLE payment (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id   text NOT NULL REFERENCES invoice (id),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 1),
    paid_on      date NOT NULL,
    reference    text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  bigint NOT NULL REFERENCES principal (id),
    UNIQUE (invoice_id, reference)
);

CREATE TRIGGER invoice_append_only BEFORE UPDATE OR DELETE ON invoice
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();
CREATE TRIGGER invoice_line_append_only BEFORE UPDATE OR DELETE ON invoice_line
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();
CREATE TRIGGER payment_append_only BEFORE UPDATE OR DELETE ON payment
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();

-- Writers of an agreement's invoice lines and its void hold this lock until
-- they commit; whoever takes it next reads (VOLATILE: a fresh snapshot per
-- query) what the previous holder committed.
CREATE FUNCTION agreement_lock(p_number text) RETURNS void LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock(1837, hashtext(p_number))
$$;

-- Record one invoice with all its line outcomes, or nothing.
-- p_lines: [{agreement, code, quantity, state_cents, ocmw_cents,
-- patient_cents, accepted, reason}] in line order, as the daemon checked
-- them (proto/invoice.c) against p_seen: [{agreement, voided, code, billed}],
-- the facts it read (whether each quoted agreement was void; per agreed
-- item the quantity already accepted). Under the locks of the quoted
-- agreements, those facts must still hold, else serialization_failure (the
-- daemon reads and checks again). Whatever the caller says, no item is then
-- accepted beyond its quantity, and no line of a void, refused or unknown
-- agreement is accepted (check_violation).
CREATE FUNCTION invoice_record(p_provider bigint, p_org text, p_key text, p_hash text,
                               p_date date, p_reference text, p_answer text, p_status text,
                               p_lines jsonb, p_seen jsonb)
RETURNS TABLE (id text, answer text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ag  text;
    inv text;
    ans text;
BEGIN
    FOR ag IN SELECT DISTINCT l->>'agreement' FROM jsonb_array_elements(p_lines) l ORDER BY 1
    LOOP
        PERFORM agreement_lock(ag);
    END LOOP;
    IF EXISTS (
        SELECT 1 FROM jsonb_to_recordset(p_seen) AS s(agreement text, voided boolean, code text,
                                                       billed bigint)
        WHERE s.voided IS DISTINCT FROM
                  EXISTS (SELECT 1 FROM agreement_void v WHERE v.number = s.agreement)
           OR (s.code IS NOT NULL AND s.billed IS DISTINCT FROM
                  (SELECT coalesce(sum(l.quantity), 0) FROM invoice_line l
                    WHERE l.agreement = s.agreement AND l.code = s.code AND l.accepted)))
    THEN
        RAISE EXCEPTION 'the agreements of this invoice changed meanwhile'
            USING ERRCODE = 'serialization_failure';
    END IF;
    inv := 'I' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'
           || lpad(nextval('invoice_number_seq')::text, 8, '0');
    ans := '{"invoice":"' || inv || '",' || substr(p_answer, 2);
    INSERT INTO invoice (id, provider_id, provider_org, invoice_date, reference, idem_key,
                         request_hash, status, state_cents, ocmw_cents, answer)
    SELECT inv, p_provider, p_org, p_date, p_reference, p_key, p_hash, p_status,
           coalesce(sum(x.state_cents) FILTER (WHERE x.accepted), 0),
           coalesce(sum(x.ocmw_cents) FILTER (WHERE x.accepted), 0), ans
    FROM jsonb_to_recordset(p_lines) AS x(state_cents bigint, ocmw_cents bigint, accepted boolean);
    INSERT INTO invoice_line (invoice_id, line_no, agreement, code, quantity, state_cents,
                              ocmw_cents, patient_cents, accepted, reason, ocmw, ssin,
                              service_date)
    SELECT inv, x.ord, x.j->>'agreement', x.j->>'code', (x.j->>'quantity')::integer,
           (x.j->>'state_cents')::bigint, (x.j->>'ocmw_cents')::bigint,
           (x.j->>'patient_cents')::bigint, (x.j->>'accepted')::boolean, x.j->>'reason',
           d.ocmw, a.ssin, a.service_date
    FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS x(j, ord)
    LEFT JOIN agreement a ON a.number = x.j->>'agreement' AND a.provider_org = p_org
    LEFT JOIN decision d ON d.id = a.decision_id;
    IF EXISTS (
        SELECT 1 FROM invoice_line l
        LEFT JOIN agreement a ON a.number = l.agreement AND a.provider_org = p_org
        WHERE l.invoice_id = inv AND l.accepted
          AND (a.number IS NULL OR NOT a.covered
               OR EXISTS (SELECT 1 FROM agreement_void v WHERE v.number = l.agreement)
               OR (SELECT sum(b.quantity) FROM invoice_line b WHERE b.agreement = l.agreement
                      AND b.code = l.code AND b.accepted)
                  > coalesce((SELECT i.quantity FROM agreement_items(l.agreement) i
                               WHERE i.code = l.code), 0)))
    THEN
        RAISE EXCEPTION 'an invoice line over its agreement' USING ERRCODE = 'check_violation';
    END IF;
    RETURN QUERY SELECT inv, ans;
END
$$;

-- An agreement with an accepted invoice line can no longer be voided: the
-- void takes the agreement's lock, then looks (fresh snapshot) for one.
CREATE FUNCTION agreement_void_unbilled() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM agreement_lock(NEW.number);
    IF EXISTS (SELECT 1 FROM invoice_line l WHERE l.agreement = NEW.number AND l.accepted) THEN
        RAISE EXCEPTION 'agreement % has an accepted invoice line', NEW.number
            USING ERRCODE = 'MDB01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER agreement_void_unbilled BEFORE INSERT ON agreement_void
    FOR EACH ROW EXECUTE FUNCTION agreement_void_unbilled();

-- Never more paid of an invoice than its accepted state share: payments of
-- one invoice are serialised by a lock, and the sum is read after it.
CREATE FUNCTION payment_within_due() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    due  bigint;
    paid bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(1838, hashtext(NEW.invoice_id));
    SELECT i.state_cents INTO due FROM invoice i WHERE i.id = NEW.invoice_id;
    SELECT coalesce(sum(p.amount_cents), 0) INTO paid FROM payment p
     WHERE p.invoice_id = NEW.invoice_id;
    IF paid + NEW.amount_cents > due THEN
        RAISE EXCEPTION 'payment over the invoice''s state share'
            USING ERRCODE = 'MDP01', DETAIL = 'due ' || due || ', paid ' || paid;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER payment_within_due BEFORE INSERT ON payment
    FOR EACH ROW EXECUTE FUNCTION payment_within_due();

-- ---- audit records (004: same transaction, deferred to commit) ---------------

CREATE FUNCTION audit_invoice() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM audit_append(NEW.provider_id, NEW.provider_org, 'invoice.submit', NEW.id,
        json_build_object('invoice_date', NEW.invoice_date, 'reference', NEW.reference,
                          'status', NEW.status, 'state_cents', NEW.state_cents,
                          'ocmw_cents', NEW.ocmw_cents,
                          'answer_sha256', encode(sha256(convert_to(NEW.answer, 'UTF8')), 'hex')
                         )::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_invoice_line() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM audit_append((SELECT i.provider_id FROM invoice i WHERE i.id = NEW.invoice_id),
        (SELECT i.provider_org FROM invoice i WHERE i.id = NEW.invoice_id),
        CASE WHEN NEW.accepted THEN 'invoice.line_accept' ELSE 'invoice.line_reject' END,
        NEW.invoice_id || '/' || NEW.line_no,
        json_build_object('agreement', NEW.agreement, 'code', NEW.code,
                          'quantity', NEW.quantity, 'state_cents', NEW.state_cents,
                          'ocmw_cents', NEW.ocmw_cents, 'patient_cents', NEW.patient_cents,
                          'reason', NEW.reason, 'ocmw', NEW.ocmw)::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_payment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM audit_append(NEW.recorded_by, audit_org(NEW.recorded_by), 'payment.add',
        NEW.invoice_id,
        json_build_object('payment', NEW.id, 'amount_cents', NEW.amount_cents,
                          'date', NEW.paid_on, 'reference', NEW.reference)::text);
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER audit AFTER INSERT ON invoice
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_invoice();
CREATE CONSTRAINT TRIGGER audit AFTER INSERT ON invoice_line
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_invoice_line();
CREATE CONSTRAINT TRIGGER audit AFTER INSERT ON payment
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_payment();

REVOKE EXECUTE ON FUNCTION audit_invoice(), audit_invoice_line(), audit_payment() FROM PUBLIC;
