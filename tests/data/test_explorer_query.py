"""The explorer's query syntax: every filter key, aliases, and bad terms as warnings (never exceptions)."""

from __future__ import annotations

from tui.data.explorer.query import Filter, QueryWarning, parse_duration, parse_query


def test_every_key_parses_into_the_filter() -> None:
    flt = parse_query("state:failed task:import* queue:high,low worker:w1 since:2h id:abc-1 attention:retry "
                      'boom "two words"')
    assert flt.states == ("failed",) and flt.tasks == ("import*",) and flt.queues == ("high", "low")
    assert flt.workers == ("w1",) and flt.since_s == 7200 and flt.job_id == "abc-1"
    assert flt.attention == ("retry",) and flt.text == ("boom", "two words") and not flt.warnings
    assert parse_query(flt.to_query()) == flt


def test_aliases_and_attention_any() -> None:
    flt = parse_query("state:dead-letter state:queued state:retry attention:any")
    assert flt.states == ("failed", "pending", "retrying")
    assert flt.attention == ("failures", "retry", "stuck", "backlog")


def test_completed_state_includes_completed_rows() -> None:
    assert parse_query("state:finished").include_completed
    assert not parse_query("queue:x").include_completed
    assert parse_query("completed:yes").include_completed


def test_invalid_terms_are_warnings_and_the_rest_still_applies() -> None:
    flt = parse_query("state:bogus since:soon colour:red id:bad/id queue:ok state: task:x")
    assert flt.queues == ("ok",) and flt.tasks == ("x",) and flt.states == () and flt.since_s is None
    terms = [w.term for w in flt.warnings]
    assert terms == ["state:bogus", "since:soon", "colour:red", "id:bad/id", "state:"]
    assert all(isinstance(w, QueryWarning) and w.reason for w in flt.warnings)
    assert "unknown state 'bogus'" in str(flt.warnings[0])


def test_unbalanced_quote_and_empty_query_never_raise() -> None:
    assert parse_query('"open quote task:a').tasks == ("a",)
    assert parse_query("") == Filter()


def test_scan_is_needed_only_beyond_state_and_queue() -> None:
    assert not parse_query("state:failed queue:a").needs_scan
    assert not Filter().needs_scan
    assert parse_query("task:x").needs_scan and parse_query("state:retrying").needs_scan
    assert parse_query("since:5m").needs_scan and parse_query("words").needs_scan


def test_durations() -> None:
    assert parse_duration("90s") == 90 and parse_duration("1w") == 604800 and parse_duration("2") is None
