"""Server-side command accounting shared by the tests and the benchmarks: which commands write, and how
many times each command ran (INFO commandstats)."""

from __future__ import annotations

import redis

WRITE_COMMANDS = {
    "set", "setex", "psetex", "setnx", "getset", "getdel", "getex", "mset", "msetnx", "append", "incr", "incrby",
    "incrbyfloat", "decr", "decrby", "del", "unlink", "expire", "expireat", "pexpire", "pexpireat", "persist",
    "rename", "renamenx", "hset", "hsetnx", "hmset", "hdel", "hincrby", "hincrbyfloat", "lpush", "rpush",
    "lpushx", "rpushx", "lpop", "rpop", "lrem", "lset", "ltrim", "linsert", "lmove", "blmove", "rpoplpush",
    "brpoplpush", "blpop", "brpop", "sadd", "srem", "spop", "smove", "zadd", "zincrby", "zrem", "zpopmin",
    "zpopmax", "bzpopmin", "bzpopmax", "zremrangebyscore", "zremrangebyrank", "zremrangebylex", "xadd", "xdel",
    "xtrim", "eval", "evalsha", "fcall", "multi", "exec", "flushdb", "flushall", "copy", "restore", "publish",
}


def command_calls(admin: redis.Redis) -> dict[str, int]:
    """Server-side call count per command (lower-case, subcommands folded into the command)."""
    stats: dict[str, int] = {}
    for name, value in admin.info("commandstats").items():
        command = name.removeprefix("cmdstat_").split("|")[0].lower()
        stats[command] = stats.get(command, 0) + int(value["calls"])
    return stats
