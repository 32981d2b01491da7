"""Cron expressions of the schedules: the five fields of crontab(5) (minute, hour, day of month,
month, day of week), read in a time zone, and the next time they fire.

Written here rather than taken from a library: no cron library is among the suite's
dependencies, and this module also runs on the compute nodes (`python -m espri_vre.jobs.cron
next ...`, the step of a schedule's job that submits the next run), where only the standard
library can be counted on. It reads what Vixie cron and Slurm's scrontab read: `*`, numbers,
ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month and day names (`jan`, `mon`), 0 or 7 for
Sunday, and the nicknames @hourly, @daily, @weekly, @monthly, @yearly. As in cron, when both the
day of month and the day of week are restricted, a day matching either fires."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NICKNAMES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)
SEARCH_DAYS = 366 * 5
"""How far ahead a next firing is looked for: '0 0 29 2 *' fires once in four years (and
'0 0 31 2 *' never, which is then said)."""


class CronError(ValueError):
    """A cron expression or a time zone that cannot be read; the message says which field."""


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 is Sunday (7 is read as 0)."""
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        expression = NICKNAMES.get(text.strip().lower(), text.strip())
        words = expression.split()
        if len(words) != 5:
            raise CronError(
                f"a cron expression has five fields (minute hour day month weekday), "
                f"{text!r} has {len(words)}"
            )
        sets = [
            _field(word, name, low, high, names)
            for word, (name, low, high, names) in zip(words, FIELDS, strict=True)
        ]
        weekdays = frozenset(d % 7 for d in sets[4])
        return cls(
            text=text.strip(),
            minutes=sets[0],
            hours=sets[1],
            days=sets[2],
            months=sets[3],
            weekdays=weekdays,
            any_day=words[2] == "*",
            any_weekday=words[4] == "*",
        )

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, after: float, zone: str) -> float:
        """The first firing strictly after `after` (seconds since the epoch), its minutes read as
        wall-clock time in `zone`. A wall-clock minute that does not exist (the hour skipped when
        summer time starts) does not fire; one that happens twice fires the first time."""
        tz = time_zone(zone)
        start = datetime.fromtimestamp(after, tz).replace(tzinfo=None, second=0, microsecond=0)
        start += timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(SEARCH_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        wall = day.replace(hour=hour, minute=minute)
                        if wall < start:
                            continue
                        aware = wall.replace(tzinfo=tz, fold=0)
                        # A wall time that does not exist comes back shifted by the round trip.
                        back = datetime.fromtimestamp(aware.timestamp(), tz).replace(tzinfo=None)
                        if back == wall:
                            return aware.timestamp()
            day += timedelta(days=1)
        raise CronError(f"{self.text!r} never fires (no date matches it)")


def _field(word: str, name: str, low: int, high: int, names: list[str] | None) -> frozenset[int]:
    values: set[int] = set()
    for part in word.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"the {name} step {step_text!r} is not a whole number above 0")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _value(a, name, low, high, names), _value(b, name, low, high, names)
            if first > last:
                raise CronError(f"the {name} range {base!r} runs backwards")
        else:
            first = _value(base, name, low, high, names)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _value(text: str, name: str, low: int, high: int, names: list[str] | None) -> int:
    lowered = text.lower()
    if names and lowered in names:
        return names.index(lowered) + (1 if names is MONTHS else 0)
    if not lowered.isdigit():
        raise CronError(f"the {name} {text!r} is not a number from {low} to {high}")
    value = int(lowered)
    if not low <= value <= high:
        raise CronError(f"the {name} {value} is outside {low}-{high}")
    return value


def time_zone(zone: str) -> ZoneInfo:
    """The IANA time zone `zone` ('Europe/Paris', 'UTC'); CronError for a name not known."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise CronError(f"{zone!r} is not a known time zone (e.g. Europe/Paris, UTC)") from e


def scheduler_time(epoch: float, form: str) -> str:
    """`epoch` as a scheduler reads a start time, in this machine's local time: Slurm's
    `--begin` (2026-12-07T06:00:00), Torque's `qsub -a` ([[CC]YY]MMDDhhmm[.SS])."""
    local = time.localtime(epoch)
    if form == "slurm":
        return time.strftime("%Y-%m-%dT%H:%M:%S", local)
    if form == "torque":
        return time.strftime("%Y%m%d%H%M.%S", local)
    return str(int(epoch))


def main(argv: list[str]) -> int:
    """`python -m espri_vre.jobs.cron next EXPR ZONE slurm|torque [AFTER]`: the next firing after
    now, or after AFTER (the firing of the run that asks) when that is later, printed as the
    scheduler reads it and as seconds since the epoch. What a schedule's job runs to submit its
    next run: counting from its own firing, a run that a skewed clock starts a little early does
    not submit a second run for the same minute."""
    if len(argv) not in (4, 5) or argv[0] != "next":
        sys.stderr.write("usage: python -m espri_vre.jobs.cron next EXPR ZONE FORM [AFTER]\n")
        return 2
    try:
        after = max(time.time(), float(argv[4]) if len(argv) == 5 else 0.0)
        due = Cron.parse(argv[1]).next_after(after, argv[2])
    except ValueError as e:  # CronError, or an AFTER that is not a number
        sys.stderr.write(f"cron: {e}\n")
        return 1
    print(scheduler_time(due, argv[3]), int(due))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
