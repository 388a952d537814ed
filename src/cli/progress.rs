//! The progress display on standard error (`indicatif`): a bar of bytes read
//! for file runs, of events for generator runs, and a live rate line for
//! inputs with no end (standard input, a followed file). It only draws what
//! the run's [`LiveSnapshot`]s say, and only once a run has gone on for a
//! while, so short runs print nothing but their summary.

use std::borrow::Cow;
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runtime::LiveSnapshot;

/// A run shorter than this shows no progress at all.
pub(crate) const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The records/s figure is measured over windows at least this long.
const RATE_WINDOW: Duration = Duration::from_secs(1);

const BYTES_TEMPLATE: &str =
    "{bar:30.cyan/blue} {bytes}/{total_bytes} ({percent}%, eta {eta}) {msg}";
const EVENTS_TEMPLATE: &str = "{bar:30.cyan/blue} {human_pos}/{human_len} events {msg}";
const RATE_TEMPLATE: &str = "{spinner} {human_pos} records read, {msg}";

/// What the display shows, decided by the input the run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressKind {
    /// Files: bytes read of the total.
    Bytes { total: u64 },
    /// A bounded generator: events of the total.
    Events { total: u64 },
    /// No end to measure against: records read and the current rate.
    Rate,
}

impl ProgressKind {
    pub(crate) fn of(snapshot: &LiveSnapshot) -> Self {
        match (
            snapshot.unbounded,
            snapshot.bytes_total,
            snapshot.events_total,
        ) {
            (false, Some(total), _) => ProgressKind::Bytes { total },
            (false, None, Some(total)) => ProgressKind::Events { total },
            _ => ProgressKind::Rate,
        }
    }

    fn template(self) -> &'static str {
        match self {
            ProgressKind::Bytes { .. } => BYTES_TEMPLATE,
            ProgressKind::Events { .. } => EVENTS_TEMPLATE,
            ProgressKind::Rate => RATE_TEMPLATE,
        }
    }

    fn length(self) -> Option<u64> {
        match self {
            ProgressKind::Bytes { total } | ProgressKind::Events { total } => Some(total),
            ProgressKind::Rate => None,
        }
    }

    fn position(self, snapshot: &LiveSnapshot) -> u64 {
        match self {
            ProgressKind::Bytes { .. } => snapshot.bytes_read,
            ProgressKind::Events { .. } | ProgressKind::Rate => snapshot.records_read,
        }
    }
}

/// Records per second over the last window of at least [`RATE_WINDOW`]
/// (over the whole run until the first window closes).
#[derive(Debug, Default)]
struct RateMeter {
    window_start: (Duration, u64),
    rate: Option<f64>,
}

impl RateMeter {
    fn observe(&mut self, elapsed: Duration, records: u64) -> f64 {
        let (start, start_records) = self.window_start;
        let span = elapsed.saturating_sub(start);
        let window_rate = per_second(records.saturating_sub(start_records), span);
        if span >= RATE_WINDOW {
            self.window_start = (elapsed, records);
            self.rate = Some(window_rate);
        }
        self.rate.unwrap_or(window_rate)
    }
}

fn per_second(count: u64, span: Duration) -> f64 {
    if span.is_zero() {
        0.0
    } else {
        count as f64 / span.as_secs_f64()
    }
}

/// The text after the bar: rate, rows out, late and malformed records.
pub(crate) fn progress_message(snapshot: &LiveSnapshot, records_per_second: f64) -> String {
    format!(
        "{} records/s, {} rows out, {} late, {} malformed",
        HumanCount(records_per_second.round() as u64),
        HumanCount(snapshot.rows_emitted),
        HumanCount(snapshot.records_late),
        HumanCount(snapshot.records_malformed),
    )
}

/// The progress display of one run.
pub(crate) struct ProgressView {
    /// Where the bar will draw; taken when the bar appears.
    target: Option<ProgressDrawTarget>,
    bar: Option<(ProgressKind, ProgressBar)>,
    rate: RateMeter,
}

impl ProgressView {
    /// A display on standard error.
    pub(crate) fn on_stderr() -> Self {
        Self::with_target(ProgressDrawTarget::stderr())
    }

    pub(crate) fn with_target(target: ProgressDrawTarget) -> Self {
        ProgressView {
            target: Some(target),
            bar: None,
            rate: RateMeter::default(),
        }
    }

    /// Shows `snapshot`, once the run has gone on for [`SHOW_AFTER`].
    pub(crate) fn update(&mut self, snapshot: &LiveSnapshot) {
        let records_per_second = self.rate.observe(snapshot.elapsed, snapshot.records_read);
        if snapshot.elapsed < SHOW_AFTER && self.bar.is_none() {
            return;
        }
        let Some((kind, bar)) = self.bar_for(snapshot) else {
            return;
        };
        bar.set_position(kind.position(snapshot));
        bar.set_message(Cow::Owned(progress_message(snapshot, records_per_second)));
    }

    /// Draws the current state now, past the draw rate limit.
    #[cfg(test)]
    pub(crate) fn draw_now(&self) {
        if let Some((_, bar)) = &self.bar {
            bar.force_draw();
        }
    }

    /// Removes the display, so that what follows on standard error (the
    /// summary) starts on a clean line.
    pub(crate) fn clear(&mut self) {
        if let Some((_, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// The bar, created on first use with the style `snapshot`'s input calls for.
    fn bar_for(&mut self, snapshot: &LiveSnapshot) -> Option<&(ProgressKind, ProgressBar)> {
        if self.bar.is_none() {
            let target = self.target.take()?;
            let kind = ProgressKind::of(snapshot);
            let style = ProgressStyle::with_template(kind.template())
                .expect("the progress templates are constants that parse");
            let bar = ProgressBar::with_draw_target(kind.length(), target).with_style(style);
            self.bar = Some((kind, bar));
        }
        self.bar.as_ref()
    }
}

impl Drop for ProgressView {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::watch::test_snapshot;
    use indicatif::InMemoryTerm;

    fn view_in_memory() -> (ProgressView, InMemoryTerm) {
        let term = InMemoryTerm::new(4, 160);
        let target = ProgressDrawTarget::term_like(Box::new(term.clone()));
        (ProgressView::with_target(target), term)
    }

    /// What the display shows after `snapshots`, and the display itself.
    fn shown_after(snapshots: &[LiveSnapshot]) -> (String, ProgressView, InMemoryTerm) {
        let (mut view, term) = view_in_memory();
        for snapshot in snapshots {
            view.update(snapshot);
        }
        view.draw_now();
        (term.contents(), view, term)
    }

    fn file_snapshot(elapsed_ms: u64, bytes_read: u64) -> LiveSnapshot {
        let mut s = test_snapshot(elapsed_ms, 20_000);
        s.bytes_read = bytes_read;
        s.bytes_total = Some(4 << 20);
        s.rows_emitted = 1_500;
        s.records_late = 7;
        s.records_malformed = 3;
        s
    }

    #[test]
    fn the_kind_follows_the_input() {
        let mut s = test_snapshot(0, 0);
        assert_eq!(ProgressKind::of(&s), ProgressKind::Rate);
        s.events_total = Some(10);
        assert_eq!(ProgressKind::of(&s), ProgressKind::Events { total: 10 });
        s.bytes_total = Some(99);
        assert_eq!(ProgressKind::of(&s), ProgressKind::Bytes { total: 99 });
        s.unbounded = true;
        assert_eq!(ProgressKind::of(&s), ProgressKind::Rate);
    }

    #[test]
    fn the_message_names_rate_rows_late_and_malformed() {
        let s = file_snapshot(2_000, 0);
        assert_eq!(
            progress_message(&s, 12_345.4),
            "12,345 records/s, 1,500 rows out, 7 late, 3 malformed"
        );
    }

    #[test]
    fn the_rate_is_measured_over_the_last_window() {
        let mut meter = RateMeter::default();
        assert_eq!(meter.observe(Duration::from_millis(500), 1_000), 2_000.0);
        assert_eq!(meter.observe(Duration::from_secs(1), 3_000), 3_000.0);
        // A window shorter than a second keeps the last full window's rate.
        assert_eq!(meter.observe(Duration::from_millis(1_500), 3_100), 3_000.0);
        assert_eq!(meter.observe(Duration::from_secs(2), 3_500), 500.0);
    }

    #[test]
    fn a_short_run_draws_nothing() {
        let (text, ..) = shown_after(&[file_snapshot(100, 1 << 20), file_snapshot(900, 2 << 20)]);
        assert_eq!(text.trim(), "");
    }

    #[test]
    fn a_file_run_shows_bytes_of_total_and_counters() {
        let (text, mut view, term) =
            shown_after(&[file_snapshot(1_000, 1 << 20), file_snapshot(2_000, 2 << 20)]);
        assert!(text.contains("2.00 MiB/4.00 MiB"), "{text}");
        assert!(text.contains("(50%"), "{text}");
        assert!(
            text.contains("1,500 rows out, 7 late, 3 malformed"),
            "{text}"
        );
        view.clear();
        assert_eq!(term.contents().trim(), "", "the bar is cleared");
    }

    #[test]
    fn a_generator_run_shows_events_of_total() {
        let mut s = test_snapshot(1_500, 250_000);
        s.events_total = Some(1_000_000);
        let (text, ..) = shown_after(&[s]);
        assert!(text.contains("250,000/1,000,000 events"), "{text}");
    }

    #[test]
    fn an_unbounded_run_shows_a_rate_line() {
        let mut s = test_snapshot(2_000, 4_000);
        s.unbounded = true;
        let (text, ..) = shown_after(&[s]);
        assert!(
            text.contains("4,000 records read, 2,000 records/s, 0 rows out"),
            "{text}"
        );
    }
}
