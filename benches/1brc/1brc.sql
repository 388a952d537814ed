-- The billion-row challenge: min, mean and max temperature per weather station
-- over `station;temperature` lines (one decimal, no header). Generate an input
-- with `cargo run --release --example gen_1brc -- ROWS measurements.txt` and
-- point at it with --source-option measurements.path=PATH; scripts/1brc.sh does
-- both and compares the result with DuckDB's.

CREATE TABLE measurements (station VARCHAR, temperature DOUBLE)
  WITH ('path' = 'measurements.txt', 'format' = 'csv', 'delimiter' = ';', 'header' = 'false');

SELECT station, MIN(temperature) AS min, AVG(temperature) AS mean, MAX(temperature) AS max
FROM measurements
GROUP BY station
EMIT FINAL;
