//! Tests of what providers read from the environment, run in a child process of the test binary
//! with the variables set there: the test's own environment is never changed (which Rust 2024
//! makes `unsafe`, and which other threads would see).

use std::process::Command;

/// Runs the ignored test `name` (its path in the test binary, as `azure::child_x`) again in a
/// child process with `env` set and `remove` unset, and asserts that it passes. The child test
/// returns at once unless `KEYWARD_TEST_CHILD` is set.
pub fn run_child(name: &str, env: &[(&str, &str)], remove: &[&str]) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            name,
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("KEYWARD_TEST_CHILD", "1");
    for variable in remove {
        command.env_remove(variable);
    }
    let output = command.envs(env.iter().copied()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child test {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether this process is a child started by [`run_child`].
pub fn is_child() -> bool {
    std::env::var_os("KEYWARD_TEST_CHILD").is_some()
}
