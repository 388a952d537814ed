"""Writes the inputs of tests/union.rs (deterministic): two order feeds
with different column names and orders over overlapping times. eu.csv has
a row every 2 s from 00:00:00 for 10 minutes; us.csv a row every 6 s from
00:03:01 (odd seconds, so no two rows of the union share a time), with a
venue, and one malformed line. Run from the repository root:
    python3 tests/data/union/make_inputs.py"""
import datetime

DIR = "tests/data/union"
BASE = datetime.datetime(2026, 1, 1)
SYMBOLS = ["AAPL", "MSFT", "NVDA", "TSLA"]


def stamp(seconds):
    return (BASE + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


with open(f"{DIR}/eu.csv", "w") as out:
    out.write("ts,symbol,price,qty\n")
    for i in range(300):
        out.write(f"{stamp(2 * i)},{SYMBOLS[i * 7 % 4]},{100 + i * 13 % 50},{1 + i % 9}\n")

with open(f"{DIR}/us.csv", "w") as out:
    out.write("venue,sym,qty,px,ts\n")
    for i in range(70):
        if i == 40:
            out.write("x,AAPL,not-a-number,1,2026-01-01T00:07:01Z\n")
        venue = "nyse" if i % 3 else "iex"
        out.write(f"{venue},{SYMBOLS[i * 5 % 4]},{1 + i % 5},{200 + i * 7 % 30},{stamp(181 + 6 * i)}\n")
