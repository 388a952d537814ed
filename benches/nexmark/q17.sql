-- Nexmark q17 (Flink nexmark's extension q17): per auction per day, bids
-- per price rank and price statistics.
-- Differs from Flink: none in the query. Like Flink's (an unbounded GROUP BY
-- that emits updates), it runs with corestream's default for a GROUP BY without
-- a window, EMIT CHANGES; add EMIT FINAL for one row per group at the end.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink);
-- the generator's bids are in time order and corestream's watermark delay
-- defaults to 0 where Flink declares 4 s (--max-out-of-orderness 4s to match;
-- results are the same for in-order data).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');

SELECT
    auction,
    DATE_FORMAT(date_time, 'yyyy-MM-dd') AS day,
    COUNT(*) AS total_bids,
    COUNT(*) FILTER (WHERE price < 10000) AS rank1_bids,
    COUNT(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
    COUNT(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
    MIN(price) AS min_price,
    MAX(price) AS max_price,
    AVG(price) AS avg_price,
    SUM(price) AS sum_price
FROM bid
GROUP BY auction, DATE_FORMAT(date_time, 'yyyy-MM-dd');
