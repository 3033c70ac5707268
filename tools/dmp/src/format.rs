//! How the tool prints rates and durations: the benchmark's and the
//! demo's figures, `dmp stat`'s rates and every command's ages come from
//! here.
//!
//! Two rate formats on purpose, for two uses: [`events_per_sec`] is a
//! benchmark figure that carries its unit and fits a fixed-width column
//! ("12.3 M ev/s"); [`rate`] is a bare number the caller puts its own unit
//! after ("12.35 M" under an "events/s" header, "4.56 M/s" of events or of
//! round trips in the demo's progress lines).

/// An event rate with its unit, to one decimal in thousands or millions:
/// "12.3 M ev/s", "950.0 k ev/s"; "n/a" when there is no figure (NaN).
pub fn events_per_sec(per_s: f64) -> String {
    if !per_s.is_finite() {
        "n/a".into()
    } else if per_s >= 1e6 {
        format!("{:.1} M ev/s", per_s / 1e6)
    } else {
        format!("{:.1} k ev/s", per_s / 1e3)
    }
}

/// A rate without its unit: "0", "950", "12.3 k", "4.56 M", "1.20 G".
pub fn rate(per_s: f64) -> String {
    if per_s >= 1e9 {
        format!("{:.2} G", per_s / 1e9)
    } else if per_s >= 1e6 {
        format!("{:.2} M", per_s / 1e6)
    } else if per_s >= 1e4 {
        format!("{:.1} k", per_s / 1e3)
    } else {
        format!("{per_s:.0}")
    }
}

/// A duration given in nanoseconds: "850 ns" below 10 us, "12.3 us" and
/// "4500.0 us" below 10 ms, "45.0 ms" above; "n/a" when there is no figure
/// (NaN).
pub fn nanos(ns: f64) -> String {
    if !ns.is_finite() {
        "n/a".into()
    } else if ns < 10_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 10_000_000.0 {
        format!("{:.1} us", ns / 1e3)
    } else {
        format!("{:.1} ms", ns / 1e6)
    }
}

/// An age in seconds, in words: "never" (None), "12 ms ago", "3.2 s ago",
/// "4 min ago", "5.0 h ago", "3.5 days ago".
pub fn age(age: Option<f64>) -> String {
    match age {
        None => "never".into(),
        Some(s) if s < 1.0 => format!("{:.0} ms ago", s * 1e3),
        Some(s) if s < 100.0 => format!("{s:.1} s ago"),
        Some(s) if s < 7200.0 => format!("{:.0} min ago", s / 60.0),
        Some(s) if s < 172_800.0 => format!("{:.1} h ago", s / 3600.0),
        Some(s) => format!("{:.1} days ago", s / 86400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_rates_carry_their_unit() {
        assert_eq!(events_per_sec(12_345_678.0), "12.3 M ev/s");
        assert_eq!(events_per_sec(950_000.0), "950.0 k ev/s");
        assert_eq!(events_per_sec(500.0), "0.5 k ev/s");
        assert_eq!(events_per_sec(f64::NAN), "n/a");
    }

    #[test]
    fn bare_rates() {
        assert_eq!(rate(0.0), "0");
        assert_eq!(rate(950.0), "950");
        assert_eq!(rate(12_345.0), "12.3 k");
        assert_eq!(rate(4_561_000.0), "4.56 M");
        assert_eq!(rate(1_204_000_000.0), "1.20 G");
    }

    #[test]
    fn durations() {
        assert_eq!(nanos(850.4), "850 ns");
        assert_eq!(nanos(12_345.0), "12.3 us");
        assert_eq!(nanos(4_500_000.0), "4500.0 us");
        assert_eq!(nanos(45_000_000.0), "45.0 ms");
        assert_eq!(nanos(f64::NAN), "n/a");
    }

    #[test]
    fn ages() {
        assert_eq!(age(None), "never");
        assert_eq!(age(Some(0.0123)), "12 ms ago");
        assert_eq!(age(Some(3.21)), "3.2 s ago");
        assert_eq!(age(Some(600.0)), "10 min ago");
        assert_eq!(age(Some(18_000.0)), "5.0 h ago");
        assert_eq!(age(Some(302_400.0)), "3.5 days ago");
    }
}
