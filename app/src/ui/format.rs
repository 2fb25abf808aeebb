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
