//! Source DDL: `CREATE TABLE|STREAM|SOURCE name (col TYPE, ..) WITH (..)`,
//! with Flink's `WATERMARK FOR ..` (see [`super::watermark`]), metadata
//! columns (`col TYPE METADATA FROM 'key'`, see [`super::metadata`]) and
//! `PRIMARY KEY (..) NOT ENFORCED` (accepted, not enforced).
//! sqlparser parses the column list; this maps its types onto corestream's
//! [`DataType`] and collects the `WITH` properties.

use super::ast::{ColumnDef, CreateSource};
use super::ksql::ksql_properties;
use super::metadata::{check_declared_once, take_metadata, MetadataColumn};
use super::streaming::parse_properties;
use super::tokens::{
    from_parser_error, is_word, location_of, next_significant, parser_for, sql_error,
    to_sql_location,
};
use super::watermark::take_watermark;
use crate::data::DataType;
use crate::error::{Error, Result, SqlLocation};
use sqlparser::ast::{
    ColumnDef as SqlColumnDef, ColumnOption, DataType as SqlDataType, ExactNumberInfo,
    TableConstraint,
};
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// Largest decimal precision a scaled i64 holds exactly.
const MAX_DECIMAL_PRECISION: u64 = 18;

/// Parses source DDL. `body` is the index of the token after
/// `CREATE TABLE|STREAM|SOURCE`; `location` is that of `CREATE`.
pub(super) fn parse_create_source(
    tokens: &[TokenWithSpan],
    body: usize,
    location: SqlLocation,
) -> Result<CreateSource> {
    let (tokens, watermark) = take_watermark(tokens, body)?;
    let (tokens, metadata) = take_metadata(&tokens, body)?;
    let tokens = tokens.as_slice();
    let mut parser = parser_for(tokens[body..].to_vec());
    let name = parser
        .parse_identifier()
        .map_err(|e| from_parser_error(e, location))?;
    let (sql_columns, constraints) = parser
        .parse_columns()
        .map_err(|e| from_parser_error(e, location))?;
    if constraints.iter().any(|c| !is_primary_key(c)) {
        return Err(sql_error(
            format!(
                "table constraints other than PRIMARY KEY (..) NOT ENFORCED are not supported \
                 in CREATE of {name}"
            ),
            location,
        ));
    }
    let columns = sql_columns
        .iter()
        .map(column_def)
        .collect::<Result<Vec<_>>>()?;
    let rest = body + parser.index();
    let (properties, end) = properties_after_columns(tokens, rest)?;
    let mut properties = ksql_properties(properties, true)?;
    let (format, end) = format_encode(tokens, end)?;
    if !properties.iter().any(|(key, _)| key == "format") {
        properties.extend(format);
    }
    check_watermark_column(&watermark, &columns, location)?;
    check_declared_once(&metadata, &properties)?;
    properties.extend(watermark);
    properties.extend(metadata.iter().map(MetadataColumn::property));
    expect_end(tokens, end)?;
    Ok(CreateSource {
        name: name.value,
        columns,
        properties,
        location,
    })
}

/// The optional `WITH (..)` at `at` (whitespace allowed before it).
fn properties_after_columns(
    tokens: &[TokenWithSpan],
    at: usize,
) -> Result<(Vec<(String, String)>, usize)> {
    let with = next_significant(tokens, at);
    if is_word(tokens.get(with), "WITH") {
        parse_properties(tokens, with)
    } else {
        Ok((Vec::new(), with))
    }
}

/// RisingWave's `FORMAT PLAIN ENCODE JSON | CSV` after WITH: the
/// `format` key (a WITH `format` wins).
fn format_encode(tokens: &[TokenWithSpan], at: usize) -> Result<(Option<(String, String)>, usize)> {
    let format = next_significant(tokens, at);
    if !is_word(tokens.get(format), "FORMAT") {
        return Ok((None, at));
    }
    let location = location_of(&tokens[format]);
    let word = |i: usize| match tokens.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) => w.value.to_ascii_uppercase(),
        _ => String::new(),
    };
    let kind = next_significant(tokens, format + 1);
    let encode = next_significant(tokens, kind + 1);
    let encoding = next_significant(tokens, encode + 1);
    let value = match (
        word(kind).as_str(),
        word(encode).as_str(),
        word(encoding).as_str(),
    ) {
        ("PLAIN", "ENCODE", "JSON") => "json",
        ("PLAIN", "ENCODE", "CSV") => "csv",
        _ => {
            return Err(sql_error(
                "of RisingWave's FORMAT .. ENCODE .., FORMAT PLAIN ENCODE JSON and \
                 FORMAT PLAIN ENCODE CSV are supported (options go in WITH)",
                location,
            ))
        }
    };
    Ok((
        Some(("format".to_string(), value.to_string())),
        encoding + 1,
    ))
}

fn expect_end(tokens: &[TokenWithSpan], at: usize) -> Result<()> {
    let end = next_significant(tokens, at);
    match tokens.get(end) {
        None => Ok(()),
        Some(t) if t.token == Token::EOF => Ok(()),
        Some(t) => Err(sql_error(
            format!("expected WITH (..) or end of statement, found {}", t.token),
            location_of(t),
        )),
    }
}

/// The column of `WATERMARK FOR <column>` must be a declared one.
fn check_watermark_column(
    watermark: &[(String, String)],
    columns: &[ColumnDef],
    location: SqlLocation,
) -> Result<()> {
    for (key, column) in watermark {
        let declared = columns.iter().any(|c| c.name.eq_ignore_ascii_case(column));
        if key == "timestamp" && !declared {
            return Err(sql_error(
                format!("WATERMARK FOR {column}: {column} is not a declared column"),
                location,
            ));
        }
    }
    Ok(())
}

/// `PRIMARY KEY (..)`: accepted and not enforced (a stream may repeat keys).
fn is_primary_key(constraint: &TableConstraint) -> bool {
    matches!(constraint, TableConstraint::PrimaryKey(_))
}

fn column_def(column: &SqlColumnDef) -> Result<ColumnDef> {
    let location = to_sql_location(column.name.span.start);
    let name = column.name.value.clone();
    for option in &column.options {
        if !matches!(option.option, ColumnOption::Null | ColumnOption::NotNull) {
            return Err(sql_error(
                format!("column {name}: option {} is not supported", option.option),
                location,
            ));
        }
    }
    let data_type = map_type(&column.data_type, &name, location)?;
    Ok(ColumnDef {
        name,
        data_type,
        location,
    })
}

/// corestream's type for a declared SQL type.
fn map_type(sql: &SqlDataType, column: &str, location: SqlLocation) -> Result<DataType> {
    use SqlDataType as T;
    let data_type = match sql {
        T::Boolean | T::Bool => DataType::Boolean,
        T::BigInt(_)
        | T::Int(_)
        | T::Integer(_)
        | T::SmallInt(_)
        | T::TinyInt(_)
        | T::Int2(_)
        | T::Int4(_)
        | T::Int8(_)
        | T::Int16
        | T::Int32
        | T::Int64 => DataType::BigInt,
        T::Double(_)
        | T::DoublePrecision
        | T::Float(_)
        | T::Real
        | T::Float4
        | T::Float8
        | T::Float32
        | T::Float64 => DataType::Double,
        T::Decimal(info) | T::Numeric(info) | T::Dec(info) => decimal(info, column, location)?,
        T::Varchar(_)
        | T::CharacterVarying(_)
        | T::CharVarying(_)
        | T::Char(_)
        | T::Character(_)
        | T::String(_)
        | T::Text => DataType::Varchar,
        T::Timestamp(_, _) | T::TimestampNtz(_) | T::Datetime(_) => DataType::Timestamp,
        T::Custom(name, _) if is_timestamp_alias(&name.to_string()) => DataType::Timestamp,
        T::Date => DataType::Date,
        other => return Err(unsupported_type(other, column, location)),
    };
    Ok(data_type)
}

fn is_timestamp_alias(name: &str) -> bool {
    ["TIMESTAMP_LTZ", "TIMESTAMP_TZ", "TIMESTAMPTZ"]
        .iter()
        .any(|alias| name.eq_ignore_ascii_case(alias))
}

fn decimal(info: &ExactNumberInfo, column: &str, location: SqlLocation) -> Result<DataType> {
    let (precision, scale) = match *info {
        ExactNumberInfo::None => (MAX_DECIMAL_PRECISION, 0),
        ExactNumberInfo::Precision(p) => (p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (p, s),
    };
    let valid =
        (1..=MAX_DECIMAL_PRECISION).contains(&precision) && scale >= 0 && scale as u64 <= precision;
    if !valid {
        return Err(sql_error(
            format!(
                "column {column}: DECIMAL({precision},{scale}) is not supported \
                 (precision 1 to {MAX_DECIMAL_PRECISION}, scale 0 to precision)"
            ),
            location,
        ));
    }
    Ok(DataType::Decimal {
        precision: precision as u8,
        scale: scale as u8,
    })
}

fn unsupported_type(sql: &SqlDataType, column: &str, location: SqlLocation) -> Error {
    sql_error(
        format!(
            "column {column}: type {sql} is not supported \
             (use BOOLEAN, BIGINT, DOUBLE, DECIMAL(p,s), VARCHAR, TIMESTAMP or DATE)"
        ),
        location,
    )
}
