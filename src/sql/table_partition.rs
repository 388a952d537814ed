//! Flink's `TABLE t PARTITION BY k` argument of the SESSION window table
//! function: `SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), gap)` (also
//! `PARTITION BY (k1, k2)`). sqlparser does not read it, so the partition
//! columns move to a last argument it does read, `PARTITION_BY(k)`:
//! `SESSION(t, DESCRIPTOR(ts), gap, PARTITION_BY(k))`. The planner takes it
//! from there.

use super::streaming::matching_paren;
use super::tokens::{is_word, next_significant, previous_significant};
use crate::error::Result;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// The name of the argument the partition columns move to.
pub const PARTITION_ARGUMENT: &str = "PARTITION_BY";

/// Moves every `t PARTITION BY ..` inside a window table function's call to
/// a `PARTITION_BY(..)` last argument. Runs after `TABLE` before `t` is
/// dropped.
pub(super) fn move_table_partitions(mut tokens: Vec<TokenWithSpan>) -> Result<Vec<TokenWithSpan>> {
    let mut i = 0;
    while i < tokens.len() {
        match table_partition_at(&tokens, i) {
            Some(open) => tokens = moved(tokens, open, i)?,
            None => i += 1,
        }
    }
    Ok(tokens)
}

/// When `PARTITION BY` at `at` follows the table argument of a call (`f(t
/// PARTITION BY ..`), the index of the call's `(`.
fn table_partition_at(tokens: &[TokenWithSpan], at: usize) -> Option<usize> {
    if !is_word(tokens.get(at), "PARTITION")
        || !is_word(tokens.get(next_significant(tokens, at + 1)), "BY")
    {
        return None;
    }
    let table = previous_significant(tokens, at)?;
    let open = previous_significant(tokens, table)?;
    let function = previous_significant(tokens, open)?;
    let is_table = matches!(tokens[table].token, Token::Word(_));
    let is_call = matches!(tokens[open].token, Token::LParen)
        && matches!(tokens[function].token, Token::Word(_));
    (is_table && is_call).then_some(open)
}

/// `tokens` with the `PARTITION BY ..` at `partition` (inside the call
/// opened at `open`) moved to the call's last argument.
fn moved(tokens: Vec<TokenWithSpan>, open: usize, partition: usize) -> Result<Vec<TokenWithSpan>> {
    let close = matching_paren(&tokens, open)?;
    let first = next_significant(&tokens, next_significant(&tokens, partition + 1) + 1);
    let (columns, end) = match tokens.get(first).map(|t| &t.token) {
        Some(Token::LParen) => {
            let last = matching_paren(&tokens, first)?;
            (first + 1..last, last + 1)
        }
        _ => {
            let end = (first..close)
                .find(|&i| matches!(tokens[i].token, Token::Comma))
                .unwrap_or(close);
            (first..end, end)
        }
    };
    let at = tokens[partition].span;
    let token = |t: Token| TokenWithSpan::new(t, at);
    let mut out = Vec::with_capacity(tokens.len() + 4);
    out.extend_from_slice(&tokens[..partition]);
    out.extend_from_slice(&tokens[end..close]);
    out.push(token(Token::Comma));
    out.push(token(Token::make_word(PARTITION_ARGUMENT, None)));
    out.push(token(Token::LParen));
    out.extend_from_slice(&tokens[columns]);
    out.push(token(Token::RParen));
    out.extend_from_slice(&tokens[close..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::tokens::tokenize;

    /// `sql` rewritten, with whitespace left out (as `expected`'s is).
    fn rewritten(sql: &str) -> String {
        let tokens = move_table_partitions(tokenize(sql).expect("tokenizes")).expect("moves");
        let text: String = tokens.iter().map(|t| t.token.to_string()).collect();
        text.split_whitespace().collect()
    }

    fn compact(sql: &str) -> String {
        sql.split_whitespace().collect()
    }

    #[test]
    fn the_partition_columns_become_the_last_argument() {
        assert_eq!(
            rewritten("SESSION(t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' MINUTE)"),
            compact("SESSION(t, DESCRIPTOR(ts), INTERVAL '5' MINUTE, PARTITION_BY(k))")
        );
        assert_eq!(
            rewritten("SESSION(t PARTITION BY (a, b), DESCRIPTOR(ts), g)"),
            compact("SESSION(t, DESCRIPTOR(ts), g, PARTITION_BY(a, b))")
        );
    }

    #[test]
    fn over_clauses_are_left_alone() {
        let sql = "ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts)";
        assert_eq!(rewritten(sql), compact(sql));
    }
}
