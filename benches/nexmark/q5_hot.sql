-- Nexmark q5, hot items: the auctions with the most bids in each HOP window
-- (10 s, sliding every 2 s). Flink's q5 joins the bids per auction with the
-- per-window maximum (AuctionBids JOIN MaxBids ON num >= maxn); the same
-- result is a window Top-N: RANK() = 1 by the count keeps every auction tied
-- for the most. It runs in two stages: the counting (q5.sql) on the shards,
-- the ranking of each window on the merger when the window closes.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink);
-- the generator's bids are in time order and corestream's watermark delay
-- defaults to 0 where Flink declares 4 s (--max-out-of-orderness 4s to match;
-- results are the same for in-order data).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');

SELECT auction, num FROM (
  SELECT *, RANK() OVER (PARTITION BY starttime, endtime ORDER BY num DESC) AS rk
  FROM (
    SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
    FROM TABLE(HOP(TABLE bid, DESCRIPTOR(date_time), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
    GROUP BY auction, window_start, window_end))
WHERE rk <= 1;
