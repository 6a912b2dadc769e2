-- 011_agreement_keys: the public keys that signed coverage answers.
--
-- Every coverage answer (agreement) carries an Ed25519 signature over its
-- RFC 8785 form without the signature (docs/verifying.md). The daemon
-- records each signing key here before the first answer it signs is
-- recorded (in the statement that takes that answer's number), so that
-- GET /v1/keys keeps listing it after a rotation: a key is valid from its
-- first use until the next key's first use.
CREATE TABLE agreement_key (
    key_id     text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{64}$'),
    public_key text NOT NULL CHECK (public_key ~ '^[A-Za-z0-9+/]{43}=$'),
    first_used timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER agreement_key_append_only
    BEFORE UPDATE OR DELETE ON agreement_key
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();
