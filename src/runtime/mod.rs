//! Runtime: drives partition engines (implementation in progress).
