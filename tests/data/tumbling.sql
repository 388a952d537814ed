-- Per-symbol statistics in 10-second tumbling windows.
CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP)
  WITH ('path' = 'trades.csv', 'format' = 'csv');

SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS volume,
       AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high
FROM trades
GROUP BY symbol
WINDOW TUMBLING(ts, INTERVAL '10' SECOND)
EMIT FINAL;
