-- 001_foundation: principals, decisions with append-only versions, and
-- agreements (every coverage answer, recorded before it is sent).
-- Applied once by `medaidd migrate`, in one transaction.

-- Versions, agreements and (later) the audit trail are append-only: the
-- database refuses to change or delete their rows, whoever asks.
CREATE FUNCTION medaid_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Who may connect: a client certificate (by SHA-256 fingerprint of its DER
-- encoding) mapped to a role and an organisation number.
CREATE TABLE principal (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cert_fingerprint text NOT NULL UNIQUE CHECK (cert_fingerprint ~ '^[0-9a-f]{64}$'),
    subject          text NOT NULL,
    role             text NOT NULL CHECK (role IN ('ocmw', 'provider', 'auditor', 'admin')),
    organisation     text NOT NULL CHECK (organisation ~ '^[0-9]{10,11}$'),
    name             text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);

-- A decision: its number never changes; what it says lives in its versions.
CREATE SEQUENCE decision_number_seq;
CREATE TABLE decision (
    id              text PRIMARY KEY CHECK (id ~ '^D[0-9]{4}-[0-9]{8}$'),
    ocmw            text NOT NULL CHECK (ocmw ~ '^[0-9]{10}$'),
    ssin            text NOT NULL CHECK (ssin ~ '^[0-9]{11}$'),
    kind            text NOT NULL CHECK (kind IN ('principle', 'coverage')),
    current_version integer NOT NULL DEFAULT 1 CHECK (current_version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      bigint NOT NULL REFERENCES principal (id)
);
CREATE INDEX decision_ssin_idx ON decision (ssin);

CREATE TABLE decision_version (
    decision_id  text NOT NULL REFERENCES decision (id),
    version      integer NOT NULL CHECK (version >= 1),
    status       text NOT NULL CHECK (status IN ('active', 'suspended', 'stopped')),
    period_start date NOT NULL,
    period_end   date NOT NULL,
    body         jsonb NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  bigint NOT NULL REFERENCES principal (id),
    PRIMARY KEY (decision_id, version),
    CHECK (period_start <= period_end)
);
CREATE TRIGGER decision_version_append_only
    BEFORE UPDATE OR DELETE ON decision_version
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();

-- Every coverage answer, covered or not, exactly as it was sent.
CREATE SEQUENCE agreement_number_seq;
CREATE TABLE agreement (
    number           text PRIMARY KEY CHECK (number ~ '^A[0-9]{4}-[0-9]{8}$'),
    issued_at        timestamptz NOT NULL DEFAULT now(),
    provider_id      bigint NOT NULL REFERENCES principal (id),
    provider_org     text NOT NULL,
    ssin             text NOT NULL,
    service_date     date NOT NULL,
    care_type        text NOT NULL,
    covered          boolean NOT NULL,
    reason           text,
    decision_id      text,
    decision_version integer,
    question         jsonb NOT NULL,
    answer           text NOT NULL,
    FOREIGN KEY (decision_id, decision_version)
        REFERENCES decision_version (decision_id, version),
    CHECK (covered = (reason IS NULL))
);
CREATE INDEX agreement_ssin_idx ON agreement (ssin, service_date);
CREATE TRIGGER agreement_append_only
    BEFORE UPDATE OR DELETE ON agreement
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();
