//! `kie spend`: credits spent per day and per model over the last days, with the total
//! (the app's `get_spend`, at this computer's UTC offset). Kie's own figures where it gave
//! them; estimates, marked, where it gave none.

use studio::progress::plain_line;
use studio::spend::{SpendAmount, SpendReport};
use studio::{App, StudioError};

use crate::exit;
use crate::open::{self, Need};
use crate::output::Out;

pub async fn run(app: &App, out: &Out, days: u32) -> Result<i32, StudioError> {
    open::library(app, Need::Library).await?;
    let report = app.get_spend(days, local_offset_minutes()).await?;
    out.print(&serde_json::to_value(&report).unwrap_or_default(), || human(&report));
    Ok(exit::OK)
}

/// This computer's offset from UTC now (`TZ`, else the system's zone), east positive.
/// chrono reads the zone files itself: no libc call that other threads could race.
fn local_offset_minutes() -> i64 {
    i64::from(chrono::Local::now().offset().local_minus_utc()) / 60
}

/// Marks a figure that includes estimates.
const EST: &str = "*";

fn human(r: &SpendReport) -> String {
    let n = r.days.len();
    let (first, last) = (r.days.first().map(|d| d.date.as_str()), r.days.last().map(|d| d.date.as_str()));
    let mut s = format!(
        "Spend over the last {n} day{}, {} to {} (UTC{}):\n",
        if n == 1 { "" } else { "s" },
        first.unwrap_or("?"),
        last.unwrap_or("?"),
        offset_label(r.utc_offset_minutes)
    );
    if r.total.tasks == 0 {
        s.push_str("Nothing spent.");
        return s;
    }
    s.push_str(&format!("\n{:<28} {:>12} {:>10} {:>6}\n", "Day", "Credits", "USD", "Tasks"));
    for d in r.days.iter().filter(|d| d.spend.tasks > 0) {
        s.push_str(&row(&d.date, &d.spend));
    }
    s.push_str(&format!("\n{:<28} {:>12} {:>10} {:>6}\n", "Model", "Credits", "USD", "Tasks"));
    for m in &r.models {
        // A library's rows are text from a file: printed as plain text.
        s.push_str(&row(&plain_line(&m.model), &m.spend));
    }
    s.push('\n');
    s.push_str(&row("Total", &r.total));
    let t = &r.total;
    if t.estimated_tasks > 0 {
        s.push_str(&format!(
            "\n{EST} includes {} credits estimated for {} task{} Kie gave no figure for",
            credits(t.estimated_credits),
            t.estimated_tasks,
            if t.estimated_tasks == 1 { "" } else { "s" }
        ));
        let mut notes = Vec::new();
        if t.pending_tasks > 0 {
            notes.push(format!("{} not finished yet", t.pending_tasks));
        }
        if t.unpriced_tasks > 0 {
            notes.push(format!("{} without a price, counted as 0", t.unpriced_tasks));
        }
        if !notes.is_empty() {
            s.push_str(&format!(" ({})", notes.join("; ")));
        }
        s.push_str(&format!(
            ".\n  Kie's own figures: {} credits (${:.2}).",
            credits(t.actual_credits),
            kie::catalogue::credits_to_usd(t.actual_credits)
        ));
    }
    s.trim_end().to_string()
}

fn row(label: &str, a: &SpendAmount) -> String {
    let mark = if a.estimated_tasks > 0 { EST } else { " " };
    format!("{label:<28} {:>11}{mark} {:>10} {:>6}\n", credits(a.credits), format!("${:.2}", a.usd), a.tasks)
}

/// Whole credits as they are; fractions to two places (Kie's prices go to a tenth or so).
fn credits(c: f64) -> String {
    if c.fract() == 0.0 {
        format!("{c:.0}")
    } else {
        format!("{c:.2}")
    }
}

fn offset_label(minutes: i64) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_credits_read_plainly() {
        assert_eq!(offset_label(0), "+00:00");
        assert_eq!(offset_label(330), "+05:30");
        assert_eq!(offset_label(-210), "-03:30");
        assert_eq!(credits(30.0), "30");
        assert_eq!(credits(14.4), "14.40");
    }
}
