//! Reading a whole table up front: the tables a query joins are read
//! completely before its stream starts. Only a regular file can be read
//! that way; a malformed record in it is an error naming its line, since
//! a row missing from a lookup table would silently change every result
//! that needed it.

use super::open::{plan_chunks, ChunkPlan};
use super::{Malformed, SourceState};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::plan::TableDef;
use std::io::Read;

/// Rows read per fill.
const ROWS_PER_FILL: usize = 4096;

/// Every row of `table`, which must be a regular file (CSV or JSON lines).
/// Row positions are byte offsets of the rows' lines (see [`line_at`]).
pub fn read_table(table: &TableDef) -> Result<Batch> {
    let plan = plan_chunks(table, u64::MAX, 1)?;
    if !matches!(plan, ChunkPlan::File { .. }) {
        return Err(Error::Usage(format!(
            "the joined table {} must be a file (CSV or JSON lines): it is read in full \
             before the stream starts, so standard input, followed files, generators and \
             Kafka cannot be joined as tables",
            table.name
        )));
    }
    let mut rows = Batch::new(table.schema.len());
    let mut state = SourceState::new();
    for index in 0..plan.len() {
        let mut source = plan.open(table, index, &mut state)?;
        let mut malformed = Vec::new();
        loop {
            let more = source.fill(&mut rows, &mut malformed, ROWS_PER_FILL)?;
            if let Some(bad) = malformed.first() {
                return Err(malformed_row(table, bad, plan.lines_before_data()));
            }
            if !more {
                break;
            }
        }
        source.save_state(&mut state);
    }
    Ok(rows)
}

fn malformed_row(table: &TableDef, bad: &Malformed, header_lines: u64) -> Error {
    let line = bad.line.or(bad.line_in_split.map(|l| l + header_lines));
    Error::Runtime(format!(
        "the joined table {} has a malformed row at {}: {}",
        table.name,
        place(table, line),
        bad.reason
    ))
}

/// `path line N` (or what of it is known).
pub fn place(table: &TableDef, line: Option<u64>) -> String {
    let path = table.property("path").unwrap_or("(no path)");
    match line {
        Some(line) => format!("{path} line {line}"),
        None => path.to_string(),
    }
}

/// The 1-based line of `table`'s file that starts at byte `offset` (a
/// row's position), by counting the line ends before it. `None` when the
/// file cannot be read again.
pub fn line_at(table: &TableDef, offset: u64) -> Option<u64> {
    let file = std::fs::File::open(table.property("path")?).ok()?;
    let mut before = Vec::new();
    file.take(offset).read_to_end(&mut before).ok()?;
    let ends = before.iter().filter(|&&b| b == b'\n').count() as u64;
    Some(ends + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataType, Field, Schema, Value};

    fn csv_table(dir: &std::path::Path, text: &str) -> TableDef {
        let path = dir.join("t.csv");
        std::fs::write(&path, text).expect("write");
        TableDef {
            name: "t".into(),
            schema: Schema::new(vec![
                Field::new("k", DataType::Varchar),
                Field::new("v", DataType::BigInt),
            ]),
            properties: vec![
                ("path".into(), path.display().to_string()),
                ("format".into(), "csv".into()),
            ],
        }
    }

    #[test]
    fn reads_every_row_and_finds_its_line() {
        let dir = tempfile::tempdir().expect("dir");
        let table = csv_table(dir.path(), "k,v\na,1\nb,2\n");
        let rows = read_table(&table).expect("reads");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.row(1), &[Value::str("b"), Value::Int(2)]);
        assert_eq!(line_at(&table, rows.position(1)), Some(3));
    }

    #[test]
    fn a_malformed_row_is_an_error_with_its_line() {
        let dir = tempfile::tempdir().expect("dir");
        let table = csv_table(dir.path(), "k,v\na,1\nb,two\n");
        let error = read_table(&table).expect_err("malformed");
        assert!(error.to_string().contains("t.csv line 3"), "{error}");
    }
}
