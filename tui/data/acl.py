"""Redis ACL users for the roles: the ``ACL SETUSER`` line of each role, and what a connection's user may do.

Each action's Redis commands are read off its code (``worker.job_ops``' script, ``worker.dispatch``,
``worker.cancel_request`` …) and listed in ``ACTION_COMMANDS``; a role's line allows the reads every role needs,
the audit append, and the union of its actions' commands, on RQ's and rqtop's keys only. Redis checks every
command a Lua script runs against the caller's ACL, so a script cannot lend a user a command it lacks.

``detect`` asks Redis which role a connection can act as with probes that change nothing (a refused command is
NOPERM; an allowed one touches a key that does not exist, or an entry id that is never written).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

import redis

from tui.data.roles import ACTION_NAMES, DEFAULT_ROLE_MAP, ROLES, RoleMap, weaker
from tui.data.settings import Settings
from worker import keys
from worker.records import one_line

READS = ("-@all", "+@read", "+@connection", "+info", "+ping", "+select", "+acl|whoami", "-keys")
"""Every role: reads (the dashboard, ``status``, plans), no KEYS (the reader scans), and ``ACL WHOAMI``."""

AUDIT_APPEND = ("+xadd", "+hincrby")
"""Every role that acts: the audit entries (``XADD rqtop:audit MINID ~``) and the refused-no-op counter."""

SCRIPT = ("+evalsha", "+eval", "+script|load")
"""``redis.Script``: EVALSHA, and SCRIPT LOAD when the server does not have the script yet."""
TRANSACTION = ("+multi", "+exec", "+discard", "+watch", "+unwatch")
JOB_SCRIPT = (*SCRIPT, "+lrem", "+zrem", "+hdel", "+hset", "+persist", "+rpush", "+sadd", "+srem", "+zadd",
              "+expire")
"""What ``worker.job_ops``' script calls for re-run, replay, retry now and cancel (no DEL: that is dismiss)."""
ENQUEUE = (*TRANSACTION, "+set", "+hset", "+hincrby", "+expire", "+rpush", "+sadd", "+zadd", "+zremrangebyrank",
           "+persist")
"""Run now (``worker.dispatch.enqueue_run`` with RQ's ``enqueue_job``, ``worker.foreign_runs``): the dedupe token,
the job hash, the queue, the history record."""
BROAD = ("+@write", "+@scripting", "+@transaction", "+@pubsub", "+@keyspace")
"""Admin-only actions (janitor, Fail Active, Cancel All Pending, dismiss, dead letter …) take many commands;
``-@dangerous`` at the end still refuses FLUSHALL, KEYS, CONFIG, DEBUG, MIGRATE and the like."""

ACTION_COMMANDS: dict[str, tuple[str, ...]] = {
    "run_now": ENQUEUE,
    "run_now_notify": ENQUEUE,
    "toggle_pause": ("+sadd", "+srem"),
    "rerun": JOB_SCRIPT,
    "replay": JOB_SCRIPT,
    "retry_now": JOB_SCRIPT,
    "cancel": JOB_SCRIPT,
    "cancel_running": ("+set",),
    "dead_letter": (*JOB_SCRIPT, "+xadd"),
    "dismiss": (*JOB_SCRIPT, "+del"),
    "edit_replay": (*TRANSACTION, "+hset", "+rpush", "+sadd"),
    "janitor": BROAD,
    "fail_active": BROAD,
    "stop": BROAD,
    "cancel_pending": BROAD,
    "suspend": ("+set", "+expire"),
    "resume": ("+del",),
    "shutdown": ("+publish",),
    "edit_schedule": (*TRANSACTION, "+hset", "+hdel"),
    "cancel_queue": JOB_SCRIPT,
    "requeue_failed": JOB_SCRIPT,
    "empty_registry": (*JOB_SCRIPT, "+del"),
    "toggle_suspend": ("+set", "+expire", "+del"),
    "shutdown_worker": ("+publish",),
    "create_schedule": (*TRANSACTION, "+hset", "+hdel"),
}
"""The commands each action runs beyond the reads."""

SET_KEYS: dict[str, tuple[str, ...]] = {
    "run_now": (f"~{keys.active('*')}",),
    "run_now_notify": (f"~{keys.active('*')}", f"~{keys.notify_trigger('*')}"),
    "cancel_running": (f"~{keys.cancel_flag('*')}",),
}
"""The keys the actions that SET only their own tokens write (the schedule's run token, the notify address, the
cancel request). On Redis 7 a role whose every SET is one of these gets SET through a selector on these keys only,
so Redis itself refuses suspend's ``SET rq:suspended`` (not only rqtop)."""

PUBSUB_ACTIONS = frozenset({"stop", "fail_active", "shutdown", "shutdown_worker"})
"""Actions that publish RQ's worker commands (``rq.command``: ``stop-job`` / ``shutdown`` on ``rq:pubsub:<worker>``)."""

DEFAULT_USERS = {role: f"rqtop-{role}" for role in ROLES}


AUDIT_SELECTOR = f"(~{keys.AUDIT} +@read +xadd)"
"""Redis >= 7: the only rights a non-admin has on the audit stream: read it and append to it."""
BUT_THE_AUDIT = (f"~{keys.PREFIX}[^a]*", f"~{keys.PREFIX}active:*", f"~{keys.AUDIT}:*")
"""Every rqtop key but the audit stream itself (``rqtop:active:*`` and ``rqtop:audit:refused`` start with a)."""


SUSPENSION_ACTIONS = ("suspend", "resume", "toggle_suspend")
"""The actions that write RQ's ``<prefix>:suspended`` key."""


def rq_key_patterns(rq_prefix: str, guard_suspension: bool = False) -> tuple[str, ...]:
    """RQ's keys under ``rq_prefix``; with ``guard_suspension`` (Redis >= 7) every one may be read but
    ``<prefix>:suspended`` (the only RQ key starting ``<prefix>:su``) may not be written: else any command that
    creates a key (SADD, HSET, RPUSH…) would suspend every worker, and EXPIRE or PERSIST would end or pin a
    suspension, for a role that may neither suspend nor resume."""
    if not guard_suspension:
        return (f"~{rq_prefix}:*",)
    return (f"%R~{rq_prefix}:*", f"~{rq_prefix}:[^s]*", f"~{rq_prefix}:s[^u]*")


def key_patterns(rq_prefix: str, guard_audit: bool = False, guard_suspension: bool = False) -> tuple[str, ...]:
    """RQ's keys under ``rq_prefix`` (``rq_key_patterns``), rq-scheduler's (always ``rq:``) and rqtop's (with
    ``guard_audit``: all but the audit stream, which ``AUDIT_SELECTOR`` then grants append-only)."""
    rqtop = BUT_THE_AUDIT if guard_audit else (f"~{keys.PREFIX}*",)
    return tuple(dict.fromkeys([*rq_key_patterns(rq_prefix, guard_suspension), "~rq:scheduler*", *rqtop]))


def set_selector(role: str, role_map: RoleMap = DEFAULT_ROLE_MAP) -> str:
    """Redis >= 7: the selector granting SET on the keys in ``SET_KEYS`` when every action of ``role`` that SETs is
    one of those ("" when none SETs, or one SETs other keys: then SET stays a plain command rule)."""
    setting = [action for action in ACTION_NAMES if role_map.allows(role, action) and "+set" in ACTION_COMMANDS[action]]
    if role == "admin" or not setting or any(action not in SET_KEYS for action in setting):
        return ""
    patterns = dict.fromkeys(pattern for action in setting for pattern in SET_KEYS[action])
    return f"({' '.join(patterns)} +set)"


def role_commands(role: str, role_map: RoleMap = DEFAULT_ROLE_MAP, selectors: bool = False) -> tuple[str, ...]:
    """The command rules of ``role``: the reads, and for a role that acts the audit append and its actions'
    (with ``selectors`` the audit's XADD comes from ``AUDIT_SELECTOR`` instead, unless an action needs XADD, and SET
    from ``set_selector`` when it gives one)."""
    rules = list(READS)
    granted = [action for action in ACTION_NAMES if role_map.allows(role, action) and ACTION_COMMANDS[action]]
    if granted:
        rules += ("+hincrby",) if selectors and role != "admin" else AUDIT_APPEND
    for action in granted:
        rules += ACTION_COMMANDS[action]
    if any(ACTION_COMMANDS[action] == BROAD for action in granted):
        rules += ("-@dangerous", "+info")
    if selectors and set_selector(role, role_map):
        rules = [rule for rule in rules if rule != "+set"]
    return tuple(dict.fromkeys(rules))


def channel_rules(role: str, rq_prefix: str, role_map: RoleMap = DEFAULT_ROLE_MAP) -> tuple[str, ...]:
    """``resetchannels``, then RQ's worker command channels for a role that stops jobs or shuts workers down."""
    if any(role_map.allows(role, action) for action in PUBSUB_ACTIONS):
        return ("resetchannels", f"&{rq_prefix}:pubsub:*")
    return ("resetchannels",)


REDIS_VERSIONS = ("7", "6.2")
"""The ACL syntaxes ``acl print`` writes: Redis (or Valkey) 7+ with selectors, and 6.2 without."""


def setuser_line(role: str, user: str | None = None, password: str | None = None, rq_prefix: str = "rq",
                 role_map: RoleMap = DEFAULT_ROLE_MAP, redis_version: str = "7") -> tuple[str, ...]:
    """The words of ``ACL SETUSER`` that make ``user`` (default ``rqtop-<role>``) able to do exactly ``role``'s
    actions; a fresh random password when none is given. On Redis 7 a role that acts but is not admin reaches the
    audit stream through ``AUDIT_SELECTOR`` only (read and XADD: no XDEL, XTRIM, DEL, SET, EXPIRE, RENAME), and one
    that may not suspend or resume workers may read RQ's suspension key but not write it (``rq_key_patterns``)."""
    secret = password or secrets.token_urlsafe(24)
    guard = _guarded(role, role_map, redis_version)
    suspends = any(role_map.allows(role, action) for action in SUSPENSION_ACTIONS)
    return ("ACL", "SETUSER", user or DEFAULT_USERS[role], "reset", "on", f">{secret}",
            *key_patterns(rq_prefix, guard, guard and not suspends), *channel_rules(role, rq_prefix, role_map),
            *role_commands(role, role_map, guard), *((AUDIT_SELECTOR,) if guard else ()),
            *((set_selector(role, role_map),) if guard and set_selector(role, role_map) else ()))


def only_rqtop_refuses(role: str, role_map: RoleMap = DEFAULT_ROLE_MAP, redis_version: str = "7") -> tuple[str, ...]:
    """The actions ``role`` may not take that its ACL line cannot refuse: every command they run is one the line
    grants for the role's own actions, on keys it may touch (e.g. replay and retry now run re-run's script on the
    same job keys). Redis cannot tell them apart; rqtop refuses them, and anyone bypassing rqtop can run them."""
    rules = set(role_commands(role, role_map, _guarded(role, role_map, redis_version)))
    return tuple(action for action in ACTION_NAMES if not role_map.allows(role, action)
                 and (rules.issuperset(ACTION_COMMANDS[action]) or "+@write" in rules))


def _guarded(role: str, role_map: RoleMap, redis_version: str) -> bool:
    """Whether ``role``'s line uses selectors: Redis >= 7, and a role that acts but is not admin."""
    return redis_version != "6.2" and role != "admin" and any(ACTION_COMMANDS[action]
                                                              for action in role_map.actions(role))


def caveat(role: str, role_map: RoleMap = DEFAULT_ROLE_MAP, redis_version: str = "7") -> str:
    """What the line cannot enforce, in one line ("" when nothing): Redis ACLs allow commands and keys, not
    arguments, so XADD's own MAXLEN/MINID can still trim (``rqtop audit`` reports entries removed too young)."""
    acts = any(ACTION_COMMANDS[action] for action in role_map.actions(role))
    if role == "admin" or not acts:
        return ""
    if redis_version == "6.2":
        return ("Redis 6.2 has no ACL selectors (nor %R~/%W~ read/write key patterns): this user's writes (SET, "
                f"EXPIRE, SADD…) reach rqtop:audit and {keys.RQ_SUSPENDED} too, so the audit log is append-only and "
                "suspending workers refused by Redis only on Redis >= 7 (print without --redis-version 6.2)")
    return ("XADD's MAXLEN/MINID arguments can still trim the audit log (ACLs cannot restrict arguments); "
            "`rqtop audit` reports entries removed before their 90 days")


@dataclass(frozen=True)
class Detection:
    """Who this connection is to Redis and the strongest role Redis lets it act as."""

    redis_user: str
    role: str
    note: str = ""
    """Why the role is weaker than admin, in words (a read-only replica, an ACL user)."""


def _allowed(conn: redis.Redis, *command: str) -> tuple[bool, str]:
    """Whether Redis lets this user run ``command`` (any answer but NOPERM or READONLY), and the refusal."""
    try:
        conn.execute_command(*command)
    except redis.exceptions.NoPermissionError as exc:
        return False, str(exc)
    except redis.exceptions.ReadOnlyError:
        return False, "a read-only replica"
    except redis.exceptions.ResponseError as exc:
        if str(exc).startswith("NOPERM"):
            return False, str(exc)
        return True, ""  # a syntax or type error comes after the ACL check
    return True, ""


def whoami(conn: redis.Redis) -> str:
    """The connection's ACL user (``ACL WHOAMI``), or "" when the server does not say."""
    try:
        name = conn.execute_command("ACL", "WHOAMI")
    except redis.RedisError:
        return ""
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)


def detect(conn: redis.Redis) -> Detection:
    """The strongest role this connection can act as: admin when it may delete audit entries (``XDEL`` of id 0-0,
    which no stream holds), operator when it may append to the audit (``XADD NOMKSTREAM`` with id 0-0, which
    Redis refuses after the ACL check, or ignores when the stream does not exist), else viewer. Nothing is
    written either way."""
    user = whoami(conn)
    admin, _ = _allowed(conn, "XDEL", keys.AUDIT, "0-0")
    if admin:
        return Detection(user, "admin")
    operator, why = _allowed(conn, "XADD", keys.AUDIT, "NOMKSTREAM", "0-0", "probe", "1")
    if operator:
        return Detection(user, "operator", f"Redis user {user or '?'} may not trim the audit log")
    return Detection(user, "viewer", f"Redis user {user or '?'} may not write ({why.splitlines()[0] if why else ''})")


def acting_role(conn: redis.Redis, settings: Settings) -> tuple[Settings, str, str | None]:
    """``settings`` with the weaker of the configured role and the one Redis lets ``conn`` act as, its ACL user,
    and a first toast when Redis could not be asked (a write pause blocks the probes): then the configured role
    stays, and Redis still refuses what the user may not do."""
    try:
        found = detect(conn)
    except redis.RedisError as exc:
        return settings, "", f"Could not ask Redis what this user may do ({one_line(exc)}): acting as {settings.role}"
    return acting_as(settings, found), found.redis_user, None


def acting_as(settings: Settings, found: Detection) -> Settings:
    """``settings`` with the weaker of its configured role and the one Redis lets the connection act as."""
    return replace(settings, role=weaker(settings.role, found.role))
