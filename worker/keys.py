"""Every Redis key rqtop owns, in one place, so the worker (writer) and the dashboard (reader) agree.

Layout (all under the ``rqtop:`` prefix; RQ's own keys keep RQ's ``rq:`` prefix):

| key | type | holds |
|---|---|---|
| ``rqtop:schedules`` | hash | schedule name -> JSON definition (see ``worker.schedules.ScheduleEntry.to_json``) |
| ``rqtop:schedules:overrides`` | hash | schedule name -> run-time edit as JSON (``worker.overrides.Override``) |
| ``rqtop:schedules:file`` | hash | schedule name -> the schedules file's own definition (JSON), by the scheduler |
| ``rqtop:schedules:override-errors`` | hash | schedule name -> why its run-time edit was not applied (one line) |
| ``rqtop:paused`` | set | names of paused schedules |
| ``rqtop:sched:<name>`` | hash | run state: last_run, last_job_id, last_status, last_ended, skipped, last_skipped |
| ``rqtop:active:<name>`` | string | id of the schedule's one pending-or-running job (the Run-now/tick dedupe token) |
| ``rqtop:history`` | zset | job id -> created epoch; trimmed to ``HISTORY_KEEP`` newest |
| ``rqtop:history:<id>`` | hash | task, queue, state, created_at, started_at, ended_at, retries, schedule, |
|  |  | worker, error, note |
| ``rqtop:workers`` | zset | worker name -> last-seen epoch (our own record: survives a crash) |
| ``rqtop:worker:<name>`` | hash | name, hostname, pid, mode, version, rq_version, birth, last_seen, queues, |
|  |  | processed, failed, current_job_id, current_task, current_started |
| ``rqtop:metrics:tasks`` | zset | task (function name) -> last run epoch |
| ``rqtop:m:<task>:<hour>`` | hash | n (runs), f (failures), max (seconds), last (epoch), b<idx> (duration bin counts) |
| ``rqtop:audit`` | stream | operator actions, intent then outcome: who, action, target, at, phase, |
|  |  | intent (the outcome's link), counts, ok, error; trimmed by age (``AUDIT_KEEP_S``) |
| ``rqtop:audit:refused`` | hash | ``<action>:<reason>`` -> how many refused no-ops were asked for |
| ``rqtop:janitor:last`` | hash | when the janitor last ran and its per-step counts |
| ``rqtop:collect:marks`` | hash | ``<registry>:<queue>`` -> the collector's high-water score in that RQ registry |
| ``rqtop:collect:heartbeat`` | hash | ``rqtop collect``'s liveness: at, interval, host, pid (expires by itself) |
| ``rqtop:collected:<id>`` | string | set (NX, with a TTL) when ``rqtop collect`` recorded a job: each run counts once |
| ``rqtop:notify:outbox`` | stream | notifications waiting to be sent: job_id, schedule, state, task, queue, |
|  |  | started_at, ended_at, attempts, error, worker, system ("1": by policy), to (Run now + notify) |
| ``rqtop:notify:policy`` | hash | schedule name -> failures, all or never (effective; written at registration) |
| ``rqtop:notify:trigger:<id>`` | string | address to notify when job ``<id>`` ends (Run now + notify), with a TTL |
| ``rqtop:notify:status`` | hash | sent, failures (failed attempts), failing (channel kinds failing now), |
|  |  | last_error, last_error_at |
| ``rqtop:notify:done:<entry>:<channel>`` | string | delivered mark (the idempotency key), with a TTL |
| ``rqtop:notify:claim:<entry>:<channel>`` | string | a sender's short claim while it delivers |
| ``rqtop:progress:<id>`` | string | a running job's progress as JSON (``worker.progress``), TTL ``PROGRESS_TTL_S`` |
| ``rqtop:cancel:<id>`` | string | a running job's cooperative-cancel request (who asked, when), TTL ``CANCEL_TTL_S`` |
| ``rqtop:snapshot:<sig>`` | string | the shared dashboard snapshot (``tui.data.snapshot_codec``: zlib JSON) for |
|  |  | dashboards whose read settings hash to ``<sig>``; TTL 3 publisher intervals |
| ``rqtop:snapshot:<sig>:lease`` | string | the publisher whose turn it is this interval (its name), SET NX with |
|  |  | a TTL under one interval |

Epochs are float seconds since 1970 UTC, written as decimal strings.

RQ's keys that rqtop reads or writes are built here too, every one from ``RQ_PREFIX`` (RQ 3's
``RQ_KEY_PREFIX`` from the environment, default ``rq``, or ``set_rq_prefix``); each equals what RQ's own helper
returns. rq-scheduler's key keeps ``rq:`` (it ignores the variable).
"""

from __future__ import annotations

import os
import re
from typing import Literal

PREFIX = "rqtop:"

SCHEDULES = PREFIX + "schedules"
SCHEDULE_OVERRIDES = PREFIX + "schedules:overrides"
"""Run-time edits: written whole by operators (WATCH/MULTI), applied by the scheduler from its next tick."""
FILE_SCHEDULES = PREFIX + "schedules:file"
"""The file's definitions as the scheduler last loaded them (``SCHEDULES`` holds the effective ones)."""
OVERRIDE_ERRORS = PREFIX + "schedules:override-errors"
"""Written by the scheduler: per schedule, why its override or run-time definition was not applied."""
PAUSED = PREFIX + "paused"
HISTORY = PREFIX + "history"
WORKERS = PREFIX + "workers"
METRIC_TASKS = PREFIX + "metrics:tasks"
AUDIT = PREFIX + "audit"
AUDIT_REFUSED = PREFIX + "audit:refused"
JANITOR_LAST = PREFIX + "janitor:last"
COLLECT_MARKS = PREFIX + "collect:marks"
COLLECT_HEARTBEAT = PREFIX + "collect:heartbeat"
COLLECT_NO_WORKER = PREFIX + "collect:no-worker"
"""Never written: the collector passes it to the end-of-job script as the (absent) rqtop worker record."""
DEMO_MARKER = PREFIX + "demo"
"""Set by ``rqtop demo`` in a database it was pointed at, so a second run there is allowed."""
HEALTH_PROBE = PREFIX + "health:probe"
"""A worker's write probe (SET with a short EX): at maxmemory PING still answers, only a write tells."""

NOTIFY_OUTBOX = PREFIX + "notify:outbox"
NOTIFY_POLICY = PREFIX + "notify:policy"
NOTIFY_STATUS = PREFIX + "notify:status"
NOTIFY_TRIGGER_TTL_S = 7 * 24 * 3600
"""How long a Run now + notify address waits for its run to end."""

HISTORY_KEEP = 500
"""How many executions the history index keeps (the tab shows the newest 50)."""

HISTORY_TTL_S = 7 * 24 * 3600
"""How long one history hash lives after its last update."""

AUDIT_KEEP_S = 90 * 24 * 3600
"""How long audit entries are kept (XADD MINID ~): trimmed by age, never by count."""

WORKER_RECORD_TTL_S = 24 * 3600
"""Our worker record outlives a crash by this much at most; the janitor reaps it sooner."""

METRIC_BUCKET_S = 3600
"""Metrics are kept in hourly buckets."""

METRIC_TTL_S = 25 * 3600
"""A metrics bucket expires this long after its hour ends."""

METRIC_RECENT_S = 300
"""The recent window's buckets are 5 minutes long."""
METRIC_RECENT_SLOTS = 24
"""The recent window holds the last 24 of them (2 h)."""
METRIC_RECENT_TTL_S = 2 * 3600 + 600
"""A task's recent-window hash expires this long (2 h 10 min) after its last write: idle tasks leave by themselves."""
METRIC_RECENT_PREFIX = PREFIX + "m5:"

RQ_KEY_PREFIX_ENV = "RQ_KEY_PREFIX"
"""The environment variable RQ 3 reads its key prefix from (default ``rq``), before rq is imported."""
DEFAULT_RQ_KEY_PREFIX = "rq"
_VALID_PREFIX = re.compile(r"[A-Za-z0-9_.:{}-]+")
"""What RQ 3 accepts as a key prefix (``rq.defaults``)."""


def valid_key_prefix(prefix: str) -> bool:
    """True when RQ 3 would accept ``prefix`` as its RQ_KEY_PREFIX."""
    return _VALID_PREFIX.fullmatch(prefix) is not None


RQ_PREFIX = os.environ.get(RQ_KEY_PREFIX_ENV) or DEFAULT_RQ_KEY_PREFIX
RQ_PREFIX = (RQ_PREFIX if valid_key_prefix(RQ_PREFIX) else DEFAULT_RQ_KEY_PREFIX) + ":"
"""Prefix of every RQ key (RQ's ``RQ_KEY_PREFIX`` plus the colon): from the environment, as RQ 3 reads it,
or ``set_rq_prefix`` (the ``--key-prefix`` flag)."""

# RQ's and rq-scheduler's keys that rqtop reads or writes.
RQ_QUEUES = RQ_PREFIX + "queues"
RQ_WORKERS = RQ_PREFIX + "workers"
RQ_SUSPENDED = RQ_PREFIX + "suspended"
RQ_SCHEDULED_JOBS = "rq:scheduler:scheduled_jobs"
"""rq-scheduler's schedule (it ignores RQ_KEY_PREFIX: always ``rq:``)."""
RQ_SCHEDULER_LOCK = "rq:scheduler_lock"
"""rq-scheduler's lock (always ``rq:``): set (value = epoch, TTL interval + 10 s) only while a scheduler is moving
due jobs."""
RQ_CRON_SCHEDULERS = RQ_PREFIX + "cron_schedulers"
"""``rq cron``'s registry: scheduler name -> epoch of its last heartbeat."""

RQ_SCHEDULER_ROW = "rq-scheduler/"
"""Name prefix of an rq-scheduler job's row (``rq-scheduler/<job id>``); rqtop schedule names have no slash."""

RQ_CRON_ROW = "rq-cron/"
"""Name prefix of an ``rq cron`` job's row (``rq-cron/<scheduler name>/<cron job name>``)."""


def set_rq_prefix(prefix: str) -> None:
    """Read and write RQ's keys under ``prefix`` (without the colon) from now on, in this process and in the
    RQ processes it starts (the environment variable is set too); a prefix RQ refuses raises ValueError."""
    global RQ_PREFIX, RQ_QUEUES, RQ_WORKERS, RQ_SUSPENDED, RQ_CRON_SCHEDULERS
    if not valid_key_prefix(prefix):
        raise ValueError(f"invalid key prefix {prefix!r}: only letters, digits and _ . : - {{ }} are allowed")
    os.environ[RQ_KEY_PREFIX_ENV] = prefix
    RQ_PREFIX = prefix + ":"
    RQ_QUEUES, RQ_WORKERS, RQ_SUSPENDED = RQ_PREFIX + "queues", RQ_PREFIX + "workers", RQ_PREFIX + "suspended"
    RQ_CRON_SCHEDULERS = RQ_PREFIX + "cron_schedulers"

RqRegistry = Literal["wip", "finished", "failed", "deferred", "scheduled", "canceled"]
RQ_REGISTRIES: tuple[RqRegistry, ...] = ("wip", "finished", "failed", "deferred", "scheduled", "canceled")
"""RQ 3's per-queue job registries (``rq:<kind>:<queue>``); ``wip`` is the started registry."""

SCHEDULE_TEMPLATE_PREFIX = "rqtop-schedule--"
"""Job id prefix of the rq-scheduler template job that carries one schedule."""

SCHEDULE_RUN_PREFIX = "sched--"
"""Job id prefix of one run of a schedule: ``sched--<name>--<hex>``."""


def sched_state(name: str) -> str:
    """Key of a schedule's run-state hash."""
    return f"{PREFIX}sched:{name}"


def active(name: str) -> str:
    """Key of a schedule's pending-or-running job token."""
    return f"{PREFIX}active:{name}"


def history_item(job_id: str) -> str:
    """Key of one execution's history hash."""
    return f"{PREFIX}history:{job_id}"


def collected(job_id: str) -> str:
    """Key of the collector's once-only mark for one harvested job."""
    return f"{PREFIX}collected:{job_id}"


def worker(name: str) -> str:
    """Key of rqtop's own record of one worker."""
    return f"{PREFIX}worker:{name}"


def metric_bucket(task: str, hour: int) -> str:
    """Key of one task's metrics for one hour (``hour`` = epoch // 3600)."""
    return f"{PREFIX}m:{task}:{hour}"


def metric_recent(task: str) -> str:
    """Key of one task's recent window: a ring of ``METRIC_RECENT_SLOTS`` 5-minute buckets in one hash."""
    return f"{METRIC_RECENT_PREFIX}{task}"


def template_id(schedule_name: str) -> str:
    """Job id of the rq-scheduler template for a schedule."""
    return SCHEDULE_TEMPLATE_PREFIX + schedule_name


def run_id(schedule_name: str, suffix: str) -> str:
    """Job id of one run of a schedule."""
    return f"{SCHEDULE_RUN_PREFIX}{schedule_name}--{suffix}"


def schedule_of(job_id: str) -> str | None:
    """The schedule a job id belongs to, or None for a job that is not a schedule run or template."""
    for prefix in (SCHEDULE_RUN_PREFIX, SCHEDULE_TEMPLATE_PREFIX):
        if job_id.startswith(prefix):
            rest = job_id[len(prefix) :]
            return rest.split("--", 1)[0] or None
    return None


# RQ key helpers, all under RQ_PREFIX.
def rq_queue(name: str) -> str:
    """RQ's list of pending job ids of a queue."""
    return f"{RQ_PREFIX}queue:{name}"


def rq_intermediate(name: str) -> str:
    """RQ's list of ids a single-queue worker has taken off ``rq_queue(name)`` but not yet started."""
    return f"{rq_queue(name)}:intermediate"


def rq_job(job_id: str) -> str:
    """RQ's job hash."""
    return f"{RQ_PREFIX}job:{job_id}"


def rq_dependents(job_id: str) -> str:
    """RQ's set of jobs waiting on this one (``Job.dependents_key_for``)."""
    return f"{rq_job(job_id)}:dependents"


def rq_dependencies(job_id: str) -> str:
    """RQ's set of jobs this one waits on (``Job.dependencies_key``: RQ writes a doubled colon there)."""
    return f"{RQ_PREFIX}job::{job_id}:dependencies"


def rq_results(job_id: str) -> str:
    """RQ's results stream of a job (``Result.get_key``)."""
    return f"{RQ_PREFIX}results:{job_id}"


def rq_executions(job_id: str) -> str:
    """RQ's registry of a job's executions (``ExecutionRegistry.key``)."""
    return f"{RQ_PREFIX}executions:{job_id}"


def rq_execution(member: str) -> str:
    """RQ's hash of one execution (``created_at``, ``last_heartbeat``), from a ``<job_id>:<execution_id>`` member."""
    return f"{RQ_PREFIX}execution:{member}"


def rq_registry(kind: str, queue: str) -> str:
    """RQ 3 registry key; ``kind`` is one of ``RQ_REGISTRIES``."""
    return f"{RQ_PREFIX}{kind}:{queue}"


def rq_group(group_id: str) -> str:
    """RQ's set of the jobs in a group (``Group.get_key``)."""
    return f"{RQ_PREFIX}group:{group_id}"


def rq_rate_limited(limit_key: str) -> str:
    """RQ's sorted set of the jobs held back by one rate limit (``RateLimitRegistry.rate_limited_key``)."""
    return f"{RQ_PREFIX}rl:{limit_key}:rate_limited"


def rq_cron_scheduler(name: str) -> str:
    """``rq cron``'s hash of one scheduler process (hostname, pid, created_at, config_file, cron_jobs JSON)."""
    return f"{RQ_PREFIX}cron_scheduler:{name}"


def rq_worker(name: str) -> str:
    """RQ's worker hash."""
    return f"{RQ_PREFIX}worker:{name}"


def rq_queue_workers(queue: str) -> str:
    """RQ's set of the worker keys listening on a queue."""
    return f"{RQ_PREFIX}workers:{queue}"


def rq_worker_executions(name: str) -> str:
    """RQ's set of ``<job_id>:<execution_id>`` a worker is running."""
    return f"{rq_worker(name)}:executions"


def rq_pubsub(worker_name: str) -> str:
    """The pub/sub channel a worker listens on for commands (``rq.command.PUBSUB_CHANNEL_TEMPLATE``)."""
    return f"{RQ_PREFIX}pubsub:{worker_name}"


def fail_claim(member: str) -> str:
    """Key of Fail Active's short claim on one ``<job_id>:<execution_id>`` (concurrent runs act and count once)."""
    return f"{PREFIX}claim:fail:{member}"


def notify_trigger(job_id: str) -> str:
    """Key of the address to notify when one job ends (Run now + notify)."""
    return f"{PREFIX}notify:trigger:{job_id}"


def notify_done(entry_id: str, channel: str) -> str:
    """Key of the delivered mark of one outbox entry on one channel (the idempotency key)."""
    return f"{PREFIX}notify:done:{entry_id}:{channel}"


def notify_claim(entry_id: str, channel: str) -> str:
    """Key of a sender's short claim on delivering one outbox entry on one channel."""
    return f"{PREFIX}notify:claim:{entry_id}:{channel}"


PROGRESS_TTL_S = 3600
"""A progress key lives this long after its last write (a plain worker never deletes it: the TTL does)."""

CANCEL_TTL_S = 24 * 3600
"""A cooperative-cancel flag lives this long unless the run's end deletes it first."""


def progress(job_id: str) -> str:
    """Key of a running job's progress (JSON: processed, total, message, first/updated epochs)."""
    return f"{PREFIX}progress:{job_id}"


def cancel_flag(job_id: str) -> str:
    """Key of a running job's cooperative-cancel request (``is_cancelled()`` is True at its next checkpoint)."""
    return f"{PREFIX}cancel:{job_id}"


def snapshot(signature: str) -> str:
    """Key of the dashboard snapshot shared by a worker, for dashboards with read signature ``signature``."""
    return f"{PREFIX}snapshot:{signature}"


def snapshot_lease(signature: str) -> str:
    """Key of the lease that picks one of several publishers of that snapshot per interval."""
    return f"{snapshot(signature)}:lease"
