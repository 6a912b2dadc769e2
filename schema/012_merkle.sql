-- 012_merkle: the audit trail as a Merkle tree (RFC 9162 hashing), kept
-- incrementally, with proofs of inclusion and consistency.
--
-- Leaves are every audit record in seq order: leaf i is the record with the
-- i-th smallest seq (a gap in seq takes no leaf), and its hash is
--     SHA-256(0x00 || the UTF-8 bytes of audit_canonical(record))
-- (the canonical text its chain hash covers, without prev_hash); a node is
-- SHA-256(0x01 || left || right). MTH(D[a:b]) is RFC 9162's.
--
-- audit_tree_node keeps the hash of every complete subtree: (level, idx) is
-- the subtree of the 2^level leaves from idx * 2^level, level 0 the leaves.
-- Appending a leaf adds its node and the complete subtrees it closes (one
-- on average), never a recomputation; any MTH(D[a:b]) of the proofs is then
-- a few lookups (audit_tree_hash), so proofs cost O(log n) reads.

CREATE TABLE audit_tree_leaf (
    idx bigint PRIMARY KEY CHECK (idx >= 0),
    seq bigint NOT NULL UNIQUE
);
CREATE TABLE audit_tree_node (
    level smallint NOT NULL CHECK (level BETWEEN 0 AND 62),
    idx   bigint NOT NULL CHECK (idx >= 0),
    hash  bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);
CREATE TRIGGER audit_tree_leaf_append_only
    BEFORE UPDATE OR DELETE ON audit_tree_leaf
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();
CREATE TRIGGER audit_tree_node_append_only
    BEFORE UPDATE OR DELETE ON audit_tree_node
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();

-- Signed tree heads (made by the daemon with its audit_signing_key, like
-- the checkpoints of 006: slot is the interval's number, NULL on demand);
-- signed is the exact text the signature covers (docs/auditing.md).
CREATE TABLE audit_tree_head (
    id         bigserial PRIMARY KEY,
    slot       bigint UNIQUE,
    made_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    tree_size  bigint NOT NULL CHECK (tree_size >= 0),
    root_hash  text NOT NULL,
    key_id     text NOT NULL,
    signed     text NOT NULL,
    signature  text NOT NULL,
    answer     text NOT NULL
);
CREATE TRIGGER audit_tree_head_append_only
    BEFORE UPDATE OR DELETE ON audit_tree_head
    FOR EACH ROW EXECUTE FUNCTION medaid_refuse_change();

-- A record's leaf hash, from its stored columns alone.
CREATE FUNCTION audit_tree_leaf_hash(r audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256('\x00'::bytea || convert_to(audit_canonical(r.seq, r.chain, r.chain_seq,
        r.recorded_at, r.principal_id, r.organisation, r.action, r.object, r.detail), 'UTF8'))
$$;

-- The largest power of two below n (n >= 2).
CREATE FUNCTION audit_tree_split(n bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE k bigint := 1;
BEGIN
    WHILE k * 2 < n LOOP
        k := k * 2;
    END LOOP;
    RETURN k;
END
$$;

-- MTH(D[a:b]) from the stored complete subtrees (NULL when a leaf of the
-- range is not in the tree); a = b: the empty tree's hash.
CREATE FUNCTION audit_tree_hash(a bigint, b bigint) RETURNS bytea
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    len bigint := b - a;
    lvl integer := 0;
    k bigint;
    res bytea;
BEGIN
    IF len <= 0 THEN
        RETURN sha256(''::bytea);
    END IF;
    IF len & (len - 1) = 0 AND a % len = 0 THEN
        WHILE (1::bigint << lvl) < len LOOP
            lvl := lvl + 1;
        END LOOP;
        SELECT hash INTO res FROM audit_tree_node WHERE level = lvl AND idx = a / len;
        RETURN res;
    END IF;
    k := audit_tree_split(len);
    RETURN sha256('\x01'::bytea || audit_tree_hash(a, a + k) || audit_tree_hash(a + k, b));
END
$$;

-- The number of leaves.
CREATE FUNCTION audit_tree_size() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT idx + 1 FROM audit_tree_leaf ORDER BY idx DESC LIMIT 1), 0)
$$;

-- Append the records not in the tree yet, in seq order, at most p_max of
-- them; returns the tree's size and root hash after.
--
-- Records commit out of seq order (several writers), so a record is added
-- only once no record with a smaller seq can still commit: every append
-- takes its seq while holding its chain's head (audit_append) until its
-- transaction ends, so once this function has held every head, every seq up
-- to the largest head's last_seq is committed or rolled back for good. The
-- heads are locked in a subtransaction rolled back at once: writers wait
-- for that moment only, not while leaves are added. One extender at a time
-- (an advisory lock).
CREATE FUNCTION audit_tree_extend(p_max integer)
RETURNS TABLE (tree_size bigint, root_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    n bigint;
    v_last bigint;
    horizon bigint;
    r audit_log%ROWTYPE;
    h bytea;
    lft bytea;
    lvl integer;
    i bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit_tree_extend: needs READ COMMITTED' USING ERRCODE = '25000';
    END IF;
    PERFORM pg_advisory_xact_lock(7210120012);
    SELECT l.idx + 1, l.seq INTO n, v_last FROM audit_tree_leaf l ORDER BY l.idx DESC LIMIT 1;
    IF NOT FOUND THEN
        n := 0;
        v_last := 0;
    END IF;
    BEGIN
        PERFORM 1 FROM audit_head ORDER BY chain FOR UPDATE;
        SELECT max(last_seq) INTO horizon FROM audit_head;
        RAISE EXCEPTION 'release the heads' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    FOR r IN SELECT * FROM audit_log a WHERE a.seq > v_last AND a.seq <= horizon
              ORDER BY a.seq LIMIT greatest(p_max, 0) LOOP
        h := audit_tree_leaf_hash(r);
        INSERT INTO audit_tree_leaf VALUES (n, r.seq);
        INSERT INTO audit_tree_node VALUES (0, n, h);
        lvl := 0;
        i := n;
        WHILE i % 2 = 1 LOOP
            SELECT t.hash INTO lft FROM audit_tree_node t WHERE t.level = lvl AND t.idx = i - 1;
            h := sha256('\x01'::bytea || lft || h);
            lvl := lvl + 1;
            i := i / 2;
            INSERT INTO audit_tree_node VALUES (lvl, i, h);
        END LOOP;
        n := n + 1;
    END LOOP;
    tree_size := n;
    root_hash := audit_tree_hash(0, n);
    RETURN NEXT;
END
$$;
-- Anyone may extend: the leaves come from the log alone, as they would
-- anyway; the daemon calls it before signing a tree head.
GRANT EXECUTE ON FUNCTION audit_tree_extend(integer) TO PUBLIC;

-- RFC 9162 2.1.3.1: the inclusion path of leaf p_index in the tree of the
-- first p_size leaves (deepest first). NULL entries: not in the tree.
CREATE FUNCTION audit_tree_inclusion(p_index bigint, p_size bigint) RETURNS bytea[]
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    lo bigint := 0;
    hi bigint := p_size;
    k bigint;
    path bytea[] := '{}';
BEGIN
    WHILE hi - lo > 1 LOOP
        k := audit_tree_split(hi - lo);
        IF p_index < lo + k THEN
            path := array_prepend(audit_tree_hash(lo + k, hi), path);
            hi := lo + k;
        ELSE
            path := array_prepend(audit_tree_hash(lo, lo + k), path);
            lo := lo + k;
        END IF;
    END LOOP;
    RETURN path;
END
$$;

-- RFC 9162 2.1.4.1: the consistency path from the tree of p_first leaves to
-- that of p_second (0 < p_first <= p_second).
CREATE FUNCTION audit_tree_consistency(p_first bigint, p_second bigint) RETURNS bytea[]
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    lo bigint := 0;
    hi bigint := p_second;
    m bigint := p_first;
    whole boolean := true;
    k bigint;
    path bytea[] := '{}';
BEGIN
    LOOP
        IF m = hi - lo THEN
            IF NOT whole THEN
                path := array_prepend(audit_tree_hash(lo, hi), path);
            END IF;
            EXIT;
        END IF;
        k := audit_tree_split(hi - lo);
        IF m <= k THEN
            path := array_prepend(audit_tree_hash(lo + k, hi), path);
            hi := lo + k;
        ELSE
            path := array_prepend(audit_tree_hash(lo, lo + k), path);
            m := m - k;
            lo := lo + k;
            whole := false;
        END IF;
    END LOOP;
    RETURN path;
END
$$;

-- Hex text of a path: the hashes joined by ',' ('' when empty).
CREATE FUNCTION audit_tree_path_hex(p bytea[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT coalesce(string_agg(encode(x, 'hex'), ',' ORDER BY o), '')
      FROM unnest(p) WITH ORDINALITY AS u(x, o)
$$;
GRANT EXECUTE ON FUNCTION audit_tree_leaf_hash(audit_log), audit_tree_split(bigint),
    audit_tree_hash(bigint, bigint), audit_tree_size(), audit_tree_inclusion(bigint, bigint),
    audit_tree_consistency(bigint, bigint), audit_tree_path_hex(bytea[]) TO PUBLIC;
