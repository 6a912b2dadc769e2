-- The agreements of one group commit, capped ones included, in one
-- statement (one transaction): every agreement that takes no part of a
-- monthly cap is recorded; one that does (p_granted not NULL) is recorded
-- only if the month's usage, at its turn, is still what its answer says was
-- used before it (p_used: the answer is signed with it) and what it grants
-- still fits under the cap (p_cap).
--
-- Caps are allocated in one deterministic order: by person (the hash of the
-- SSIN first, the order of the person's lock, so two group commits that
-- share people take their locks in the same order and never deadlock),
-- month and care type, then by arrival (the ordinal). Each month's usage is
-- read under the person's lock (cap_usage_lock, 009), advanced by every
-- agreement that fits, and written once. Once one of a month's agreements
-- is refused, the later ones of that month in this statement are refused
-- too (they were stated after it): so agreement numbers, taken before the
-- statement in arrival order, follow the cap, each agreement stating as
-- used what the agreements numbered before it granted.
--
-- Rows, one per element, by ordinal: the answer as recorded (NULL when a
-- capped one was not recorded: nothing of it is) and, for a capped one, the
-- month's usage after this statement (what to state it again with).
CREATE FUNCTION agreement_record_many(
    p_provider_id bigint[], p_provider_org text[], p_ssin text[], p_service_date date[],
    p_care_type text[], p_covered boolean[], p_reason text[], p_decision_id text[],
    p_decision_version integer[], p_question jsonb[], p_answer text[], p_known_at timestamptz[],
    p_number text[], p_granted bigint[], p_cap bigint[], p_used bigint[])
RETURNS TABLE (ord bigint, answer text, used_now bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    n integer := coalesce(cardinality(p_number), 0);
    fits boolean[] := array_fill(true, ARRAY[n]);
    group_of integer[] := array_fill(NULL::integer, ARRAY[n]);
    used_after bigint[] := '{}';
    r record;
    g integer := 0;
    g_ssin text;
    g_care text;
    g_month date;
    g_start bigint;
    g_refused boolean;
    cur bigint;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    FOR r IN
        SELECT u.ssin, u.care_type, date_trunc('month', u.service_date)::date AS month,
               u.granted, u.cap, u.used, u.o::integer AS o
        FROM unnest(p_ssin, p_service_date, p_care_type, p_granted, p_cap, p_used)
             WITH ORDINALITY AS u(ssin, service_date, care_type, granted, cap, used, o)
        WHERE u.granted IS NOT NULL
        ORDER BY hashtext(u.ssin), u.ssin, date_trunc('month', u.service_date), u.care_type, u.o
    LOOP
        IF g = 0 OR r.ssin <> g_ssin OR r.month <> g_month OR r.care_type <> g_care THEN
            IF g > 0 AND cur <> g_start THEN
                INSERT INTO cap_usage AS c (ssin, care_type, month, used_cents)
                VALUES (g_ssin, g_care, g_month, cur)
                ON CONFLICT (ssin, care_type, month) DO UPDATE SET used_cents = excluded.used_cents;
            END IF;
            g := g + 1;
            g_ssin := r.ssin;
            g_care := r.care_type;
            g_month := r.month;
            PERFORM pg_advisory_xact_lock(1836, hashtext(r.ssin));
            SELECT c.used_cents INTO cur FROM cap_usage c
             WHERE c.ssin = r.ssin AND c.care_type = r.care_type AND c.month = r.month;
            cur := coalesce(cur, 0);
            g_start := cur;
            g_refused := false;
        END IF;
        IF NOT g_refused AND r.granted >= 0 AND r.used = cur AND cur + r.granted <= r.cap THEN
            cur := cur + r.granted;
        ELSE
            fits[r.o] := false;
            g_refused := true;
        END IF;
        group_of[r.o] := g;
        used_after[g] := cur;
    END LOOP;
    IF g > 0 AND cur <> g_start THEN
        INSERT INTO cap_usage AS c (ssin, care_type, month, used_cents)
        VALUES (g_ssin, g_care, g_month, cur)
        ON CONFLICT (ssin, care_type, month) DO UPDATE SET used_cents = excluded.used_cents;
    END IF;
    INSERT INTO agreement (number, provider_id, provider_org, ssin, service_date, care_type,
        covered, reason, decision_id, decision_version, question, answer, cap_cents, known_at)
    SELECT u.number, u.provider_id, u.provider_org, u.ssin, u.service_date, u.care_type,
        u.covered, u.reason, u.decision_id, u.decision_version, u.question, u.answer,
        coalesce(u.granted, 0), u.known_at
    FROM unnest(p_provider_id, p_provider_org, p_ssin, p_service_date, p_care_type, p_covered,
                p_reason, p_decision_id, p_decision_version, p_question, p_answer, p_known_at,
                p_number, p_granted)
         WITH ORDINALITY AS u(provider_id, provider_org, ssin, service_date, care_type, covered,
                              reason, decision_id, decision_version, question, answer, known_at,
                              number, granted, o)
    WHERE fits[u.o]
    ORDER BY u.o;
    RETURN QUERY
    SELECT i::bigint, CASE WHEN fits[i] THEN p_answer[i] END,
           CASE WHEN group_of[i] IS NOT NULL THEN used_after[group_of[i]] END
    FROM generate_series(1, n) i
    ORDER BY i;
END
$$;

GRANT EXECUTE ON FUNCTION agreement_record_many(bigint[], text[], text[], date[], text[],
    boolean[], text[], text[], integer[], jsonb[], text[], timestamptz[], text[], bigint[],
    bigint[], bigint[]) TO PUBLIC;
