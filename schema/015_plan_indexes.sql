-- 015_plan_indexes: index scans for the audit and invoice lists on a grown registry
-- (issue 12, "Data growth"; tests/integration/tests_plans.py explains every statement
-- on 50 000 beneficiaries and fails on a sequential scan of a table that grows).
--
-- An OCMW's decisions (GET /v1/audit/decisions?ocmw=, and the OCMW's consultations
-- through them): decision had no index on ocmw, so both read all of decision.
CREATE INDEX decision_ocmw_idx ON decision (ocmw);
-- The answers given on those decisions (GET /v1/audit/consultations?ocmw=): agreement
-- had no index on decision_id, so the list joined all of agreement by hash.
CREATE INDEX agreement_decision_idx ON agreement (decision_id);
-- Decision versions in recording order, after a cursor or since a moment (the audit
-- list of decisions without filter, and every page after the first): read in index
-- order instead of sorting all of decision_version.
CREATE INDEX decision_version_recorded_idx ON decision_version (recorded_at, decision_id, version);
-- Consultations recorded in a period (GET /v1/audit/consultations?recorded_from=&
-- recorded_to=): neither table had an index on issued_at alone. BRIN: issued_at grows
-- with the insertion order, so a few pages' summary serves, at almost no cost per answer.
CREATE INDEX agreement_issued_brin ON agreement USING brin (issued_at);
CREATE INDEX card_consultation_issued_brin ON card_consultation USING brin (issued_at);
-- The card consultations that showed an OCMW (AUDIT_CONSULTATIONS: ocmws @> ARRAY[ocmw]).
CREATE INDEX card_consultation_ocmws_idx ON card_consultation USING gin (ocmws);
-- The invoices with a line for an OCMW, accepted or not (GET /v1/invoices?ocmw=):
-- invoice_line_ocmw_idx (008) has accepted lines only, so that EXISTS read all lines.
CREATE INDEX invoice_line_ocmw_invoice_idx ON invoice_line (ocmw, invoice_id);
-- invoice_record (008) looks its quoted agreements up by key (voids, lines billed);
-- jsonb_to_recordset's default estimate (100 rows) made the planner hash all of
-- agreement_void instead. By index whatever the estimate, as audit_missing (013).
ALTER FUNCTION invoice_record(bigint, text, text, text, date, text, text, text, jsonb, jsonb)
    SET enable_seqscan = off;
