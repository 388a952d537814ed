-- Nexmark q5, hot items, counting half (Flink nexmark q5's inner query):
-- bids per auction in HOP windows of size 10 s sliding every 2 s.
-- Differs from Flink: only the counting half; Flink's q5 then joins it with
-- the per-window maximum to keep the auctions with the most bids (needs a
-- join). window_start / window_end stand for HOP_START / HOP_END.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink);
-- the generator's bids are in time order and corestream's watermark delay
-- defaults to 0 where Flink declares 4 s (--max-out-of-orderness 4s to match;
-- results are the same for in-order data).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');

SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
FROM bid
GROUP BY auction, HOP(date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
EMIT FINAL;
