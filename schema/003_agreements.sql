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
CREATE INDEX agreement_provider_idx ON agreement (provider_org, issued_at);

-- A provider may void an agreement it was issued (it will not bill it);
-- the amount goes back to the month. The agreement itself never changes.
CREATE TABLE agreement_void (
    number    text PRIMARY KEY REFERENCES agreement (number),
    voided_at timestamptz NOT NULL DEFAULT now(),
    voided_by bigint NOT NULL REFERENCES principal (id)
);
