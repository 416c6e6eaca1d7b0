"""The console's date filters (console/js/format.js): a day picked in a date input is that whole day
in the tenant's time zone, sent to the API as ISO 8601 with the zone's offset on that very date —
so a filter on a daylight-saving day neither loses nor adds an hour of messages.

Run with Node (installed with the browser tests' axe-core), which imports the console's module
as the browser does."""

from __future__ import annotations

import json
import shutil
import subprocess

from local.template import ROOT

SCRIPT = """
import { setTimeZone, zonedIso } from './console/js/format.js';
const out = {};
for (const [zone, date, wall] of JSON.parse(process.argv[1])) {
  setTimeZone(zone);
  out[`${zone} ${date} ${wall}`] = zonedIso(date, wall);
}
console.log(JSON.stringify(out));
"""


def zoned(*cases: tuple[str, str, str]) -> dict[str, str]:
    node = shutil.which("node")
    assert node, "node is needed (make browser installs it with axe-core)"
    done = subprocess.run([node, "--input-type=module", "-e", SCRIPT, json.dumps(cases)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_a_day_is_the_tenant_s_whole_day_with_that_date_s_offset():
    assert zoned(
        ("America/Chicago", "2026-03-08", "00:00:00"),  # daylight saving starts at 02:00 that day
        ("America/Chicago", "2026-03-08", "23:59:59"),
        ("America/Chicago", "2026-11-01", "00:00:00"),  # and ends at 02:00 that day
        ("America/Chicago", "2026-11-01", "23:59:59.999"),  # a "to" day: its last millisecond too
        ("Asia/Kolkata", "2026-06-01", "00:00:00"),
        ("UTC", "2026-06-01", "23:59:59"),
    ) == {
        "America/Chicago 2026-03-08 00:00:00": "2026-03-08T00:00:00-06:00",
        "America/Chicago 2026-03-08 23:59:59": "2026-03-08T23:59:59-05:00",
        "America/Chicago 2026-11-01 00:00:00": "2026-11-01T00:00:00-05:00",
        "America/Chicago 2026-11-01 23:59:59.999": "2026-11-01T23:59:59.999-06:00",
        "Asia/Kolkata 2026-06-01 00:00:00": "2026-06-01T00:00:00+05:30",
        "UTC 2026-06-01 23:59:59": "2026-06-01T23:59:59+00:00",
    }


def test_an_unknown_time_zone_falls_back_to_utc_rather_than_breaking_the_filters():
    assert zoned(("America/Chicago", "2026-06-01", "00:00:00"), ("Not/AZone", "2026-06-01", "00:00:00")) == {
        "America/Chicago 2026-06-01 00:00:00": "2026-06-01T00:00:00-05:00",
        "Not/AZone 2026-06-01 00:00:00": "2026-06-01T00:00:00+00:00",  # not Chicago's offset left behind
    }
