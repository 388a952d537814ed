//! Shared-lock baseline (in progress).
