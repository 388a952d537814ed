//! The dead-letter file: one JSON object per line for every record that did
//! not make it into the results, so that none is silently lost.
//!
//! - malformed: `{"source":"trades","line":3,"position":34,"reason":"column 'price': 'abc' is not a DOUBLE","record":"B,abc,10,1000"}`
//!   (`line` is `null` when unknown; `record` is the raw text; a Kafka
//!   message has `"topic"`, `"partition"` and `"offset"` after `position`);
//! - late: `{"source":"trades","position":34,"reason":"late: every window of its event time 2026-01-01T00:00:05.000Z had already closed","record":{"symbol":"B",...}}`
//!   (`record` is the typed row, keyed by the source's column names); a
//!   row an interval join took too late says "late: the watermark had
//!   passed its event time .., and every row it could have joined".

use super::sink::{json_keys, write_json_object, write_json_string, OutputFile, RowBuffer};
use super::{Malformed, SINK_BUFFER_BYTES};
use crate::data::{format_timestamp, Schema, Value};
use crate::error::Result;
use std::path::Path;

/// What a late record came too late for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// Every window it belongs to had closed.
    Windows,
    /// An interval join had dropped every row it could have paired with.
    JoinedRows,
}

/// Writes dead letters as JSON lines, in whole lines: a write that fails
/// (a full disk) leaves the file at its last whole line, as the sink does.
pub struct DeadLetterWriter {
    out: OutputFile,
    lines: RowBuffer,
    line: Vec<u8>,
    scratch: String,
    written: u64,
}

impl DeadLetterWriter {
    /// Creates (truncates) the file at `path`; `-` is standard output.
    pub fn create(path: &Path) -> Result<Self> {
        Ok(DeadLetterWriter {
            out: OutputFile::open(Some(&path.display().to_string()))?,
            lines: RowBuffer::default(),
            line: Vec::with_capacity(256),
            scratch: String::new(),
            written: 0,
        })
    }

    /// Records a record that could not be read.
    pub fn write_malformed(&mut self, record: &Malformed) -> Result<()> {
        self.line.clear();
        self.begin(&record.source);
        self.line.extend_from_slice(b",\"line\":");
        match record.line {
            Some(line) => self.line.extend_from_slice(line.to_string().as_bytes()),
            None => self.line.extend_from_slice(b"null"),
        }
        self.field_number("position", record.position);
        if let Some(origin) = &record.origin {
            self.field_string("topic", &origin.topic);
            self.line
                .extend_from_slice(format!(",\"partition\":{}", origin.partition).as_bytes());
            self.line
                .extend_from_slice(format!(",\"offset\":{}", origin.offset).as_bytes());
        }
        self.field_string("reason", &record.reason);
        self.line.extend_from_slice(b",\"record\":");
        write_json_string(&mut self.line, &record.raw);
        self.end()
    }

    /// Records a row that arrived after every window it belongs to had
    /// closed; `columns` names `values` (the source's schema).
    pub fn write_late(
        &mut self,
        source: &str,
        position: u64,
        (event_time_ms, missed): (i64, Missed),
        columns: &Schema,
        values: &[Value],
    ) -> Result<()> {
        self.line.clear();
        self.begin(source);
        self.field_number("position", position);
        let time = format_timestamp(event_time_ms);
        let reason = match missed {
            Missed::Windows => {
                format!("late: every window of its event time {time} had already closed")
            }
            Missed::JoinedRows => format!(
                "late: the watermark had passed its event time {time}, and every row it could \
                 have joined"
            ),
        };
        self.field_string("reason", &reason);
        self.line.extend_from_slice(b",\"record\":");
        let keys = json_keys(columns);
        write_json_object(&mut self.line, &keys, values, &mut self.scratch);
        self.end()
    }

    /// Dead letters written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes what is buffered (waiting while a pipe is full).
    pub fn finish(&mut self) -> Result<()> {
        self.out.drain(&mut self.lines, &mut || false).1
    }

    fn begin(&mut self, source: &str) {
        self.line.extend_from_slice(b"{\"source\":");
        write_json_string(&mut self.line, source);
    }

    fn field_number(&mut self, key: &str, value: u64) {
        self.line
            .extend_from_slice(format!(",\"{key}\":{value}").as_bytes());
    }

    fn field_string(&mut self, key: &str, value: &str) {
        self.line
            .extend_from_slice(format!(",\"{key}\":").as_bytes());
        write_json_string(&mut self.line, value);
    }

    fn end(&mut self) -> Result<()> {
        self.line.extend_from_slice(b"}\n");
        let buffered = self.lines.bytes();
        buffered.extend_from_slice(&self.line);
        let full = buffered.len() >= SINK_BUFFER_BYTES;
        self.lines.end_row();
        self.written += 1;
        if full {
            self.finish()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataType, Field};

    #[test]
    fn malformed_and_late_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead.jsonl");
        let mut w = DeadLetterWriter::create(&path).unwrap();
        w.write_malformed(&Malformed {
            source: "trades".into(),
            line: Some(3),
            line_in_split: Some(3),
            position: 34,
            reason: "column 'price': 'abc' is not a DOUBLE".into(),
            raw: "B,\"abc\",10".into(),
            origin: None,
        })
        .unwrap();
        w.write_malformed(&Malformed {
            source: "t".into(),
            line: None,
            line_in_split: Some(1),
            position: 7,
            reason: "expected 2 fields, found 1".into(),
            raw: "x".into(),
            origin: Some(crate::io::RecordOrigin {
                topic: "in".into(),
                partition: 2,
                offset: 41,
            }),
        })
        .unwrap();
        let schema = Schema::new(vec![
            Field::new("symbol", DataType::Varchar),
            Field::new("ts", DataType::Timestamp),
        ]);
        w.write_late(
            "trades",
            99,
            (1_767_225_605_000, Missed::Windows),
            &schema,
            &[Value::str("A"), Value::Timestamp(1_767_225_605_000)],
        )
        .unwrap();
        w.finish().unwrap();
        assert_eq!(w.written(), 3);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"source":"trades","line":3,"position":34,"reason":"column 'price': 'abc' is not a DOUBLE","record":"B,\"abc\",10"}"#,
                "\n",
                r#"{"source":"t","line":null,"position":7,"topic":"in","partition":2,"offset":41,"reason":"expected 2 fields, found 1","record":"x"}"#,
                "\n",
                r#"{"source":"trades","position":99,"reason":"late: every window of its event time 2026-01-01T00:00:05.000Z had already closed","record":{"symbol":"A","ts":"2026-01-01T00:00:05.000Z"}}"#,
                "\n"
            )
        );
    }
}
