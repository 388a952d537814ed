-- Nexmark q20 bounded in time (not one of Flink's queries): every bid placed
-- within 10 seconds of its auction's creation, with the auction, category
-- 10. An interval join of two streams: a bid is kept until the watermark
-- passes its time (no later auction can pair with it), an auction for 10
-- seconds of event time, instead of every row for the whole run as in q20.
-- Differences common to all: snake_case columns (date_time, not dateTime); no sink
-- DDL (pick one with --format, e.g. --format blackhole as Flink's blackhole sink).

CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '10000000');
CREATE TABLE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR)
  WITH ('connector' = 'nexmark', 'table' = 'auction', 'events' = '10000000');

SELECT auction, bidder, price, channel, url, B.date_time, B.extra, item_name, description,
  initial_bid, reserve, A.date_time, expires, seller, category, A.extra
FROM bid AS B INNER JOIN auction AS A ON B.auction = A.id
  AND B.date_time BETWEEN A.date_time AND A.date_time + INTERVAL '10' SECOND
WHERE A.category = 10;
