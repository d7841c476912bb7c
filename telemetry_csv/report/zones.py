"""The report's time zone, and exact day buckets for stored timestamps at little cost per row.

`--tz` takes `UTC` (the default, so CI and every laptop agree), an IANA name such as
`Europe/Berlin`, or `local`. A zone here only answers one question: its UTC offset at an instant.

`HourBuckets` caches, per stored hour (`YYYY-MM-DDTHH` plus the row's own offset), the instant the
hour starts and the report-zone day it falls on. The cached day is used only when the zone has the
same offset at the first and last second of that hour and both seconds fall on the same local day;
otherwise (an hour containing local midnight, as with `+05:30` rows in a UTC report, or a DST
change) the day is worked out for each row from its exact second. That is exact as long as a zone
never changes its offset twice within one hour, which no zone in the tz database does.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from telemetry_csv.errors import InvalidValueError, TelemetryError
from telemetry_csv.report.dates import (
    SECONDS_PER_DAY,
    datetime_second,
    days_from_civil,
)

if TYPE_CHECKING:
    from datetime import tzinfo

TZ_ALLOWED = "expected UTC, local, or an IANA time zone name such as Europe/Berlin"
_TZIF_LIMIT = 1 << 20  # far above any zone's TZif file


class ReportZone:
    """A time zone, by the name the report shows, that gives its UTC offset at an instant."""

    def __init__(self, name: str, zone: tzinfo | None = None, *, system_local: bool = False):
        self.name = name
        self._zone = zone  # None for UTC and for the C library's local time
        self._system_local = system_local

    @property
    def is_utc(self) -> bool:
        return self._zone is None and not self._system_local

    def offset_at(self, seconds: int) -> int:
        """Seconds east of UTC at the instant `seconds` (Unix time)."""
        clamped = datetime_second(seconds)
        if self._zone is not None:
            from datetime import datetime, timedelta  # not needed for UTC reports: start-up

            offset = datetime.fromtimestamp(clamped, self._zone).utcoffset()
            return 0 if offset is None else offset // timedelta(seconds=1)
        if self._system_local:
            import time

            return time.localtime(clamped).tm_gmtoff
        return 0

    def day_at(self, seconds: int) -> int:
        """The local day number of the instant `seconds`."""
        return (seconds + self.offset_at(seconds)) // SECONDS_PER_DAY

    def __repr__(self) -> str:
        return f"ReportZone({self.name!r})"


UTC_ZONE = ReportZone("UTC", None)


def resolve_zone(text: str) -> ReportZone:
    """The zone `--tz` names; raises InvalidValueError for anything else."""
    name = text.strip()
    if name.upper() in ("UTC", "Z"):
        return UTC_ZONE
    if name.lower() == "local":
        return _local_zone()
    from zoneinfo import ZoneInfo

    try:
        return ReportZone(name, ZoneInfo(name))
    except (ValueError, KeyError, OSError):  # not found, a folder, an unsafe path, ...
        raise InvalidValueError("--tz", text, TZ_ALLOWED) from None


def _local_zone() -> ReportZone:
    """This machine's zone as the C library sees it: `TZ` when set, else `/etc/localtime`; by its
    IANA name when it has one, so the report can say which zone it used."""
    from zoneinfo import ZoneInfo

    if "TZ" in os.environ:
        key = os.environ["TZ"].lstrip(":")
        if key:
            try:
                if os.path.isabs(key):
                    return ReportZone(f"local ({key})", _zone_file(key))
                return ReportZone(f"local ({key})", ZoneInfo(key))
            except (ValueError, KeyError, OSError, TelemetryError):
                pass
        # A POSIX rule such as CET-1CEST (or an empty TZ, meaning UTC): only the C library
        # understands it, so ask it.
        return ReportZone(f"local (TZ={os.environ['TZ']})", system_local=True)
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        key = target.split("zoneinfo/", 1)[1]
        try:
            return ReportZone(f"local ({key})", ZoneInfo(key))
        except (ValueError, KeyError, OSError):
            pass
    try:
        return ReportZone("local", _zone_file("/etc/localtime", "localtime"))
    except (ValueError, OSError, TelemetryError):
        return ReportZone("local", system_local=True)


def _zone_file(path: str, key: str | None = None) -> tzinfo:
    """A TZif file (where TZ=/path or /etc/localtime says), read bounded: a FIFO or a device
    named there is refused, not read for ever."""
    import io
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from telemetry_csv import fs

    data = fs.read_bounded(Path(path), _TZIF_LIMIT, follow=True)
    if data is None:
        raise FileNotFoundError(path)
    return ZoneInfo.from_file(io.BytesIO(data), key=key or path)


_OFFSETS_KEPT = 1 << 16  # instants whose zone offset `HourBuckets` keeps


class HourBuckets:
    """Per stored hour: (local day, or None when it must be worked out per row; hour start)."""

    def __init__(self, zone: ReportZone):
        self.zone = zone
        self.hours: dict[str, tuple[int | None, int]] = {}
        self._days: dict[str, int] = {}  # a stored date's day number (a log has few dates)
        # The zone's offset at instants asked before: rows in several offsets share hour
        # starts, and asking a zone with summer time costs a `datetime`.
        self._offsets: dict[int, int] | None = None if zone.is_utc else {}

    def entry(self, key: str, timestamp: str) -> tuple[int | None, int]:
        entry = self.hours[key] = self.locate(timestamp)
        return entry

    def locate(self, timestamp: str) -> tuple[int | None, int]:
        """What `entry` caches for the hour of `timestamp`, not cached."""
        date = timestamp[:10]
        days = self._days.get(date)
        if days is None:
            days = self._days[date] = days_from_civil(
                int(timestamp[:4]), int(timestamp[5:7]), int(timestamp[8:10])
            )
        start = days * SECONDS_PER_DAY + int(timestamp[11:13]) * 3600
        if timestamp[-1] != "Z":  # offset_seconds, inlined
            offset = int(timestamp[-5:-3]) * 3600 + int(timestamp[-2:]) * 60
            start = start + offset if timestamp[-6] == "-" else start - offset
        end = start + 3599
        offsets = self._offsets
        if offsets is None:
            day: int | None = start // SECONDS_PER_DAY
            return (day if day == end // SECONDS_PER_DAY else None), start
        if len(offsets) > _OFFSETS_KEPT:
            offsets.clear()
        first_offset = offsets.get(start)
        if first_offset is None:
            first_offset = offsets[start] = self.zone.offset_at(start)
        last_offset = offsets.get(end)
        if last_offset is None:
            last_offset = offsets[end] = self.zone.offset_at(end)
        day = (start + first_offset) // SECONDS_PER_DAY
        if first_offset != last_offset or day != (end + last_offset) // SECONDS_PER_DAY:
            day = None
        return day, start

    def exact_day(self, start: int, timestamp: str) -> int:
        """The local day of one row, from its second (a day starts on a whole second)."""
        return self.zone.day_at(start + int(timestamp[14:16]) * 60 + int(timestamp[17:19]))


def hour_key(timestamp: str) -> str:
    """The cache key of a stored timestamp's hour: `YYYY-MM-DDTHH` and its offset."""
    return timestamp[:13] if timestamp[-1] == "Z" else timestamp[:13] + timestamp[-6:]
