-- Nexmark q4's first stage bounded in time (not one of Flink's queries): each
-- auction's closing price, its highest bid among those placed within 10
-- seconds of its creation, with its category. q4 then averages these per
-- category, a second grouping corestream does not run yet. A GROUP BY by the
-- join key over an interval join of two streams: it runs on the key's shard,
-- and each auction's window closes once no bid can still pair with it, so
-- rows are written, and state released, while the generators run. Both
-- generators run at 100,000 events per second of event time (Nexmark's
-- default, 10M a second, would put a 10M-event run inside one window).
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000', 'events_per_second_time' = '100000');
CREATE TABLE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'auction', 'events' = '10000000', 'events_per_second_time' = '100000');

SELECT A.id, A.category, MAX(B.price) AS final
FROM auction AS A, bid AS B
WHERE A.id = B.auction
  AND B.date_time BETWEEN A.date_time AND A.date_time + INTERVAL '10' SECOND
GROUP BY A.id, A.category, TUMBLE(A.date_time, INTERVAL '10' SECOND);
