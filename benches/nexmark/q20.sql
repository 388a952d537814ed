-- Nexmark q20, expand bid with auction: each bid with its auction's details,
-- for auctions in category 10. A regular join of two streams (bid and
-- auction), as Flink's q20: every row of both is kept on its key's shard for
-- the whole run.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');
CREATE TABLE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'auction', 'events' = '10000000');

SELECT auction, bidder, price, channel, url, B.date_time, B.extra, item_name, description,
  initial_bid, reserve, A.date_time, expires, seller, category, A.extra
FROM bid AS B INNER JOIN auction AS A ON B.auction = A.id
WHERE A.category = 10;
