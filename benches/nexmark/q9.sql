-- Nexmark q9 (Winning Bids): each auction's highest bid (the earliest on a
-- tie) among those placed before it expires, with the auction. A Top-N over
-- a join of two streams, partitioned by the join key, so it runs on the
-- key's shard right after the join. The bound on the bid's time is not a
-- constant interval (it reads A.expires), so this is a regular join: every
-- row is kept to the end, as in Flink. The output is Top-N's changelog
-- (each new leader of an auction replaces the previous one).
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');
CREATE TABLE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'auction', 'events' = '10000000');

SELECT id, item_name, description, initial_bid, reserve, date_time, expires, seller, category,
  extra, auction, bidder, price, bid_date_time, bid_extra
FROM (
  SELECT A.*, B.auction, B.bidder, B.price, B.date_time AS bid_date_time, B.extra AS bid_extra,
    ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.date_time ASC) AS rownum
  FROM auction A, bid B
  WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
)
WHERE rownum <= 1;
