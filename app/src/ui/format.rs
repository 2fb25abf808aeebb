//! Times and durations as people read them.

use crate::domain::format_duration;

/// A moment (ms since the epoch) in the browser's local time, e.g. `25/11/2026, 14:03:07`.
pub fn format_time(epoch_ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(epoch_ms as f64));
    String::from(date.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
}

/// How long from `start_ms` to `end_ms` (or to now, while still going), e.g. `2m 30s`.
pub fn format_elapsed(start_ms: i64, end_ms: Option<i64>) -> String {
    let end = end_ms.unwrap_or_else(|| js_sys::Date::now() as i64);
    let secs = u64::try_from((end - start_ms) / 1000).unwrap_or(0);
    format_duration(secs)
}

/// A size in human units: `812 B`, `4.2 KiB`, `3.0 MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Now, in milliseconds since the epoch, by the browser's clock.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

#[cfg(test)]
mod tests {
    use super::format_bytes;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(4300), "4.2 KiB");
        assert_eq!(format_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
