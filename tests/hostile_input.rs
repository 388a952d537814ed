//! Reading tricky and hostile input: cutting a file into chunks never changes
//! the rows read (quoted line breaks, CRLF, blank lines, headers, unclosed
//! quotes, over-long records), one stray quote costs one record, and every
//! input saved under `tests/data/fuzz/<target>/` (fuzzer crashers and seeds)
//! runs through the same check as its fuzz target.

#[path = "../fuzz/src/checks.rs"]
mod checks;

use checks::{read_chunked, same_rows_for_chunk_sizes, Options, Reading};
use corestream::io::open_source;
use corestream::plan::TableDef;
use std::io::Write;
use std::path::Path;

const CSV: Options = Options {
    header: true,
    delimiter: b',',
    max_record_bytes: None,
    add_header: false,
};

const NO_HEADER: Options = Options {
    header: false,
    ..CSV
};

/// A CSV header naming the checks' schema.
const HEADER: &str = "s,i,d,m,b,t\n";

/// Every chunk size from 1 byte to past the whole text.
fn every_chunk_size(text: &[u8]) -> Vec<u64> {
    (1..=text.len() as u64 + 1).collect()
}

fn csv_table(text: &[u8], options: Options) -> (tempfile::NamedTempFile, TableDef) {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    file.write_all(text).unwrap();
    let mut properties = vec![
        (
            "path".to_string(),
            file.path().to_str().unwrap().to_string(),
        ),
        ("header".to_string(), options.header.to_string()),
    ];
    if let Some(limit) = options.max_record_bytes {
        properties.push(("max_record_bytes".to_string(), limit.to_string()));
    }
    let table = TableDef {
        name: "t".to_string(),
        schema: checks::schema(),
        properties,
    };
    (file, table)
}

/// Reads CSV `text` whole, as one stream.
fn read_whole(text: &[u8], options: Options) -> Reading {
    checks::read_whole(text, options, "csv").expect("the header names the columns")
}

#[test]
fn quoted_line_breaks_never_make_phantom_rows() {
    let mut text = HEADER.to_string();
    for i in 0..150_000 {
        // Irregular lengths, so that cuts land in every part of a record.
        let tail = "Y".repeat(i % 7);
        text.push_str(&format!("\"X\n{tail}\",{i},1.5,2.25,true,{i}\n"));
    }
    let (_file, table) = csv_table(text.as_bytes(), CSV);
    let whole = read_whole(text.as_bytes(), CSV);
    assert_eq!(whole.rows.len(), 150_000);
    assert!(whole.malformed.is_empty(), "{:?}", &whole.malformed[..1]);
    for chunk_bytes in [1 << 20, 65_537] {
        let chunked = read_chunked(&table, chunk_bytes);
        assert_eq!(chunked.rows.len(), 150_000, "chunks of {chunk_bytes}");
        assert!(chunked == whole, "chunks of {chunk_bytes} differ");
    }
}

#[test]
fn a_three_line_file_of_two_records_in_one_byte_chunks() {
    let text = b"\"a\nb\",1,,,,\nc,2,,,,\n";
    let (_file, table) = csv_table(text, NO_HEADER);
    let chunked = read_chunked(&table, 1);
    assert_eq!(chunked.rows.len(), 2, "{chunked:?}");
    assert_eq!(chunked.lines, 3);
    assert_eq!(chunked, read_whole(text, NO_HEADER));
}

#[test]
fn every_chunk_size_reads_what_the_whole_file_holds() {
    let texts: [&[u8]; 7] = [
        b"s,i,d,m,b,t\n\"x\ny\",1,,,,\n\n\"q\"\"\nz\",2,,,,\r\nbad,row\n\"a,b\",3,,,,",
        b"s,i,d,m,b,t\r\n\r\nA,1,,,,\r\n\"B\r\nC\",x,,,,\r\n\r\nD,4,,,,\r\n",
        b"s,i,d,m,b,t\n1,\"oops,,,,\n2,2,,,,\n3,3,,,,\n",
        b"s,i,d,m,b,t\nA,1,,,,\n\"never closed\n,,,,,\n\n",
        b"s,i,d,m,b,t\nx,\"a\"b\"\n\"\",1,,,,\n\"\"\"\",2,,,,\n",
        b"\xEF\xBB\xBFs,i,d,m,b,t\na,1,,,,\n\"\n\"\n",
        b"s,i,d,m,b,t\n",
    ];
    for text in texts {
        same_rows_for_chunk_sizes(text, CSV, "csv", &every_chunk_size(text));
    }
    let headless = b"\"a\nb\",1,,,,\n\"c\",,,,,\r\n\"unclosed\nd,4,,,,\n";
    same_rows_for_chunk_sizes(headless, NO_HEADER, "csv", &every_chunk_size(headless));
}

#[test]
fn over_long_records_cut_the_same_at_every_chunk_size() {
    let long = "y".repeat(40);
    let text = format!(
        "{HEADER}a,1,,,,\n{long},2,,,,\n\"{long}\n{long}\",3,,,,\nb,\"{long}\nc,4,,,,\nd,5,,,,\n"
    );
    let limited = Options {
        max_record_bytes: Some(32),
        ..CSV
    };
    let text = text.as_bytes();
    same_rows_for_chunk_sizes(text, limited, "csv", &every_chunk_size(text));
    let whole = read_whole(text, limited);
    let rows: Vec<&str> = whole.rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[2].contains("Int(5)"), "{rows:?}");
    let lines: Vec<Option<u64>> = whole.malformed.iter().map(|m| m.1).collect();
    // Line 3 is too long; the quoted field of lines 4-5 makes a record too
    // long, resumed after line 4 (its quote's line), so line 5 is read alone
    // (too long as well); line 6's quote does not close within the limit.
    assert_eq!(lines, vec![Some(3), Some(4), Some(5), Some(6)], "{whole:?}");
    assert!(whole.malformed[0]
        .2
        .starts_with("record longer than 32 bytes"));
}

#[test]
fn json_lines_split_at_line_starts_stay_exact() {
    let text = b"{\"s\":\"a\\nb\",\"i\":1}\n\n{\"s\":\"\\\"\",\"i\":2}\r\nnot json\n{\"i\":3}";
    same_rows_for_chunk_sizes(text, CSV, "jsonl", &every_chunk_size(text));
}

#[test]
fn one_stray_quote_in_a_big_file_costs_one_record() {
    let mut text = HEADER.to_string();
    for i in 0..200_000 {
        let symbol = if i == 10 { "\"STRAY" } else { "SYM" };
        text.push_str(&format!("{symbol},{i},,,,\n"));
    }
    let (_file, table) = csv_table(text.as_bytes(), CSV);
    let whole = read_whole(text.as_bytes(), CSV);
    assert_eq!(whole.rows.len(), 199_999);
    assert_eq!(whole.malformed.len(), 1);
    assert_eq!(whole.malformed[0].1, Some(12));
    assert_eq!(whole.malformed[0].3, "\"STRAY,10,,,,");
    for chunk_bytes in [1 << 20, 100_003] {
        assert!(read_chunked(&table, chunk_bytes) == whole, "{chunk_bytes}");
    }
}

#[test]
fn an_endless_line_is_read_in_bounded_steps() {
    let (_file, table) = csv_table(&vec![b'x'; 5 << 20], NO_HEADER);
    let mut source = open_source(&table).unwrap();
    let mut batch = corestream::data::Batch::new(6);
    let mut bad = Vec::new();
    let mut calls = 0;
    while source.fill(&mut batch, &mut bad, 1000).unwrap() {
        calls += 1;
    }
    // Each call discards at most one buffer (2 MiB) of the line.
    assert!(calls >= 2, "{calls} calls");
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].raw.len(), 4096);
    assert_eq!(
        bad[0].reason,
        "record longer than 1048576 bytes (truncated copy)"
    );
}

proptest::proptest! {
    #[test]
    fn any_chunk_size_reads_what_the_whole_file_holds(
        body in proptest::collection::vec(
            proptest::sample::select(b"a1,\"\n\r ".to_vec()),
            0..48,
        ),
        limited in proptest::bool::ANY,
        header in proptest::bool::ANY,
    ) {
        let options = Options {
            header,
            max_record_bytes: limited.then_some(12),
            ..CSV
        };
        let mut text = if header { HEADER.as_bytes().to_vec() } else { Vec::new() };
        text.extend_from_slice(&body);
        same_rows_for_chunk_sizes(&text, options, "csv", &every_chunk_size(&text));
    }
}

/// Runs every file under `tests/data/fuzz/<target>/` through `check`;
/// returns how many there were.
fn run_saved_inputs(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
        count += 1;
    }
    count
}

#[test]
fn saved_fuzz_inputs_pass_their_targets() {
    assert!(run_saved_inputs("csv", checks::csv) > 0);
    assert!(run_saved_inputs("jsonl", checks::jsonl) > 0);
    assert!(run_saved_inputs("split", checks::split) > 0);
    assert!(run_saved_inputs("sql", checks::sql) > 0);
}
