"""The effective schedules (file + overrides + run-time schedules) as a schedules file ``schedules check`` accepts.

Read-only: three HGETALLs. The file's definitions are the ones the scheduler last loaded (``keys.FILE_SCHEDULES``);
overrides and run-time schedules are merged as the scheduler merges them (``worker.overrides``), and an edit the
scheduler could not apply (``keys.OVERRIDE_ERRORS``, e.g. a task that does not import) is left out, named in a
comment. The file's ``[notify]`` table is not stored in Redis: the header says to copy it over.
"""

from __future__ import annotations

from datetime import datetime, timezone

import redis
import tomli_w

from worker import keys, overrides
from worker.display_text import safe_text
from worker.records import as_text
from worker.schedules import ScheduleEntry


def export_toml(conn: redis.Redis, now: float) -> str:
    """The schedules file text of what the scheduler runs (or will run from its next tick)."""
    with conn.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.FILE_SCHEDULES)
        pipe.hgetall(keys.SCHEDULE_OVERRIDES)
        pipe.hgetall(keys.OVERRIDE_ERRORS)
        file_raw, override_raw, errors_raw = pipe.execute()
    file_entries = []
    for raw in dict(sorted(file_raw.items())).values():
        try:
            file_entries.append(ScheduleEntry.from_json(raw))
        except (ValueError, TypeError):
            continue
    by_file = {entry.name: entry for entry in file_entries}
    refused = {as_text(name): as_text(line) for name, line in errors_raw.items()}
    entries, errors = overrides.effective_entries(file_entries, override_raw, check_imports=False)
    errors.update(refused)
    chosen = [by_file.get(entry.name, entry) if entry.name in refused else entry for entry in entries
              if entry.name in by_file or entry.name not in refused]
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    header = [f"# Exported by `rqtop schedules export` at {stamp}: the schedules file with its run-time overrides",
              "# applied and the run-time schedules added. The file's [notify] table is not stored in Redis: copy it",
              "# over from the old file. Check with `rqtop schedules check`."]
    header += [f"# not applied: {safe_text(line)}" for _, line in sorted(errors.items())]
    document = {"timezone": "UTC", "schedule": [_table(entry) for entry in chosen]}
    return "\n".join(header) + "\n\n" + tomli_w.dumps(document)


def _table(entry: ScheduleEntry) -> dict[str, object]:
    """An entry's table without the defaults a file leaves out."""
    table = overrides.entry_table(entry)
    for key, default in (("description", ""), ("kwargs", {}), ("run_now", True)):
        if table.get(key) == default:
            table.pop(key)
    return table
