-- 002_lifecycle: versions with their kind of change, one decision per person
-- per day (enforced here, not only in the daemon), and idempotency keys.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- What each version did.
ALTER TABLE decision_version
    ADD COLUMN change text NOT NULL DEFAULT 'create'
        CHECK (change IN ('create', 'update', 'suspend', 'resume', 'stop'));

-- The current status and period of each decision, kept beside the pointer
-- to the current version (written in the same statement as the version).
ALTER TABLE decision
    ADD COLUMN status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'suspended', 'stopped')),
    ADD COLUMN period daterange;
UPDATE decision d
   SET status = v.status, period = daterange(v.period_start, v.period_end, '[]')
  FROM decision_version v
 WHERE v.decision_id = d.id AND v.version = d.current_version;
ALTER TABLE decision ALTER COLUMN period SET NOT NULL;
ALTER TABLE decision ADD CONSTRAINT decision_period_not_empty CHECK (NOT isempty(period));

-- One decision per person per day, across all OCMWs, principle and coverage
-- decisions each on their own. Stopped decisions stay in: a stop cuts the
-- period at the stop date, and the days they covered stay theirs.
ALTER TABLE decision ADD CONSTRAINT decision_one_per_person_per_day
    EXCLUDE USING gist (ssin WITH =, kind WITH =, period WITH &&);

-- A write with an Idempotency-Key answers a retry with its first answer.
CREATE TABLE idempotency_key (
    organisation text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash text NOT NULL,
    decision_id  text NOT NULL,
    version      integer NOT NULL,
    status_code  integer NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation, key),
    FOREIGN KEY (decision_id, version) REFERENCES decision_version (decision_id, version)
);
