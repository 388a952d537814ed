-- Nexmark q8, monitor new users: the people who registered and created an
-- auction in the same 10-second window (a window join of person and
-- auction on the seller, each row kept only until its window closes).
-- Flink's q8 groups each side by its window before joining them; here the
-- window join comes first and GROUP BY over it, by the person and the
-- join's window, writes each pair once (the same rows: a person registers
-- once, so grouping the person side changes nothing, and grouping the
-- auctions by seller before the join only removes the duplicates the outer
-- GROUP BY removes). Each window's rows are written when it closes.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink).

CREATE TABLE person (id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, state VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'person', 'events' = '10000000');
CREATE TABLE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'auction', 'events' = '10000000');

SELECT P.id, P.name, P.window_start AS starttime
FROM (SELECT * FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(date_time), INTERVAL '10' SECOND))) P
JOIN (SELECT * FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(date_time), INTERVAL '10' SECOND))) A
  ON P.id = A.seller AND P.window_start = A.window_start AND P.window_end = A.window_end
GROUP BY P.id, P.name, P.window_start, P.window_end;
