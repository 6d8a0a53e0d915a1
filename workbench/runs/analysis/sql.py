"""The hand-written statements that study runs.

Every table is filtered by `user_id` and `run_id` itself, even where a join already implies it,
so the planner can reach each one through an index that starts with the user (0003 and 0004):
another user's rows are never read, however many there are.

What a statement selects for people to read (position, turn, expectation, repeat) is counted
from 1 by `numbering.shown`; joins, groups and orders use the stored 0-based columns.
"""

from __future__ import annotations

from workbench.runs.analysis.numbering import shown

# One run's attempts, joined to the scenario snapshot they played. %(u)s user, %(r)s run.
_ONE_RUN = """
    workbench.expectation_result e
    JOIN workbench.run_attempt a ON a.id = e.attempt_id
        AND a.user_id = %(u)s AND a.run_id = %(r)s
    JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
        AND s.user_id = %(u)s AND s.run_id = %(r)s
"""

# One letter per repeat (P, F, E) in repeat order, per expectation.
OUTCOMES = f"""
SELECT {shown("a.position")}, min(s.scenario_id), min(s.scenario_name), {shown("e.turn_index")},
       {shown("e.expectation_index")}, min(e.type),
       string_agg(left(e.status, 1), '' ORDER BY a.repeat)
FROM {_ONE_RUN}
WHERE e.user_id = %(u)s AND e.run_id = %(r)s
GROUP BY a.position, e.turn_index, e.expectation_index
ORDER BY a.position, e.turn_index, e.expectation_index
"""

# Per scenario: attempts by status and mean attempt latency.
SCENARIO_RATES = f"""
SELECT {shown("s.position")}, s.scenario_id, s.scenario_name, s.scenario_version,
       count(a.id) FILTER (WHERE a.status = 'passed'),
       count(a.id) FILTER (WHERE a.status = 'failed'),
       count(a.id) FILTER (WHERE a.status = 'error'),
       count(a.id) FILTER (WHERE a.status IN ('pending', 'claimed')),
       avg(a.latency_s)
FROM workbench.run_scenario s
LEFT JOIN workbench.run_attempt a ON a.run_id = s.run_id AND a.position = s.position
    AND a.user_id = %(u)s AND a.run_id = %(r)s
WHERE s.user_id = %(u)s AND s.run_id = %(r)s
GROUP BY s.position, s.scenario_id, s.scenario_name, s.scenario_version
ORDER BY s.position
"""

RUNS = """
SELECT id, status, suite_id, suite_name, created_at, repeats, target ->> 'model'
FROM workbench.run WHERE user_id = %(u)s AND id = ANY(%(ids)s)
"""

# Both runs at once: per expectation, its outcomes and the attempt whose reply represents it
# (a failing one if any, else the first repeat's).
_BOTH = """
    workbench.expectation_result e
    JOIN workbench.run_attempt a ON a.id = e.attempt_id
        AND a.user_id = %(u)s AND a.run_id = ANY(%(ids)s)
    JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
        AND s.user_id = %(u)s AND s.run_id = ANY(%(ids)s)
"""
COMPARE = f"""
WITH side AS (
    SELECT e.run_id, s.scenario_id, min(s.position) AS position, min(s.scenario_name) AS name,
           min(s.scenario_version) AS version, e.turn_index, e.expectation_index,
           min(e.type) AS type,
           string_agg(left(e.status, 1), '' ORDER BY a.repeat) AS outcomes,
           (array_agg(a.id ORDER BY e.status = 'FAILED' DESC, a.repeat))[1] AS shown
    FROM {_BOTH}
    WHERE e.user_id = %(u)s AND e.run_id = ANY(%(ids)s)
    GROUP BY e.run_id, s.scenario_id, e.turn_index, e.expectation_index
), shown AS (
    SELECT side.*, t.reply FROM side
    LEFT JOIN workbench.turn_result t ON t.attempt_id = side.shown
        AND t.turn_index = side.turn_index AND t.user_id = %(u)s AND t.run_id = ANY(%(ids)s)
)
SELECT coalesce(b.scenario_id, c.scenario_id), coalesce(b.name, c.name),
       {shown("coalesce(b.turn_index, c.turn_index)")},
       {shown("coalesce(b.expectation_index, c.expectation_index)")},
       coalesce(c.type, b.type), b.version, c.version, b.outcomes, c.outcomes, b.reply, c.reply
FROM (SELECT * FROM shown WHERE run_id = %(b)s) b
FULL JOIN (SELECT * FROM shown WHERE run_id = %(c)s) c
    ON c.scenario_id = b.scenario_id AND c.turn_index = b.turn_index
    AND c.expectation_index = b.expectation_index
ORDER BY coalesce(b.position, c.position), 1, 3, 4
"""

# Per run and scenario: mean attempt latency and mean cost per attempt.
SCENARIO_COSTS = """
SELECT a.run_id, a.scenario_id, avg(a.latency_s), count(a.id),
       sum(t.cost) / nullif(count(a.id), 0)
FROM workbench.run_attempt a
LEFT JOIN (
    SELECT attempt_id, sum(cost_usd) AS cost FROM workbench.turn_result
    WHERE user_id = %(u)s AND run_id = ANY(%(ids)s) GROUP BY attempt_id
) t ON t.attempt_id = a.id
WHERE a.user_id = %(u)s AND a.run_id = ANY(%(ids)s)
GROUP BY a.run_id, a.scenario_id
"""

TREND = """
WITH picked AS (
    SELECT id, created_at, status, prompt_name, target ->> 'model' AS model, suite_name,
           -- A finished run's attempt counts, stored when it finished (lifecycle.finish): its
           -- attempts' status is in no index (the ledger's updates stay HOT), so counting
           -- them again reads every attempt of the run.
           CASE WHEN status = 'finished' AND totals ? 'passed' THEN totals END AS stored
    FROM workbench.run
    WHERE user_id = %(u)s AND (%(s)s::text IS NULL OR suite_id = %(s)s OR suite_name = %(s)s)
    ORDER BY created_at DESC, id DESC LIMIT %(n)s
)
SELECT p.id, p.created_at, p.status, p.suite_name, p.prompt_name, p.model,
       coalesce((p.stored ->> 'passed')::bigint, att.passed),
       coalesce((p.stored ->> 'failed')::bigint, att.failed),
       coalesce((p.stored ->> 'errors')::bigint, att.errored),
       CASE WHEN p.stored IS NULL THEN att.unfinished ELSE 0 END,
       ex.passed, ex.failed, ex.errored, tr.cost, tr.p50, tr.p95, tr.cached
FROM picked p
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE status = 'passed') AS passed,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'error') AS errored,
           count(*) FILTER (WHERE status IN ('pending', 'claimed')) AS unfinished
    FROM workbench.run_attempt
    WHERE user_id = %(u)s AND run_id = p.id AND p.stored IS NULL  -- a one-time filter
) att ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE status = 'PASSED') AS passed,
           count(*) FILTER (WHERE status = 'FAILED') AS failed,
           count(*) FILTER (WHERE status = 'ERROR') AS errored
    FROM workbench.expectation_result WHERE user_id = %(u)s AND run_id = p.id
) ex ON true
LEFT JOIN LATERAL (
    SELECT sum(cost_usd) AS cost,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_s) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_s) AS p95,
           count(*) FILTER (WHERE cached) AS cached
    FROM workbench.turn_result WHERE user_id = %(u)s AND run_id = p.id
) tr ON true
ORDER BY p.created_at, p.id
"""
