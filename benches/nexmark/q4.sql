-- Nexmark q4, average closing price per category, in two stages: the inner
-- query is q4_closing_price.sql (each auction's highest bid among those
-- placed within 10 seconds of its creation, a GROUP BY by the join key over
-- an interval join of two streams, run on the key's shard); the outer
-- grouping averages those closing prices per category on the merger, as an
-- updating result (EMIT CHANGES: each category's new average as auctions
-- close; `--changelog` for Flink's -U/+U rows). Differs from Flink: the
-- closing price is bounded in time (Flink's q4 pairs every bid before the
-- auction expires, state that grows with the run), as in q4_closing_price.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000', 'events_per_second_time' = '100000');
CREATE TABLE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'auction', 'events' = '10000000', 'events_per_second_time' = '100000');

SELECT Q.category, AVG(Q.final) AS avg_final
FROM (
  SELECT A.id, A.category, MAX(B.price) AS final
  FROM auction AS A, bid AS B
  WHERE A.id = B.auction
    AND B.date_time BETWEEN A.date_time AND A.date_time + INTERVAL '10' SECOND
  GROUP BY A.id, A.category, TUMBLE(A.date_time, INTERVAL '10' SECOND)
) AS Q
GROUP BY Q.category;
