"""The statements of reviews. Every table is filtered by `user_id` itself (and by `run_id`
where one run is asked about), so each is read through an index that starts with the user and
another user's rows are never read. Numbers people read count from 1 (`numbering.shown`).
"""

from __future__ import annotations

from workbench.runs.analysis.numbering import shown

# %(u)s user, %(r)s run: every result of the run in play order, with what the filters need.
# The run's attempts are read between its first and last id: when one run is much of the
# table, the planner would otherwise scan it whole, other users' rows too (the index by run is
# no longer deduplicated since migration 0011 put `id` in it instead of `status`). The two ids
# are looked up by row comparisons only `(user_id, run_id, id)` serves (with `user_id = ...` the
# primary key could serve the order, walking other runs' attempts to the first of this one).
# The range only narrows the join: its conditions on the user and run still decide the rows.
CANDIDATES = """
SELECT e.id, e.type, e.status,
       bool_or(e.status = 'PASSED') OVER same AND bool_or(e.status = 'FAILED') OVER same
FROM workbench.expectation_result e
JOIN workbench.run_attempt a ON a.id = e.attempt_id AND a.user_id = %(u)s AND a.run_id = %(r)s
     AND a.id BETWEEN (SELECT id FROM workbench.run_attempt WHERE (user_id, run_id, id)
                       > (%(u)s, %(r)s, -1) ORDER BY user_id, run_id, id LIMIT 1)
                  AND (SELECT id FROM workbench.run_attempt WHERE (user_id, run_id, id)
                       < (%(u)s, %(r)s, 9223372036854775807)
                       ORDER BY user_id DESC, run_id DESC, id DESC LIMIT 1)
WHERE e.user_id = %(u)s AND e.run_id = %(r)s
WINDOW same AS (PARTITION BY a.position, e.turn_index, e.expectation_index)
ORDER BY a.position, a.repeat, e.turn_index, e.expectation_index
"""

# Which of %(ids)s are results of the user's: the rest are NotFound, whoever owns them.
OWNED = """
SELECT e.id, e.run_id FROM workbench.expectation_result e
WHERE e.user_id = %(u)s AND e.id = ANY(%(ids)s)
"""

# The queue's items (%(ids)s), with the expectation as written and the judge's verdict.
ITEMS = f"""
SELECT e.id, e.run_id, s.scenario_name, {shown("a.position")}, {shown("a.repeat")},
       {shown("e.turn_index")}, {shown("e.expectation_index")}, e.type,
       coalesce(s.turns -> e.turn_index -> 'expectations' -> e.expectation_index ->> 'value',
                e.detail ->> 'assertion'),
       e.status, (e.detail ->> 'score')::float8, e.detail ->> 'reasoning',
       coalesce(e.detail ->> 'error', t.error), t.reply, l.label, l.comment, l.updated_at
FROM workbench.expectation_result e
JOIN workbench.run_attempt a ON a.id = e.attempt_id AND a.user_id = %(u)s
JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
     AND s.user_id = %(u)s
LEFT JOIN workbench.turn_result t ON t.attempt_id = e.attempt_id
     AND t.turn_index = e.turn_index AND t.user_id = %(u)s
LEFT JOIN workbench.review_label l ON l.result_id = e.id AND l.user_id = %(u)s
WHERE e.user_id = %(u)s AND e.id = ANY(%(ids)s)
"""

# The label, with a copy of what it labels (results never change once written).
UPSERT_LABEL = """
INSERT INTO workbench.review_label AS l
    (user_id, result_id, run_id, label, comment, type, judge_status, judge_prompt_version,
     threshold, judge_score, labelled_by, created_at, updated_at)
SELECT %(u)s, e.id, e.run_id, %(label)s, %(comment)s, e.type, e.status,
       e.detail ->> 'prompt_version', (e.detail ->> 'threshold')::float8,
       (e.detail ->> 'score')::float8, %(u)s, %(now)s, %(now)s
FROM workbench.expectation_result e WHERE e.user_id = %(u)s AND e.id = %(id)s
ON CONFLICT (user_id, result_id) DO UPDATE
SET label = excluded.label,
    comment = CASE WHEN %(keep)s THEN l.comment ELSE excluded.comment END,
    labelled_by = excluded.labelled_by, updated_at = excluded.updated_at
RETURNING l.label, l.comment, l.created_at, l.updated_at
"""

RECORD_CHANGE = """
INSERT INTO workbench.review_label_change
    (user_id, result_id, run_id, label, comment, changed_by, changed_at)
VALUES (%(u)s, %(id)s, %(r)s, %(label)s, %(comment)s, %(u)s, %(now)s)
"""

HISTORY = """
SELECT result_id, label, comment, changed_by, changed_at FROM workbench.review_label_change
WHERE user_id = %(u)s AND result_id = %(id)s ORDER BY id
"""

# What agreement may be grouped by, and the expression of each (NULL when not grouped by it).
GROUPS = {
    "type": ("type", "NULL::text"),
    "judge_prompt_version": ("judge_prompt_version", "NULL::text"),
    "threshold": ("threshold", "NULL::float8"),
}

# Agreement's counts: judge (PASSED/FAILED) against people (pass/fail) per expectation type,
# judge prompt version and threshold; "unsure" and the judge's ERRORs are counted, not paired.
AGREEMENT = """
SELECT {type}, {judge_prompt_version}, {threshold},
       count(*) FILTER (WHERE judge_status = 'PASSED' AND label = 'pass'),
       count(*) FILTER (WHERE judge_status = 'PASSED' AND label = 'fail'),
       count(*) FILTER (WHERE judge_status = 'FAILED' AND label = 'pass'),
       count(*) FILTER (WHERE judge_status = 'FAILED' AND label = 'fail'),
       count(*) FILTER (WHERE label = 'unsure'),
       count(*) FILTER (WHERE judge_status = 'ERROR' AND label <> 'unsure')
FROM workbench.review_label
WHERE user_id = %(u)s AND run_id = %(r)s
GROUP BY 1, 2, 3
ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST
"""

# The same counts for SEMANTIC_ASSERT at each threshold of %(cuts)s, from the stored scores:
# labels counted per distinct score first, so each threshold sums a few rows, not every label.
THRESHOLD_CURVE = """
WITH scored AS (
    SELECT judge_score AS score, count(*) FILTER (WHERE label = 'pass') AS yes,
           count(*) FILTER (WHERE label = 'fail') AS no
    FROM workbench.review_label
    WHERE user_id = %(u)s AND run_id = %(r)s AND label <> 'unsure'
      AND type = 'SEMANTIC_ASSERT' AND judge_status <> 'ERROR' AND judge_score IS NOT NULL
    GROUP BY judge_score
)
SELECT c.cut,
       coalesce(sum(yes) FILTER (WHERE score >= c.cut), 0)::bigint,
       coalesce(sum(no) FILTER (WHERE score >= c.cut), 0)::bigint,
       coalesce(sum(yes) FILTER (WHERE score < c.cut), 0)::bigint,
       coalesce(sum(no) FILTER (WHERE score < c.cut), 0)::bigint
FROM unnest(%(cuts)s::float8[]) AS c(cut) CROSS JOIN scored
GROUP BY c.cut ORDER BY c.cut
"""

# Every label of the user's, keyed as an export carries it (the run and the shown numbers).
EXPORT = f"""
SELECT l.run_id, {shown("a.position")}, {shown("a.repeat")}, {shown("e.turn_index")},
       {shown("e.expectation_index")}, l.label, l.comment, l.updated_at
FROM workbench.review_label l
JOIN workbench.expectation_result e ON e.id = l.result_id AND e.user_id = %(u)s
JOIN workbench.run_attempt a ON a.id = e.attempt_id AND a.user_id = %(u)s
WHERE l.user_id = %(u)s
ORDER BY l.run_id, a.position, a.repeat, e.turn_index, e.expectation_index
"""

# A label's result found again by its key (shown numbers turned back into stored indexes).
FIND = """
SELECT e.id FROM workbench.expectation_result e
JOIN workbench.run_attempt a ON a.id = e.attempt_id AND a.user_id = %(u)s AND a.run_id = %(r)s
WHERE e.user_id = %(u)s AND e.run_id = %(r)s AND a.position = %(p)s AND a.repeat = %(k)s
  AND e.turn_index = %(t)s AND e.expectation_index = %(x)s
"""
