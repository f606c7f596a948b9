#!/usr/bin/env python3
"""Write the holiday fixtures that crates/calendar/tests/fixture.rs checks against.

Dev-only: the Rust crate never reads these files at run time. Two independent public
sources, each for the years it is right about:

  holidays_1949_2099.csv  from PyPI `holidays` (python-holidays), Japan, years 1949-2099
                          (its whole range; names as it gives them, in Japanese)
  holidays_2100_2150.csv  from PyPI `jpholiday`, years 2100-2150 (it computes the equinoxes
                          astronomically, after Meeus, so it is independent of the
                          approximation formula the crate uses)

jpholiday is not used before 2100: it lists 国民の休日 on May 4 from 1948 on, though the
rule only exists since 1985-12-27, and a 1973-02-12 substitute holiday, though substitutes
only exist since 1973-04-12. jpholiday's "X 振替休日" is written as plain "振替休日".

Run:  pip install holidays jpholiday && python3 crates/calendar/tests/data/make_fixture.py
"""

import csv
import os
from importlib.metadata import version

import holidays
import jpholiday

HERE = os.path.dirname(os.path.abspath(__file__))


def write(path, rows, source):
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(f"# {source}\n")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["date", "name"])
        for d, name in sorted(rows):
            w.writerow([d.isoformat(), name])


def main():
    jp = holidays.Japan(years=range(1949, 2100), language="ja")
    rows = [(d, n) for d, n in jp.items() if 1949 <= d.year <= 2099]
    write(
        os.path.join(HERE, "holidays_1949_2099.csv"),
        rows,
        f"PyPI holidays {version('holidays')}, holidays.Japan(language='ja'), 1949-2099",
    )

    rows = []
    for y in range(2100, 2151):
        for d, n in jpholiday.year_holidays(y):
            if n.endswith(" 振替休日"):
                n = "振替休日"
            rows.append((d, n))
    write(
        os.path.join(HERE, "holidays_2100_2150.csv"),
        rows,
        f"PyPI jpholiday {version('jpholiday')}, jpholiday.year_holidays, 2100-2150",
    )


if __name__ == "__main__":
    main()
