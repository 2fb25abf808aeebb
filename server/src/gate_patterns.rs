//! The `pattern` of a gate's string inputs, which the pure rules in `app` cannot
//! evaluate: compiled here with `regex`, whose matching time is linear in the input, so
//! a pattern from a pipeline cannot stall the server.

use app::domain::{Pipeline, ValidationError, ValidationErrors};

/// The most memory one compiled pattern may take.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Whether `value` matches `pattern` as a whole, or why the pattern is unusable.
pub fn matches(pattern: &str, value: &str) -> Result<bool, String> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map(|compiled| compiled.is_match(value))
        .map_err(|error| error.to_string())
}

/// Refuses a pipeline with a gate pattern that does not compile, or a default that
/// does not match its pattern (the rest of the form is checked by `validate`).
pub fn check(pipeline: &Pipeline) -> Result<(), ValidationErrors> {
    let errors: Vec<ValidationError> = pipeline
        .jobs
        .iter()
        .filter_map(|job| job.active_gate().map(|gate| (job, gate.form())))
        .flat_map(|(job, form)| {
            form.check_patterns(&matches)
                .into_iter()
                .map(|problem| ValidationError::GateForm {
                    job: job.id.clone(),
                    field: problem.field,
                    message: problem.message,
                })
        })
        .collect();
    ValidationErrors::result(errors)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn a_pattern_matches_the_whole_value() {
        assert_eq!(matches("[A-Z]+-[0-9]+", "OPS-12"), Ok(true));
        assert_eq!(matches("[A-Z]+-[0-9]+", "see OPS-12"), Ok(false));
        assert_eq!(
            matches("a|b", "ab"),
            Ok(false),
            "the alternation is grouped"
        );
        assert!(matches("(", "x").is_err());
    }
}
