//! What a saved pipeline shows to someone who may not see all of it.
//!
//! A job's `env` is where teams put what a job needs, API keys included: only people
//! who may deploy the pipeline see the values (others see the names). A `notify` URL is
//! often a secret in itself (a Slack incoming webhook): only admins see it whole,
//! others see its scheme and host, the path hidden as [`HIDDEN`]. An operator who
//! saves back a pipeline with a hidden URL keeps the saved one (see
//! [`Pipeline::restore_hidden_urls`]).

use super::pipeline::Pipeline;
use super::validate::{ValidationError, ValidationErrors};

/// What stands for a hidden value.
pub const HIDDEN: &str = "***";

/// `https://hooks.slack.com/***` for `https://hooks.slack.com/services/T0/B0/xyz`.
pub fn hidden_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default();
    format!("{scheme}://{authority}/{HIDDEN}")
}

fn is_hidden_url(url: &str) -> bool {
    url.ends_with(&format!("/{HIDDEN}"))
}

impl Pipeline {
    /// This pipeline as someone sees it who may (`env_values`) or may not see the jobs'
    /// `env` values, and may (`notify_urls`) or may not see the whole webhook URLs.
    pub fn redacted(&self, env_values: bool, notify_urls: bool) -> Pipeline {
        let mut shown = self.clone();
        if !env_values {
            for job in &mut shown.jobs {
                for value in job.env.values_mut() {
                    *value = HIDDEN.to_string();
                }
            }
        }
        if !notify_urls {
            for url in &mut shown.notify {
                *url = hidden_url(url);
            }
        }
        shown
    }

    /// Puts back, for each hidden URL in `notify` (as [`Pipeline::redacted`] showed
    /// it), the URL of `saved` it stands for. One that stands for none is refused: it
    /// would send notifications to a path nobody meant.
    pub fn restore_hidden_urls(
        &mut self,
        saved: Option<&Pipeline>,
    ) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        for url in &mut self.notify {
            if !is_hidden_url(url) {
                continue;
            }
            let original = saved
                .into_iter()
                .flat_map(|saved| &saved.notify)
                .find(|original| hidden_url(original) == *url && !is_hidden_url(original));
            match original {
                Some(original) => *url = original.clone(),
                None => errors.push(ValidationError::HiddenNotifyUrl { url: url.clone() }),
            }
        }
        ValidationErrors::result(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline() -> Pipeline {
        Pipeline::parse(
            "name: p\nnotify: ['https://hooks.slack.com/services/T0/B0/xyz', 'http://user:pw@10.0.0.1:8080/h?k=v']\njobs:\n  - {id: a, run: 'true', env: {API_KEY: s3cret, MODEL: small}}\n",
        )
        .expect("parse")
    }

    #[test]
    fn values_and_paths_are_hidden_names_and_hosts_stay() {
        let full = pipeline();
        assert_eq!(full.redacted(true, true), full);
        let viewer = full.redacted(false, false);
        let env: Vec<(&str, &str)> = viewer.jobs[0]
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(env, [("API_KEY", "***"), ("MODEL", "***")]);
        assert_eq!(
            viewer.notify,
            ["https://hooks.slack.com/***", "http://10.0.0.1:8080/***"]
        );
        let yaml = viewer.to_yaml();
        assert!(!yaml.contains("s3cret") && !yaml.contains("xyz") && !yaml.contains("pw"));
        let operator = full.redacted(true, false);
        assert_eq!(operator.jobs[0].env["API_KEY"], "s3cret");
    }

    #[test]
    fn a_hidden_url_saved_back_keeps_the_original_or_is_refused() {
        let saved = pipeline();
        let mut edited = saved.redacted(true, false);
        edited.notify.push("https://new.example.com/hook".into());
        edited.restore_hidden_urls(Some(&saved)).expect("restored");
        assert_eq!(edited.notify[..2], saved.notify[..]);
        assert_eq!(edited.notify[2], "https://new.example.com/hook");

        let mut stray = saved.redacted(true, false);
        let refused = stray
            .restore_hidden_urls(None)
            .expect_err("nothing to restore");
        assert_eq!(refused.0.len(), 2);
        assert!(
            refused.0[0].to_string().contains("hidden from you"),
            "{refused:?}"
        );
    }
}
