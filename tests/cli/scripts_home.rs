//! The copy takes the home folder: whatever folder a workspace's SSH sessions
//! start in (a Coder agent's `dir`), and without leaving rsync's temp files in
//! the new home when the receiver there is killed. Uses the sandbox of
//! `scripts_e2e` (stand-ins for the coder CLI and the remote shell).

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::scripts_e2e::{Sandbox, assert_ok, have, largest, one_move, populate, tree, write_script};

#[test]
fn the_copy_takes_the_home_folder_whatever_folder_ssh_sessions_start_in() {
    if !have("rsync") {
        return;
    }
    for mode in ["staged", "pull"] {
        let sb = Sandbox::new();
        populate(&sb.ws("dev"));
        fs::create_dir_all(sb.ws("dev-data")).unwrap();
        let script = write_script(sb.root.path(), &one_move("alice", "dev", "dev-data", "data", "docker"));
        let mut cmd = sb.command(&script, "alice", &["--mode", mode]);
        // The template's agent `dir`: SSH sessions start in a project folder.
        cmd.env("FAKE_AGENT_DIR", "projects/app");
        if mode == "pull" {
            cmd.env("HOME", sb.ws("dev-data"));
        }
        let out = cmd.output().unwrap();
        assert_ok(&out);
        let mut new = tree(&sb.ws("dev-data"), false);
        new.retain(|k, _| !k.starts_with(".cache"));
        assert_eq!(new, tree(&sb.ws("dev"), false), "{mode}: the new home holds the old home");
        assert!(!sb.ws("dev-data").join("main.rs").exists(), "{mode}: the project folder was copied as the home");
    }
}

/// The pid that leads the last remote command run in workspace `ws`.
fn last_remote_pid(root: &Path, ws: &str) -> Option<i32> {
    let pids = fs::read_to_string(root.join("rsh-pids")).ok()?;
    pids.lines().rev().find_map(|l| l.strip_prefix(&format!("{ws} "))?.parse().ok())
}

/// Files under `home` whose name contains `part`, outside the partial folder.
fn strays(home: &Path, part: &str) -> Vec<String> {
    walkdir::WalkDir::new(home)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().contains(part))
        .map(|e| e.path().strip_prefix(home).unwrap().display().to_string())
        .filter(|p| !p.starts_with(".orgsplit-partial/"))
        .collect()
}

#[test]
fn a_receiver_killed_in_the_new_workspace_leaves_no_temp_file_in_its_home() {
    if !have("rsync") {
        return;
    }
    let sb = Sandbox::new();
    populate(&sb.ws("dev"));
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    fs::write(sb.ws("dev").join("big.bin"), &big).unwrap();
    let script = write_script(sb.root.path(), &one_move("alice", "dev", "dev-data", "data", "docker"));
    // Slow only this machine's sending (the copy staging -> new workspace).
    let mut cmd = sb.command(&script, "alice", &[]);
    cmd.env("ORGSPLIT_RSYNC_OPTS", "--bwlimit=3000");
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd.process_group(0).stdout(Stdio::null()).stderr(log.reopen().unwrap()).spawn().unwrap();
    let start = Instant::now();
    while largest(&sb.ws("dev-data"), "big.bin.") <= 2 << 20 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the script finished ({status}) before the receiver could be killed:\n{}",
                fs::read_to_string(log.path()).unwrap()
            );
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no transfer progress in 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL the receiver in the workspace (its whole process group): it cannot tidy up.
    let receiver = last_remote_pid(sb.root.path(), "dev-data").expect("the remote shell ran in dev-data");
    // SAFETY: plain syscall on a process group our stand-in started.
    unsafe { libc::kill(-receiver, libc::SIGKILL) };
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run stops when its receiver is killed");
    assert!(!sb.ws("dev-data").join("big.bin").exists(), "killed before big.bin arrived");
    assert_eq!(strays(&sb.ws("dev-data"), "big.bin"), Vec::<String>::new(), "a temp file in the new home tree");
    assert!(largest(&sb.ws("dev-data").join(".orgsplit-partial"), "big.bin") > 2 << 20, "the partial data is kept");

    let out = sb.run(&script, "alice", &[]);
    assert_ok(&out);
    assert_eq!(tree(&sb.ws("dev-data"), false), tree(&sb.ws("dev"), false));
    assert!(!sb.ws("dev-data").join(".orgsplit-partial").exists(), "the partial folder is cleared once verified");
    assert_eq!(strays(&sb.ws("dev-data"), "big.bin"), ["big.bin"]);
}
