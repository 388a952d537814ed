//! Velostream's row-count window, `OVER (ROWS WINDOW BUFFER n ROWS
//! PARTITION BY k ORDER BY ts)`: the last `n` rows of the partition, the
//! current one included. sqlparser does not read it, so it becomes the
//! standard frame `ROWS BETWEEN n-1 PRECEDING AND CURRENT ROW` at the end of
//! the OVER clause. Where the clause has a frame of its own, that frame wins
//! and the buffer (a memory bound in Velostream) is dropped.

use super::streaming::matching_paren;
use super::tokens::{is_word, location_of, next_significant, previous_significant, sql_error};
use crate::error::Result;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// Rewrites every `ROWS WINDOW BUFFER n ROWS` that opens an OVER clause.
pub(super) fn rewrite_rows_buffers(mut tokens: Vec<TokenWithSpan>) -> Result<Vec<TokenWithSpan>> {
    let mut i = 0;
    while i < tokens.len() {
        if buffer_at(&tokens, i) {
            tokens = rewritten(tokens, i)?;
        }
        i += 1;
    }
    Ok(tokens)
}

/// `ROWS WINDOW BUFFER` at `at`.
fn buffer_at(tokens: &[TokenWithSpan], at: usize) -> bool {
    let window = next_significant(tokens, at + 1);
    let buffer = next_significant(tokens, window + 1);
    is_word(tokens.get(at), "ROWS")
        && is_word(tokens.get(window), "WINDOW")
        && is_word(tokens.get(buffer), "BUFFER")
}

/// `tokens` with the buffer at `rows` replaced by a frame.
fn rewritten(tokens: Vec<TokenWithSpan>, rows: usize) -> Result<Vec<TokenWithSpan>> {
    let location = location_of(&tokens[rows]);
    let expected = || {
        sql_error(
            "expected ROWS WINDOW BUFFER <n> ROWS, with n a whole number of at least 1, \
             opening an OVER clause",
            location,
        )
    };
    let buffer = next_significant(&tokens, next_significant(&tokens, rows + 1) + 1);
    let count_at = next_significant(&tokens, buffer + 1);
    let count = match tokens.get(count_at).map(|t| &t.token) {
        Some(Token::Number(n, _)) => n.parse::<u64>().ok().filter(|&n| n >= 1),
        _ => None,
    }
    .ok_or_else(expected)?;
    let last = next_significant(&tokens, count_at + 1);
    if !is_word(tokens.get(last), "ROWS") {
        return Err(expected());
    }
    let open = previous_significant(&tokens, rows)
        .filter(|&open| matches!(tokens[open].token, Token::LParen))
        .ok_or_else(expected)?;
    let close = matching_paren(&tokens, open)?;
    let has_frame = (last + 1..close).any(|i| {
        let top_level = depth(&tokens[open + 1..i]) == 0;
        top_level && (is_word(tokens.get(i), "ROWS") || is_word(tokens.get(i), "RANGE"))
    });
    let at = tokens[rows].span;
    let word = |w: &str| TokenWithSpan::new(Token::make_word(w, None), at);
    let mut out = Vec::with_capacity(tokens.len() + 8);
    out.extend_from_slice(&tokens[..rows]);
    out.extend_from_slice(&tokens[last + 1..close]);
    if !has_frame {
        out.push(word("ROWS"));
        out.push(word("BETWEEN"));
        out.push(TokenWithSpan::new(
            Token::Number((count - 1).to_string(), false),
            at,
        ));
        out.push(word("PRECEDING"));
        out.push(word("AND"));
        out.push(word("CURRENT"));
        out.push(word("ROW"));
    }
    out.extend_from_slice(&tokens[close..]);
    Ok(out)
}

/// How many parentheses `tokens` leaves open.
fn depth(tokens: &[TokenWithSpan]) -> i64 {
    tokens.iter().fold(0, |depth, t| match t.token {
        Token::LParen => depth + 1,
        Token::RParen => depth - 1,
        _ => depth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::tokens::tokenize;

    fn rewritten(sql: &str) -> String {
        let tokens = rewrite_rows_buffers(tokenize(sql).expect("tokenizes")).expect("rewrites");
        let text: Vec<String> = tokens.iter().map(|t| t.token.to_string()).collect();
        text.join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_buffer_becomes_a_rows_frame_ending_at_the_current_row() {
        assert_eq!(
            rewritten("AVG(p) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY s ORDER BY ts)"),
            "AVG ( p ) OVER ( PARTITION BY s ORDER BY ts ROWS BETWEEN 99 PRECEDING AND CURRENT ROW )"
        );
    }

    #[test]
    fn a_frame_of_its_own_wins_over_the_buffer() {
        assert_eq!(
            rewritten(
                "SUM(p) OVER (ROWS WINDOW BUFFER 10 ROWS ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)"
            ),
            "SUM ( p ) OVER ( ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW )"
        );
    }

    #[test]
    fn a_buffer_of_no_rows_is_an_error_at_its_place() {
        let tokens = tokenize("SELECT AVG(p) OVER (ROWS WINDOW BUFFER 0 ROWS ORDER BY ts) FROM t")
            .expect("tokenizes");
        let error = rewrite_rows_buffers(tokens)
            .expect_err("refused")
            .to_string();
        assert!(error.contains("ROWS WINDOW BUFFER"), "{error}");
        assert!(error.contains("column 21"), "{error}");
    }
}
