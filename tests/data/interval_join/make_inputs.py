"""Writes the inputs of tests/interval_join.rs (deterministic, seeded).
orders.csv: 1,200 orders about 4 s apart (some ids repeat, some customers
are empty); payments.csv: 0 to 3 payments per order, at the edges of the
30-minute interval the tests join on (at the order's time, at +30 min, 1 ms
before and 1 ms after), inside it, and for orders that do not exist, with
a NULL order id or a NULL time. Each file is in time order but for a
jitter of at most 15 s, so with 20 s of declared out-of-orderness no row
is late. Run from the repository root:
    python3 tests/data/interval_join/make_inputs.py"""
import datetime
import random

DIR = "tests/data/interval_join"
BASE = datetime.datetime(2026, 3, 1, 9, 0, 0)
MS = datetime.timedelta(milliseconds=1)
random.seed(8)


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def jittered(rows):
    """Rows (time, line) in time order, each moved by up to 15 s."""
    keyed = [((t - BASE).total_seconds() + random.uniform(0, 15), line) for t, line in rows]
    return [line for _, line in sorted(keyed)]


orders = []
payments = []
pid = 0
for i in range(1200):
    oid = i + 1 if i % 40 else i  # every 40th order repeats the previous id
    ts = BASE + datetime.timedelta(seconds=4 * i, milliseconds=random.randrange(1000))
    customer = "" if i % 23 == 0 else f"c{random.randrange(30)}"
    orders.append((ts, f"{oid},{customer},{random.randrange(1, 500)},{stamp(ts)}"))
    offsets = random.choice([
        [], [0], [30 * 60_000], [-1], [30 * 60_000 + 1],
        [random.randrange(30 * 60_000)], [5_000, 65_000, 29 * 60_000],
    ])
    for offset in offsets:
        pid += 1
        at = ts + offset * MS
        payments.append((at, f"{pid},{oid},{random.randrange(1, 50)},{stamp(at)}"))
    if i % 97 == 0:
        pid += 1
        payments.append((ts, f"{pid},{100000 + i},{7},{stamp(ts)}"))
    if i % 211 == 0:
        pid += 1
        payments.append((ts, f"{pid},,{8},{stamp(ts)}"))
    if i % 307 == 0:
        pid += 1
        payments.append((ts, f"{pid},{oid},{9},"))

with open(f"{DIR}/orders.csv", "w") as out:
    out.write("id,customer,amount,ts\n")
    out.write("".join(line + "\n" for line in jittered(orders)))

with open(f"{DIR}/payments.csv", "w") as out:
    out.write("pid,order_id,amount,ts\n")
    out.write("".join(line + "\n" for line in jittered(payments)))
