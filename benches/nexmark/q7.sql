-- Nexmark q7, highest bid, windowed half (Flink nexmark q7's inner query):
-- the highest price per 10 s tumbling window.
-- Differs from Flink: only the windowed MAX; Flink's q7 then joins it back
-- with the bids to output the winning bids (needs a join).
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink);
-- the generator's bids are in time order and corestream's watermark delay
-- defaults to 0 where Flink declares 4 s (--max-out-of-orderness 4s to match;
-- results are the same for in-order data).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');

SELECT MAX(price) AS maxprice, window_start, window_end
FROM bid
GROUP BY TUMBLE(date_time, INTERVAL '10' SECOND)
EMIT FINAL;
