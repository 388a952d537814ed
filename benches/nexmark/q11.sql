-- Nexmark q11, user sessions (Flink nexmark q11): bids per bidder per
-- session, a session ending after 10 s without a bid.
-- Differs from Flink: window_start / window_end stand for SESSION_START /
-- SESSION_END.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink);
-- the generator's bids are in time order and corestream's watermark delay
-- defaults to 0 where Flink declares 4 s (--max-out-of-orderness 4s to match;
-- results are the same for in-order data).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');

SELECT bidder, COUNT(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM bid
GROUP BY bidder, SESSION(date_time, INTERVAL '10' SECOND)
EMIT FINAL;
