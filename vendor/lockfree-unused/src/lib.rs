//! An empty stand-in for the `lockfree` crate (0.5.1, RustSec: unsound and
//! unmaintained). glommio 0.9.0 lists `lockfree = "0.5"` in its manifest but
//! no line of its source uses it (its last use was removed upstream before
//! 0.9.0), so corestream's `[patch.crates-io]` replaces it with this crate and
//! the unsound code is never compiled. Should a future glommio start using
//! `lockfree`, the build fails here, loudly, instead of linking it silently.
