//! Stopping the server is bounded: open requests and running jobs share the grace
//! period, and no job starts after the signal.

mod common;

use std::io::Write;
use std::time::Duration;

use common::process::ServerProcess;
use common::runs::{deploy, wait_for_status};
use common::temp_dir;

/// A client that asked for a large file and reads nothing keeps its connection open;
/// the server still exits once the grace period is over. The job released by a job
/// that ends during the grace period is not started.
#[tokio::test]
async fn a_stop_is_bounded_and_starts_nothing() {
    let dir = temp_dir("bounded-stop");
    let mut server = ServerProcess::start(&dir, &["--shutdown-grace", "2"], None);
    let yaml = "
name: stopping
jobs:
  - {id: big, run: 'head -c 67108864 /dev/zero > big.bin'}
  - {id: first, run: 'until [ -e go ]; do sleep 0.05; done', depends_on: [big]}
  - {id: second, run: 'touch second-ran', depends_on: [first]}
";
    let id = deploy(&server, yaml).await;
    wait_for_status(&server, id, "first", "RUNNING").await;
    let cookie = server.session("admin").await;
    let address = server.base_url.trim_start_matches("http://").to_string();
    let mut stuck = std::net::TcpStream::connect(&address).expect("connect");
    write!(
        stuck,
        "GET /files/{id}/big.bin HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n"
    )
    .expect("request");

    server.terminate();
    // The signal has been handled once the server accepts no more connections; then
    // `first` ends within the grace period, which must not start `second`.
    let refused_by = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&address).is_ok() {
        assert!(
            std::time::Instant::now() < refused_by,
            "the server still accepts connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let workspace = dir.join(format!("workspaces/{id}"));
    std::fs::write(workspace.join("go"), "").expect("go");
    let code = server.wait_for_exit(Duration::from_secs(15));
    assert_eq!(
        code,
        Some(0),
        "a clean exit within the grace period and a little"
    );
    assert!(
        !workspace.join("second-ran").exists(),
        "no job starts during a shutdown"
    );
    drop(stuck);
}
