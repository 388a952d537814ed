//! CLI (implementation in progress).
