"""The cadence policy: when a story is checked next, retired or given up as gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.cadence import (
    NEWSDIFFS_TIERS,
    CadencePolicy,
    StoryClock,
    Tier,
    Verdict,
    format_duration,
    fulfils_promise,
    next_check,
    parse_duration,
    parse_retry_after,
    parse_tiers,
    promise_overdue,
    story_age,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
POLICY = CadencePolicy()
S, M, H, D = (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))


def seen(ago: timedelta, **facts) -> StoryClock:
    return StoryClock(first_seen_at=NOW - ago, **facts)


# -- the age rule (NewsDiffs) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (0 * S, 15 * M),
        (2 * H, 15 * M),
        (3 * H - S, 15 * M),
        (3 * H, 1 * H),
        (5 * H, 1 * H),
        (1 * D, 3 * H),
        (3 * D, 3 * H),
        (7 * D, 3 * D),
        (20 * D, 3 * D),
        (30 * D, 30 * D),
        (200 * D, 30 * D),
        (365 * D - S, 30 * D),
    ],
    ids=str,
)
def test_age_tiers_follow_newsdiffs(age, interval):
    schedule = next_check(seen(age), POLICY, NOW)
    assert schedule.verdict is Verdict.CHECK
    assert schedule.interval == interval
    assert schedule.next_check_at == NOW + interval


@pytest.mark.parametrize("age", [365 * D, 400 * D], ids=str)
def test_story_retires_after_a_year(age):
    schedule = next_check(seen(age), POLICY, NOW)
    assert schedule.verdict is Verdict.RETIRE
    assert schedule.next_check_at is None
    assert schedule.interval is None
    assert "retired" in schedule.reason


def test_age_counts_from_the_last_substantive_change():
    clock = seen(400 * D, last_substantive_change_at=NOW - 2 * H)
    assert story_age(clock, NOW) == 2 * H
    assert next_check(clock, POLICY, NOW).interval == 15 * M


def test_a_change_recorded_before_first_seen_does_not_age_the_story():
    clock = seen(2 * H, last_substantive_change_at=NOW - 30 * D)
    assert story_age(clock, NOW) == 2 * H


def test_age_is_never_negative_under_clock_skew():
    clock = StoryClock(first_seen_at=NOW + 5 * M)
    assert story_age(clock, NOW) == timedelta(0)
    assert next_check(clock, POLICY, NOW).interval == 15 * M


def test_reason_names_the_age_and_interval():
    assert next_check(seen(5 * H + 12 * M), POLICY, NOW).reason == "age 5 h: every 1 h"


def test_retire_after_can_differ_from_the_last_tier():
    policy = CadencePolicy(tiers="3h=15m, 1d=1h", retire_after="7d")
    assert next_check(seen(3 * D), policy, NOW).interval == 1 * H  # past the last tier
    assert next_check(seen(7 * D), policy, NOW).verdict is Verdict.RETIRE


def test_retirement_can_be_switched_off():
    policy = CadencePolicy(retire_after="never")
    assert next_check(seen(5000 * D), policy, NOW).interval == 30 * D


# -- developing stories ---------------------------------------------------------------------


def test_developing_marker_tightens_to_two_minutes():
    schedule = next_check(seen(1 * H, developing=True, promised_at=NOW - 1 * H), POLICY, NOW)
    assert schedule.interval == 2 * M
    assert schedule.reason == "developing: every 2 min"


def test_developing_marker_that_appeared_on_an_old_story_tightens():
    clock = seen(20 * D, developing=True, promised_at=NOW - 1 * H)
    assert next_check(clock, POLICY, NOW).interval == 2 * M


def test_stale_developing_marker_falls_back_to_the_age_rule():
    clock = seen(20 * D, developing=True, promised_at=NOW - 3 * D)
    schedule = next_check(clock, POLICY, NOW)
    assert schedule.interval == 3 * D
    assert "developing marker older than 2 d" in schedule.reason


def test_developing_story_that_keeps_changing_stays_tight():
    clock = seen(
        5 * D,
        developing=True,
        promised_at=NOW - 5 * D,
        last_substantive_change_at=NOW - 30 * M,
    )
    assert next_check(clock, POLICY, NOW).interval == 2 * M


def test_developing_marker_without_promise_time_counts_from_age():
    assert next_check(seen(1 * D, developing=True), POLICY, NOW).interval == 2 * M
    assert next_check(seen(3 * D, developing=True), POLICY, NOW).interval == 3 * H


def test_developing_max_age_off_tightens_as_long_as_the_marker_stays():
    policy = CadencePolicy(developing_max_age="off")
    clock = seen(100 * D, developing=True, promised_at=NOW - 100 * D)
    assert next_check(clock, policy, NOW).interval == 2 * M


def test_developing_marker_does_not_stop_retirement():
    clock = seen(400 * D, developing=True, promised_at=NOW - 1 * H)
    assert next_check(clock, POLICY, NOW).verdict is Verdict.RETIRE


def test_developing_interval_never_loosens_the_age_rule():
    policy = CadencePolicy(developing_interval="30m")
    assert next_check(seen(1 * H, developing=True), policy, NOW).interval == 15 * M


# -- errors, Retry-After, gone --------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "interval"),
    [
        (0, 15 * M),
        (1, 15 * M),  # back-off 5 min is shorter than the normal cadence
        (2, 15 * M),  # 10 min
        (3, 20 * M),
        (4, 40 * M),
        (5, 80 * M),
        (6, 160 * M),
        (7, 320 * M),
        (8, 6 * H),  # 640 min, capped
        (9, 6 * H),
        (10, 6 * H),
        (10_000, 6 * H),  # no float overflow
    ],
    ids=str,
)
def test_consecutive_errors_back_off_exponentially_up_to_the_cap(failures, interval):
    clock = seen(1 * H, consecutive_failures=failures)
    assert next_check(clock, POLICY, NOW).interval == interval


def test_back_off_reason_counts_the_errors():
    reason = next_check(seen(1 * H, consecutive_failures=3), POLICY, NOW).reason
    assert reason == "age 1 h: every 15 min; 3 errors: back-off 20 min"


def test_back_off_never_shortens_a_slow_cadence():
    clock = seen(20 * D, consecutive_failures=10)
    assert next_check(clock, POLICY, NOW).interval == 3 * D


def test_back_off_applies_to_developing_stories_too():
    clock = seen(1 * H, developing=True, consecutive_failures=2)
    assert next_check(clock, POLICY, NOW).interval == 10 * M


def test_retry_after_in_seconds_is_honoured():
    # The caller passes the delay from a 429 or 503 response; the policy does not see statuses.
    retry_after = parse_retry_after("7200", NOW)
    clock = seen(1 * H, consecutive_failures=1, retry_after=retry_after)
    schedule = next_check(clock, POLICY, NOW)
    assert schedule.interval == 2 * H
    assert "Retry-After 2 h" in schedule.reason


def test_retry_after_shorter_than_the_cadence_changes_nothing():
    clock = seen(1 * H, retry_after=120 * S)
    assert next_check(clock, POLICY, NOW).interval == 15 * M


def test_retry_after_larger_than_the_cap_is_capped():
    clock = seen(1 * H, retry_after=30 * D)
    schedule = next_check(clock, POLICY, NOW)
    assert schedule.interval == 1 * D
    assert "capped at 1 d" in schedule.reason


def test_retry_after_may_exceed_max_interval():
    policy = CadencePolicy(max_interval="10m")
    assert next_check(seen(1 * H, retry_after=1 * H), policy, NOW).interval == 1 * H


@pytest.mark.parametrize(
    ("gone_count", "verdict"),
    [
        (0, Verdict.CHECK),
        (1, Verdict.CHECK),
        (2, Verdict.CHECK),
        (3, Verdict.GONE),
        (4, Verdict.GONE),
    ],
)
def test_repeated_404_or_410_marks_the_story_gone(gone_count, verdict):
    clock = seen(1 * H, consecutive_gone=gone_count, consecutive_failures=gone_count)
    schedule = next_check(clock, POLICY, NOW)
    assert schedule.verdict is verdict
    if verdict is Verdict.GONE:
        assert schedule.next_check_at is None
        assert "404/410" in schedule.reason


def test_gone_threshold_is_configurable():
    policy = CadencePolicy(gone_after=1)
    assert next_check(seen(1 * H, consecutive_gone=1), policy, NOW).verdict is Verdict.GONE


# -- per-story overrides --------------------------------------------------------------------


def test_fixed_interval_replaces_the_age_rule_and_retirement():
    policy = POLICY.with_overrides(fixed_interval=600)
    assert next_check(seen(1 * H), policy, NOW).interval == 10 * M
    assert next_check(seen(400 * D), policy, NOW).interval == 10 * M
    assert next_check(seen(1 * H, developing=True), policy, NOW).interval == 10 * M
    assert next_check(seen(1 * H), policy, NOW).reason == "fixed: every 10 min"


def test_fixed_interval_still_backs_off_and_goes():
    policy = POLICY.with_overrides(fixed_interval="1m")
    assert next_check(seen(1 * H, consecutive_failures=2), policy, NOW).interval == 10 * M
    assert next_check(seen(1 * H, consecutive_gone=3), policy, NOW).verdict is Verdict.GONE


@pytest.mark.parametrize(
    ("age", "developing", "interval"),
    [
        (1 * H, True, 10 * M),  # 2 min raised to the minimum
        (1 * H, False, 15 * M),  # within bounds
        (5 * H, False, 1 * H),  # within bounds
        (3 * D, False, 2 * H),  # 3 h lowered to the maximum
        (200 * D, False, 2 * H),
    ],
    ids=str,
)
def test_min_and_max_interval_clamp_the_cadence(age, developing, interval):
    policy = POLICY.with_overrides(min_interval="10m", max_interval="2h")
    assert next_check(seen(age, developing=developing), policy, NOW).interval == interval


def test_clamps_do_not_stop_retirement():
    policy = POLICY.with_overrides(max_interval="2h")
    assert next_check(seen(400 * D), policy, NOW).verdict is Verdict.RETIRE


def test_none_overrides_keep_the_global_value():
    policy = CadencePolicy(min_interval="5m").with_overrides(min_interval=None, max_interval=None)
    assert policy.min_interval == 5 * M
    assert policy.max_interval is None


def test_unknown_override_is_an_error():
    with pytest.raises(ValueError, match=r"unknown setting.*min_intervall"):
        POLICY.with_overrides(min_intervall="5m")


def test_with_overrides_leaves_the_original_alone():
    POLICY.with_overrides(developing_interval="1m")
    assert POLICY.developing_interval == 2 * M


# -- jitter ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jitter_unit", "interval"),
    [(0.0, 57 * M), (0.5, 60 * M), (0.999999, 63 * M), (1.0, 63 * M)],
)
def test_jitter_spreads_the_interval_by_five_percent(jitter_unit, interval):
    schedule = next_check(seen(5 * H), POLICY, NOW, jitter_unit=jitter_unit)
    assert abs(schedule.interval - interval) < 1 * S
    assert schedule.next_check_at == NOW + schedule.interval


def test_jitter_never_lands_before_retry_after():
    clock = seen(1 * H, retry_after=2 * H)
    early = next_check(clock, POLICY, NOW, jitter_unit=0.0)
    late = next_check(clock, POLICY, NOW, jitter_unit=1.0)
    assert early.interval == 2 * H + 6 * M  # reflected, not clamped onto one instant
    assert late.interval == 2 * H + 6 * M


def test_zero_jitter_gives_exact_intervals():
    policy = CadencePolicy(jitter=0)
    assert next_check(seen(5 * H), policy, NOW, jitter_unit=0.0).interval == 1 * H


@pytest.mark.parametrize("jitter_unit", [-0.1, 1.1])
def test_jitter_unit_outside_zero_to_one_is_rejected(jitter_unit):
    with pytest.raises(ValueError, match="jitter_unit"):
        next_check(seen(1 * H), POLICY, NOW, jitter_unit=jitter_unit)


@settings(max_examples=200, deadline=None)
@given(
    age_seconds=st.integers(min_value=0, max_value=364 * 86400),
    developing=st.booleans(),
    failures=st.integers(min_value=0, max_value=50),
    retry_after_seconds=st.one_of(st.none(), st.integers(min_value=0, max_value=10 * 86400)),
    jitter_unit=st.floats(min_value=0, max_value=1),
)
def test_every_check_is_in_the_future_within_sane_bounds(
    age_seconds, developing, failures, retry_after_seconds, jitter_unit
):
    retry_after = None if retry_after_seconds is None else timedelta(seconds=retry_after_seconds)
    clock = seen(
        timedelta(seconds=age_seconds),
        developing=developing,
        consecutive_failures=failures,
        retry_after=retry_after,
    )
    schedule = next_check(clock, POLICY, NOW, jitter_unit=jitter_unit)
    assert schedule.verdict is Verdict.CHECK
    assert schedule.next_check_at > NOW
    assert 2 * M * 0.95 <= schedule.interval <= 30 * D * 1.05
    if retry_after is not None:
        assert schedule.interval >= min(retry_after, POLICY.max_retry_after)


# -- timezones ------------------------------------------------------------------------------


def test_naive_datetimes_are_rejected():
    naive = datetime(2024, 5, 1, 12, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        StoryClock(first_seen_at=naive)
    with pytest.raises(ValueError, match="now must be a timezone-aware"):
        next_check(seen(1 * H), POLICY, naive)


def test_other_timezones_are_the_same_instant():
    paris = timezone(timedelta(hours=2))
    clock = StoryClock(first_seen_at=(NOW - 5 * H).astimezone(paris))
    assert next_check(clock, POLICY, NOW).interval == 1 * H


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", 90 * S),
        ("1.5", timedelta(seconds=1.5)),
        ("90s", 90 * S),
        ("15m", 15 * M),
        ("15 min", 15 * M),
        ("3h", 3 * H),
        ("3d", 3 * D),
        ("2w", 14 * D),
        ("1h30m", 90 * M),
        ("1 day 6 hours", 30 * H),
        (" 2H ", 2 * H),
        ("0.5h", 30 * M),
        ("0", timedelta(0)),
        (120, 2 * M),
        (2.5, timedelta(seconds=2.5)),
        (5 * M, 5 * M),
    ],
    ids=repr,
)
def test_parse_duration_accepts(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "  ", "m", "15x", "3 months", "1mo", "-5m", "5m-", "h3", "1h 30", "abc", -1, True, None,
     float("nan"), "999999999999w"],
    ids=repr,
)  # fmt: skip
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_parse_duration_error_names_the_input_and_the_units():
    with pytest.raises(ValueError, match=r"'3 months'.*unknown unit 'months'.*s, m, h, d, w"):
        parse_duration("3 months")


def test_format_duration_is_short_and_human():
    assert format_duration(15 * M) == "15 min"
    assert format_duration(90 * M) == "1 h 30 min"
    assert format_duration(30 * D + 5 * H + 3 * S) == "30 d 5 h"
    assert format_duration(timedelta(0)) == "0 s"


def test_parse_tiers_reads_the_settings_text():
    assert parse_tiers("3h=15m, 1d=1h, 7d=3h, 30d=3d, 365d=30d") == NEWSDIFFS_TIERS


def test_parse_tiers_accepts_mappings_and_pairs_and_sorts_them():
    expected = (Tier(3 * H, 15 * M), Tier(1 * D, 1 * H))
    assert parse_tiers({"1d": "1h", "3h": "15m"}) == expected
    assert parse_tiers([("1d", 3600), ("3h", "15m")]) == expected


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"tiers": "3h"}, "younger_than=interval"),
        ({"tiers": ""}, "at least one tier"),
        ({"tiers": "3h=15m, 3h=1h"}, "same age bound"),
        ({"tiers": "3h=0"}, "must be positive"),
        ({"min_interval": "2h", "max_interval": "1h"}, "min_interval is larger"),
        ({"jitter": 0.5}, "jitter"),
        ({"gone_after": 0}, "gone_after"),
        ({"error_backoff_factor": 0.5}, "error_backoff_factor"),
        ({"error_backoff_factor": "fast"}, "error_backoff_factor must be a number"),
        ({"developing_interval": "0s"}, "developing_interval must be positive"),
        ({"developing_interval": "soon"}, "invalid duration 'soon'"),
    ],
    ids=str,
)
def test_invalid_policies_are_rejected(settings_, message):
    with pytest.raises(ValueError, match=message):
        CadencePolicy.from_mapping(settings_)


def test_from_mapping_reads_duration_text():
    policy = CadencePolicy.from_mapping(
        {"tiers": "1h=5m, 1d=1h", "developing_interval": "1m", "error_backoff_cap": 3600}
    )
    assert policy.tiers == (Tier(1 * H, 5 * M), Tier(1 * D, 1 * H))
    assert policy.developing_interval == 1 * M
    assert policy.error_backoff_cap == 1 * H
    assert next_check(seen(2 * H), policy, NOW).interval == 1 * H
    assert next_check(seen(1 * D), policy, NOW).verdict is Verdict.RETIRE


def test_from_settings_reads_cadence_prefixed_and_plain_names():
    fake = SimpleNamespace(cadence_tiers="1h=5m", developing_interval="1m", unrelated="x")
    policy = CadencePolicy.from_settings(fake)
    assert policy.tiers == (Tier(1 * H, 5 * M),)
    assert policy.developing_interval == 1 * M
    assert policy.gone_after == POLICY.gone_after


def test_from_settings_accepts_the_project_settings_defaults():
    config = pytest.importorskip("tracker.config")
    policy = CadencePolicy.from_settings(config.Settings(_env_file=None))
    assert policy.tiers == NEWSDIFFS_TIERS
    assert policy.developing_interval == 2 * M
    assert policy.promise_deadline == 24 * H


# -- Retry-After header ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "delay"),
    [
        ("120", 120 * S),
        (" 0 ", timedelta(0)),
        ("Wed, 01 May 2024 14:00:00 GMT", 2 * H),
        ("Wed, 01 May 2024 11:00:00 GMT", timedelta(0)),  # already past
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
    ],
    ids=repr,
)
def test_parse_retry_after(header, delay):
    assert parse_retry_after(header, NOW) == delay


# -- promises -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("promised_ago", "fulfilled", "recorded", "overdue"),
    [
        (23 * H, False, False, False),
        (24 * H, False, False, True),
        (3 * D, False, False, True),
        (3 * D, True, False, False),  # an update came
        (3 * D, False, True, False),  # recorded once already
        (None, False, False, False),  # no promise
    ],
    ids=str,
)
def test_promise_overdue_after_the_deadline_once(promised_ago, fulfilled, recorded, overdue):
    promised_at = None if promised_ago is None else NOW - promised_ago
    assert (
        promise_overdue(promised_at, fulfilled=fulfilled, overdue_recorded=recorded, now=NOW)
        is overdue
    )


def test_promise_deadline_is_configurable():
    promised_at = NOW - 2 * H
    policy = CadencePolicy(promise_deadline="1h")
    assert promise_overdue(
        promised_at,
        fulfilled=False,
        overdue_recorded=False,
        now=NOW,
        deadline=policy.promise_deadline,
    )


@pytest.mark.parametrize(
    ("changed_after", "substantive", "fulfils"),
    [
        (1 * H, True, True),
        (1 * H, False, False),  # a minor edit is not the promised update
        (timedelta(0), True, False),  # the version carrying the promise
        (-1 * H, True, False),
    ],
    ids=str,
)
def test_next_substantive_version_fulfils_the_promise(changed_after, substantive, fulfils):
    promised_at = NOW - 5 * H
    changed_at = promised_at + changed_after
    assert fulfils_promise(promised_at, changed_at=changed_at, substantive=substantive) is fulfils


def test_nothing_fulfils_a_promise_never_made():
    assert not fulfils_promise(None, changed_at=NOW, substantive=True)
