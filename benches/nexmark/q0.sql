-- Nexmark q0, pass-through (Flink nexmark q0): every bid, five columns.
-- Differs from Flink: nothing but the common points below.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink);
-- the generator's bids are in time order and corestream's watermark delay
-- defaults to 0 where Flink declares 4 s (--max-out-of-orderness 4s to match;
-- results are the same for in-order data).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');

SELECT auction, bidder, price, date_time, extra FROM bid;
