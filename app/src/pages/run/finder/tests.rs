use super::*;

fn ids(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

#[test]
fn an_exact_id_wins_over_an_earlier_partial_match() {
    let ids = ids(&["train-2", "train", "evaluate"]);
    assert_eq!(find(&ids, "train"), Some(1));
    assert_eq!(find(&ids, " Train-"), Some(0));
    assert_eq!(find(&ids, "EVAL"), Some(2));
    assert_eq!(find(&ids, "deploy"), None);
    assert_eq!(find(&ids, "  "), None);
}

#[test]
fn jumps_go_on_from_the_last_one_and_wrap_round() {
    let failed = [false, true, false, true];
    let matches = |at: usize| failed[at];
    assert_eq!(next_matching(4, None, matches), Some(1));
    assert_eq!(next_matching(4, Some(1), matches), Some(3));
    assert_eq!(next_matching(4, Some(3), matches), Some(1));
    assert_eq!(next_matching(4, None, |_| false), None);
    assert_eq!(next_matching(0, None, |_| true), None);
}

#[test]
fn a_waiting_gate_is_not_a_running_job() {
    assert!(Attention::Waiting.matches(JobStatus::Running, true));
    assert!(!Attention::Running.matches(JobStatus::Running, true));
    assert!(Attention::Running.matches(JobStatus::Running, false));
    assert!(!Attention::Waiting.matches(JobStatus::Pending, true));
    assert!(Attention::Failed.matches(JobStatus::Failed, true));
}
