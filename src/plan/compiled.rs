//! Functions whose constant argument is compiled once, at plan time: the
//! regular expression of REGEXP_LIKE, REGEXP_EXTRACT and REGEXP_REPLACE, and
//! the path of JSON_VALUE and `->>`.

use regex::Regex;
use std::fmt;

/// A call with its compiled constant argument; the other arguments are the
/// expression's `args` (see each variant).
#[derive(Debug, Clone, PartialEq)]
pub enum CompiledFunction {
    /// `REGEXP_LIKE(s, pattern [, flags])`: TRUE when the pattern matches
    /// somewhere in `s`. `args = [s]`.
    RegexpLike(Pattern),
    /// `REGEXP_EXTRACT(s, pattern [, group])`: the text of capture group
    /// `group` (0, the whole match, by default) of the first match; '' when
    /// there is none. `args = [s]` or `[s, group]`.
    RegexpExtract(Pattern),
    /// `REGEXP_REPLACE(s, pattern, replacement [, flags])`: the first match
    /// (every match with flag `g`) replaced; `\1` in `replacement` is group 1.
    /// `args = [s, replacement]`.
    RegexpReplace { pattern: Pattern, all: bool },
    /// `JSON_VALUE(s, '$.a.b')`: the scalar at the path as text; NULL when
    /// `s` is not JSON, the path is absent, or holds null, an object or an
    /// array. `args = [s]`.
    JsonValue(JsonPath),
    /// `s ->> 'a'`: as JSON_VALUE, but an object or array is its JSON text.
    /// `args = [s]`.
    JsonText(JsonPath),
}

impl CompiledFunction {
    /// The function's SQL name.
    pub fn name(&self) -> &'static str {
        match self {
            CompiledFunction::RegexpLike(_) => "REGEXP_LIKE",
            CompiledFunction::RegexpExtract(_) => "REGEXP_EXTRACT",
            CompiledFunction::RegexpReplace { .. } => "REGEXP_REPLACE",
            CompiledFunction::JsonValue(_) => "JSON_VALUE",
            CompiledFunction::JsonText(_) => "->>",
        }
    }
}

/// A regular expression (the `regex` crate's syntax, close to RE2's).
#[derive(Debug, Clone)]
pub struct Pattern(pub Regex);

impl Pattern {
    /// Compiles `pattern`; `case_insensitive` for flag `i` (written into
    /// the pattern as `(?i)`).
    pub fn compile(pattern: &str, case_insensitive: bool) -> Result<Pattern, String> {
        let text = match case_insensitive {
            true => format!("(?i){pattern}"),
            false => pattern.to_string(),
        };
        Regex::new(&text).map(Pattern).map_err(|e| e.to_string())
    }

    /// The number of capture groups, the whole match not counted.
    pub fn groups(&self) -> usize {
        self.0.captures_len() - 1
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonStep {
    Key(String),
    Index(usize),
}

/// A JSON path: `$`, `$.a.b`, `$.items[0].price`, `$["a key"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    pub steps: Vec<JsonStep>,
    text: String,
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonPath {
    /// The operand of `->>`: a path when it starts with `$`, else one key.
    pub fn key_or_path(text: &str) -> Result<JsonPath, String> {
        if text.starts_with('$') {
            return JsonPath::parse(text);
        }
        Ok(JsonPath {
            steps: vec![JsonStep::Key(text.to_string())],
            text: text.to_string(),
        })
    }

    /// One array index (`->> 0`).
    pub fn index(i: usize) -> JsonPath {
        JsonPath {
            steps: vec![JsonStep::Index(i)],
            text: format!("$[{i}]"),
        }
    }

    /// Parses `$` followed by `.key`, `."quoted key"`, `[n]` or `["key"]` steps.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let rest = text
            .strip_prefix('$')
            .ok_or_else(|| format!("JSON path '{text}' must start with '$'"))?;
        let mut steps = Vec::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            let step = match c {
                '.' if chars.peek() == Some(&'"') => {
                    chars.next();
                    JsonStep::Key(quoted_key(&mut chars, text)?)
                }
                '.' => JsonStep::Key(bare_key(&mut chars, text)?),
                '[' => bracket_step(&mut chars, text)?,
                other => {
                    return Err(format!(
                        "JSON path '{text}': expected '.' or '[', got '{other}'"
                    ))
                }
            };
            steps.push(step);
        }
        Ok(JsonPath {
            steps,
            text: text.to_string(),
        })
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// A key after `.`, up to the next `.` or `[`.
fn bare_key(chars: &mut Chars<'_>, text: &str) -> Result<String, String> {
    let mut key = String::new();
    while let Some(&c) = chars.peek() {
        if c == '.' || c == '[' {
            break;
        }
        key.push(c);
        chars.next();
    }
    if key.is_empty() {
        return Err(format!("JSON path '{text}' has an empty key"));
    }
    Ok(key)
}

/// A key in double quotes, the opening quote consumed (`\"` is a quote).
fn quoted_key(chars: &mut Chars<'_>, text: &str) -> Result<String, String> {
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(key),
            '\\' => key.extend(chars.next()),
            c => key.push(c),
        }
    }
    Err(format!("JSON path '{text}' has an unterminated quoted key"))
}

/// `[n]` or `["key"]`, the `[` consumed.
fn bracket_step(chars: &mut Chars<'_>, text: &str) -> Result<JsonStep, String> {
    let step = if chars.peek() == Some(&'"') {
        chars.next();
        JsonStep::Key(quoted_key(chars, text)?)
    } else {
        let mut digits = String::new();
        while let Some(c) = chars.next_if(char::is_ascii_digit) {
            digits.push(c);
        }
        let index = digits.parse().map_err(|_| {
            format!("JSON path '{text}': expected an index or a quoted key in [..]")
        })?;
        JsonStep::Index(index)
    };
    match chars.next() {
        Some(']') => Ok(step),
        _ => Err(format!("JSON path '{text}': expected ']'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> JsonStep {
        JsonStep::Key(k.to_string())
    }

    #[test]
    fn json_paths_parse_keys_indexes_and_quoted_keys() {
        let steps = |text: &str| JsonPath::parse(text).map(|p| p.steps);
        assert_eq!(steps("$"), Ok(vec![]));
        assert_eq!(steps("$.a.b"), Ok(vec![key("a"), key("b")]));
        assert_eq!(
            steps("$.items[12].price"),
            Ok(vec![key("items"), JsonStep::Index(12), key("price")])
        );
        assert_eq!(steps(r#"$["a b"]."c.d""#), Ok(vec![key("a b"), key("c.d")]));
        assert!(steps("a.b").unwrap_err().contains("must start with '$'"));
        assert!(steps("$.").unwrap_err().contains("empty key"));
        assert!(steps("$[x]").unwrap_err().contains("expected an index"));
        assert!(steps("$[1").unwrap_err().contains("expected ']'"));
        assert!(steps("$a").unwrap_err().contains("expected '.' or '['"));
        assert!(steps(r#"$["a"#).unwrap_err().contains("unterminated"));
        let arrow = JsonPath::key_or_path("a.b").map(|p| p.steps);
        assert_eq!(arrow, Ok(vec![key("a.b")]));
    }

    #[test]
    fn patterns_compare_by_their_text_and_count_groups() {
        let p = Pattern::compile("(a)(b)?", false).unwrap();
        assert_eq!(p.groups(), 2);
        assert_eq!(p, Pattern::compile("(a)(b)?", false).unwrap());
        assert!(Pattern::compile("(", false).is_err());
        assert!(Pattern::compile("abc", true).unwrap().0.is_match("xABCx"));
    }
}
