//! The real kubectl against `pacsim serve`: scripts/kubectl-e2e.sh, run
//! with the binary this suite built. The script fails (never skips) when
//! kubectl is missing.

use crate::support::repo;
use std::process::Command;

#[test]
fn the_real_kubectl_drives_a_served_supervisor_across_a_kill_9() {
    let out = Command::new(repo().join("scripts/kubectl-e2e.sh"))
        .env("PACSIM", env!("CARGO_BIN_EXE_pacsim"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kubectl-e2e failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("kubectl-e2e: PASS"), "{stdout}");
}
