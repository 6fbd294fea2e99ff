//! Generated migration scripts, run for real against two local folders that
//! stand for two workspaces. Stand-ins first on PATH play the coder CLI and
//! the remote shell: each remote command runs locally in the workspace's folder.
//! Needs rsync (and shellcheck for the lint test): without them the tests
//! skip with a reason, and fail when CI=true.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use orgsplit::render::scripts::{Move, ScriptContext, UserMoves, migration_script};

pub const URL: &str = "https://coder.example.com";

/// True when `tool` is installed; otherwise skip (or fail under CI=true).
pub fn have(tool: &str) -> bool {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{tool} is required when CI=true (.ci/run installs it)");
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

const CODER_STANDIN: &str = r#"#!/usr/bin/env bash
# Stand-in for the coder CLI: workspaces are folders under $FAKE_ROOT/ws.
set -u
printf '%s\n' "$@" '==' >>"$FAKE_ROOT/coder-calls.log"
# The workspace is the one argument after `--`, which the scripts always pass
# (the coder CLI's flag parser stops there): without it, this stand-in fails.
ws=
after=0
for a in "$@"; do
  if [ "$after" -eq 1 ]; then ws="${a#"$FAKE_USER"/}"; break; fi
  if [ "$a" = -- ]; then after=1; fi
done
need_ws() { [ -n "$ws" ] || { printf 'stand-in coder: no workspace after --: %s\n' "$*" >&2; exit 2; }; }
case "$1" in
  whoami) printf 'Coder is running at %s, You are authenticated as %s !\n' "$FAKE_URL" "$FAKE_USER" ;;
  show) need_ws "$@"; [ -d "$FAKE_ROOT/ws/$ws" ] ;;
  create) need_ws "$@"; mkdir -p "$FAKE_ROOT/ws/$ws" && printf 'created\n' ;;
  start) need_ws "$@"; [ -d "$FAKE_ROOT/ws/$ws" ] ;;
  config-ssh) exit 0 ;;
  *) printf 'stand-in coder: unexpected %s\n' "$*" >&2; exit 2 ;;
esac
"#;

const RSH_STANDIN: &str = r#"#!/usr/bin/env bash
# Stand-in remote shell: host coder.<owner>--<workspace> is $FAKE_ROOT/ws/<workspace>,
# the workspace's home. Like a Coder agent whose template sets a `dir`, the
# command starts elsewhere: in $FAKE_AGENT_DIR (relative to the home) when
# set, else in a folder outside the home. Each call appends "<workspace> <pid>"
# to $FAKE_ROOT/rsh-pids (the pid leads the remote command's process group).
set -u
host="$1"; shift
# ssh would read a host that begins with `-` as an option (-oProxyCommand=...).
case "$host" in -*) printf '%s\n' "$host" >>"$FAKE_ROOT/ssh-options.log"; exit 255 ;; esac
dir="$FAKE_ROOT/ws/${host#*--}"
[ -d "$dir" ] || { printf 'ssh: no such workspace %s\n' "$host" >&2; exit 255; }
# setsid: like a real remote, the command is not in the caller's process
# group, so killing the caller leaves it to notice the dropped connection.
cmd="$*"
if [ -n "${FAKE_BWLIMIT:-}" ]; then
  # Slow the workspace's side too (--bwlimit only throttles the sending side).
  cmd="${cmd/rsync --server/rsync --server --bwlimit=$FAKE_BWLIMIT}"
fi
start="$FAKE_ROOT/agent-dir"
if [ -n "${FAKE_AGENT_DIR:-}" ]; then start="$dir/$FAKE_AGENT_DIR"; fi
mkdir -p "$start"
printf '%s %s\n' "${host#*--}" "$$" >>"$FAKE_ROOT/rsh-pids"
cd "$start" && HOME="$dir" exec setsid -w sh -c "$cmd"
"#;

/// A sandbox: stand-ins, the laptop's home, and workspace folders.
pub struct Sandbox {
    pub root: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        for (name, text) in [("coder", CODER_STANDIN), ("rsh", RSH_STANDIN)] {
            fs::write(bin.join(name), text).unwrap();
            fs::set_permissions(bin.join(name), fs::Permissions::from_mode(0o755)).unwrap();
        }
        fs::create_dir_all(root.path().join("laptop")).unwrap();
        fs::create_dir_all(root.path().join("ws")).unwrap();
        Sandbox { root }
    }

    pub fn ws(&self, name: &str) -> PathBuf {
        self.root.path().join("ws").join(name)
    }

    pub fn command(&self, script: &Path, owner: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("bash");
        let path = format!("{}:{}", self.root.path().join("bin").display(), std::env::var("PATH").unwrap_or_default());
        cmd.arg(script)
            .args(args)
            .current_dir(self.root.path())
            .env("PATH", path)
            .env("HOME", self.root.path().join("laptop"))
            .env_remove("XDG_CACHE_HOME")
            .env("FAKE_ROOT", self.root.path())
            .env("FAKE_URL", URL)
            .env("FAKE_USER", owner)
            .env("ORGSPLIT_RSH", self.root.path().join("bin/rsh"))
            .env("ORGSPLIT_WAIT_SECONDS", "5");
        cmd
    }

    pub fn run(&self, script: &Path, owner: &str, args: &[&str]) -> Output {
        self.command(script, owner, args).output().unwrap()
    }
}

pub fn write_script(dir: &Path, user: &UserMoves) -> PathBuf {
    let ctx = ScriptContext {
        deployment_url: URL,
        ssh_prefix: "coder.",
        wiki: "https://wiki.example.com",
        deadline: "2025-03-31",
        plan: "sha256:test",
        coder_cli: "coder",
        from_v1: false,
    };
    let path = dir.join("migrate.sh");
    fs::write(&path, migration_script(&ctx, user).unwrap()).unwrap();
    path
}

pub fn one_move(owner: &str, old: &str, new: &str, org: &str, template: &str) -> UserMoves {
    UserMoves {
        owner: owner.into(),
        email: "user@example.com".into(),
        file: owner.into(),
        items: vec![Move {
            old_workspace: old.into(),
            old_template: "docker".into(),
            new_workspace: new.into(),
            new_org: org.into(),
            new_template: template.into(),
            old_host: String::new(),
            parameters: Vec::new(),
        }],
    }
}

/// A home folder with everything that is easy to get wrong.
pub fn populate(home: &Path) {
    let f = |p: &str, content: &[u8], mode: u32| {
        let path = home.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    };
    f(".bashrc", b"export EDITOR=vim\n", 0o644);
    f("projects/app/main.rs", b"fn main() {}\n", 0o644);
    f("projects/app/run.sh", b"#!/bin/sh\necho run\n", 0o755);
    f(".ssh/id_ed25519", b"secret key\n", 0o600);
    f("name with spaces/and 'quotes' \"double\".txt", b"spaces\n", 0o640);
    f("$(touch INJECTED)/`id`;rm -rf x.txt", b"not a command\n", 0o644);
    f("new\nline.txt", b"newline in the name\n", 0o644);
    f("données/naïve-日本語-😀.md", "non-ASCII ✓\n".as_bytes(), 0o644);
    f("empty.txt", b"", 0o644);
    fs::create_dir_all(home.join("empty dir/nested empty")).unwrap();
    symlink("projects/app/main.rs", home.join("link-to-main")).unwrap();
    symlink("../nowhere", home.join("dangling link")).unwrap();
    fs::hard_link(home.join("projects/app/main.rs"), home.join("hardlink-main.rs")).unwrap();
    // Caches the migration must not copy.
    f(".cache/pip/wheel.whl", b"cache", 0o644);
    f("projects/app/node_modules/left-pad/index.js", b"cache", 0o644);
    f(".vscode-server/bin/x", b"cache", 0o644);
    f("go/pkg/mod/cache.zip", b"cache", 0o644);
    f(".cargo/registry/index", b"cache", 0o644);
}

const EXCLUDED: &[&str] = &[".cache", "node_modules", ".vscode-server", "go/pkg/mod", ".cargo/registry"];

fn excluded(rel: &str) -> bool {
    EXCLUDED.iter().any(|e| {
        rel == *e
            || rel.starts_with(&format!("{e}/"))
            || rel.contains(&format!("/{e}/"))
            || rel.ends_with(&format!("/{e}"))
    })
}

/// Path -> (kind, mode, content or link target, mtime), the excluded caches left out.
pub fn tree(root: &Path, with_mtime: bool) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if excluded(&rel) || rel.contains(".orgsplit-partial") {
            continue;
        }
        let meta = fs::symlink_metadata(e.path()).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let what = if meta.file_type().is_symlink() {
            format!("link -> {}", fs::read_link(e.path()).unwrap().display())
        } else if meta.is_dir() {
            format!("dir {mode:o}")
        } else {
            format!("file {mode:o} {:?}", fs::read(e.path()).unwrap())
        };
        let when =
            if with_mtime && !meta.is_dir() { format!(" @{:?}", meta.modified().unwrap()) } else { String::new() };
        out.insert(rel, format!("{what}{when}"));
    }
    out
}

pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "script failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn staged_copy_reproduces_the_old_tree_and_a_second_run_changes_nothing() {
    if !have("rsync") {
        return;
    }
    let sb = Sandbox::new();
    populate(&sb.ws("dev"));
    let old_before = tree(&sb.ws("dev"), true);
    let script = write_script(sb.root.path(), &one_move("alice", "dev", "dev-data", "data", "docker"));

    let out = sb.run(&script, "alice", &[]);
    assert_ok(&out);
    assert_eq!(tree(&sb.ws("dev"), true), old_before, "the old workspace is untouched");
    let old = tree(&sb.ws("dev"), false);
    assert_eq!(tree(&sb.ws("dev-data"), false), old, "the new workspace holds the old tree");
    for cache in [".cache", "projects/app/node_modules", ".vscode-server", "go/pkg/mod", ".cargo/registry"] {
        assert!(!sb.ws("dev-data").join(cache).exists(), "{cache} was copied");
    }
    assert!(!sb.root.path().join("INJECTED").exists() && !sb.ws("dev-data").join("INJECTED").exists());
    let calls = fs::read_to_string(sb.root.path().join("coder-calls.log")).unwrap();
    assert!(
        calls.contains(
            "create\n--org=data\n--template=docker\n--copy-parameters-from=alice/dev\n--yes\n--\nalice/dev-data\n=="
        ),
        "{calls}"
    );

    let new_before = tree(&sb.ws("dev-data"), true);
    let again = sb.run(&script, "alice", &[]);
    assert_ok(&again);
    assert_eq!(tree(&sb.ws("dev-data"), true), new_before, "a second run changes nothing");
    assert_eq!(tree(&sb.ws("dev"), true), old_before);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("new workspace alice/dev-data exists"), "{stderr}");
    assert!(stderr.contains("verified"), "{stderr}");
}

#[test]
fn dry_run_changes_nothing_and_says_what_would_happen() {
    if !have("rsync") {
        return;
    }
    let sb = Sandbox::new();
    populate(&sb.ws("dev"));
    let script = write_script(sb.root.path(), &one_move("alice", "dev", "dev-data", "data", "docker"));
    let out = sb.run(&script, "alice", &["--dry-run"]);
    assert_ok(&out);
    assert!(!sb.ws("dev-data").exists(), "dry run created the workspace");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("would create alice/dev-data in organization data from template docker"), "{stderr}");
    assert!(stderr.contains(">f+++++++++ projects/app/main.rs"), "lists what would be copied: {stderr}");
    assert!(stderr.contains("dry run: nothing was created"), "{stderr}");
}

#[test]
fn pull_mode_copies_from_inside_the_new_workspace() {
    if !have("rsync") {
        return;
    }
    let sb = Sandbox::new();
    populate(&sb.ws("dev"));
    fs::create_dir_all(sb.ws("dev-data")).unwrap();
    let script = write_script(sb.root.path(), &one_move("alice", "dev", "dev-data", "data", "docker"));
    // Inside the new workspace: HOME is the new workspace's home.
    let mut cmd = sb.command(&script, "alice", &["--mode", "pull"]);
    cmd.env("HOME", sb.ws("dev-data"));
    let out = cmd.output().unwrap();
    assert_ok(&out);
    let mut new = tree(&sb.ws("dev-data"), false);
    new.retain(|k, _| !k.starts_with(".cache"));
    assert_eq!(new, tree(&sb.ws("dev"), false));
}

#[test]
fn missing_prerequisites_are_named_with_the_fix() {
    if !have("rsync") {
        return;
    }
    let sb = Sandbox::new();
    fs::create_dir_all(sb.ws("dev")).unwrap();
    let script = write_script(sb.root.path(), &one_move("alice", "dev", "dev-data", "data", "docker"));
    let mut cmd = sb.command(&script, "alice", &[]);
    cmd.env("FAKE_URL", "https://other.example.com");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("logged in to another deployment") && stderr.contains(&format!("coder login {URL}")),
        "{stderr}"
    );
    assert!(!sb.ws("dev-data").exists(), "nothing happens before the checks pass");
}

/// Every file called `PWNED` under `root`: each is a command that ran.
fn injected(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() == "PWNED")
        .map(|e| e.path().display().to_string())
        .collect()
}

pub fn shellcheck_passes(script: &Path) {
    if have("shellcheck") {
        let lint = Command::new("shellcheck").args(["-s", "bash", "-S", "style"]).arg(script).output().unwrap();
        assert!(lint.status.success(), "shellcheck:\n{}", String::from_utf8_lossy(&lint.stdout));
    }
}

#[test]
fn hostile_names_run_no_injected_command_and_pass_shellcheck() {
    let sb = Sandbox::new();
    // Coder names cannot hold `/` or `:`; everything else a shell cares about
    // is here, in the values the script hands to coder and logs.
    let t = "touch PWNED";
    let user = UserMoves {
        owner: "alice".into(),
        email: format!("x@example.com; {t}"),
        file: "alice".into(),
        items: vec![Move {
            old_workspace: "dev".into(),
            old_template: format!("\"; {t}; \""),
            new_workspace: "dev-data".into(),
            new_org: format!("org'$({t})'|{t}"),
            new_template: format!("-tpl\n {t}\n#"),
            old_host: String::new(),
            parameters: Vec::new(),
        }],
    };
    let script = write_script(sb.root.path(), &user);
    shellcheck_passes(&script);
    if !have("rsync") {
        return;
    }
    fs::create_dir_all(sb.ws("dev")).unwrap();
    fs::write(sb.ws("dev").join("file"), b"x").unwrap();
    let out = sb.run(&script, &user.owner, &[]);
    assert_ok(&out);
    assert_eq!(injected(sb.root.path()), Vec::<String>::new(), "an injected command ran");
    assert_eq!(fs::read(sb.ws("dev-data").join("file")).unwrap(), b"x");
    let calls = fs::read_to_string(sb.root.path().join("coder-calls.log")).unwrap();
    assert!(
        calls.contains(&format!("--org={}\n--template={}\n", user.items[0].new_org, user.items[0].new_template)),
        "{calls}"
    );
}

/// Owner and workspace names are parts of SSH host names: where Coder would
/// refuse them, the script refuses that workspace, says why, and runs
/// nothing for it (shell metacharacters stay quoted all the same).
#[test]
fn host_names_outside_coders_rules_are_refused() {
    let sb = Sandbox::new();
    let t = "touch PWNED";
    let bad = Move {
        old_workspace: format!("dev;{t}&"),
        old_template: "docker".into(),
        new_workspace: format!("new $({t}) \\ *"),
        new_org: "data".into(),
        new_template: "docker".into(),
        old_host: String::new(),
        parameters: Vec::new(),
    };
    let good = Move { old_workspace: "ok".into(), new_workspace: "ok-data".into(), ..bad.clone() };
    // With an ssh host of `-oProxyCommand=...` ssh would run the command.
    let proxy = "-oProxyCommand=touch PWNED".to_string();
    let plain = Move { old_workspace: "dev".into(), new_workspace: "dev-data".into(), ..good.clone() };
    // The last: a script edited by hand to an empty prefix and no refusal;
    // the script's own check still never lets the host begin with `-`.
    for (owner, items, edited) in [
        (format!("al'ice\"$({t})`{t}`"), vec![good.clone()], false),
        ("alice".to_string(), vec![bad, good], false),
        (proxy.clone(), vec![plain.clone()], false),
        (proxy, vec![plain], true),
    ] {
        let user = UserMoves { owner: owner.clone(), email: "a@example.com".into(), file: "alice".into(), items };
        let script = write_script(sb.root.path(), &user);
        shellcheck_passes(&script);
        if edited {
            let text = fs::read_to_string(&script).unwrap();
            let problems = text.lines().find(|l| l.starts_with("HOST_PROBLEM=(")).unwrap();
            let text = text.replace(problems, "HOST_PROBLEM=('')").replace("SSH_PREFIX=coder.\n", "SSH_PREFIX=''\n");
            assert!(text.contains("SSH_PREFIX=''\n"), "{text}");
            fs::write(&script, text).unwrap();
        }
        if !have("rsync") {
            return;
        }
        for m in &user.items {
            fs::create_dir_all(sb.ws(&m.old_workspace)).unwrap();
        }
        let out = sb.run(&script, &owner, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let why = if edited {
            "the SSH host name would begin with '-' or be empty"
        } else {
            "breaks Coder's name rules (letters, digits and single hyphens, at most 32 characters), so it cannot be \
             part of an SSH host name"
        };
        assert!(stderr.contains(why), "{stderr}");
        assert!(stderr.contains("workspace(s) were refused"), "{stderr}");
        assert_eq!(injected(sb.root.path()), Vec::<String>::new(), "an injected command ran");
        assert!(!sb.root.path().join("ssh-options.log").exists(), "a host became an ssh option");
        let refused_all = user.items.len() == 1;
        assert_eq!(sb.ws("ok-data").exists(), !refused_all, "the valid move still happens: {stderr}");
        let _ = fs::remove_dir_all(sb.ws("ok-data"));
    }
}

/// The size of the largest file in `dir` whose name contains `part`.
pub fn largest(dir: &Path, part: &str) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().contains(part))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .max()
        .unwrap_or(0)
}

/// Start the script in its own process group, wait until a temp file of
/// big.bin in `dir` holds more than `bytes`, then SIGKILL the whole group
/// (the script and every local process it started).
fn kill_when_partial(mut cmd: Command, dir: &Path, bytes: u64) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd.process_group(0).stdout(Stdio::null()).stderr(log.reopen().unwrap()).spawn().unwrap();
    let start = Instant::now();
    loop {
        if largest(dir, "big.bin.") > bytes {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let said = fs::read_to_string(log.path()).unwrap_or_default();
            let seen: Vec<String> = walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_map(|e| e.ok())
                .map(|e| e.path().display().to_string())
                .collect();
            panic!(
                "the script finished ({status}) after {:?} before it could be killed mid-transfer in {} (exists: {}):\n{said}\n{seen:#?}",
                start.elapsed(),
                dir.display(),
                dir.exists()
            );
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no transfer progress in 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: plain syscall on our own child's process group.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    child.wait().unwrap();
}

#[test]
fn killed_mid_transfer_then_rerun_ends_with_identical_trees() {
    if !have("rsync") {
        return;
    }
    let sb = Sandbox::new();
    populate(&sb.ws("dev"));
    let big: Vec<u8> = (0..24u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    fs::write(sb.ws("dev").join("big.bin"), &big).unwrap();
    let script = write_script(sb.root.path(), &one_move("alice", "dev", "dev-data", "data", "docker"));
    let slow = |sb: &Sandbox| {
        let mut c = sb.command(&script, "alice", &[]);
        c.env("ORGSPLIT_RSYNC_OPTS", "--bwlimit=3000").env("FAKE_BWLIMIT", "3000");
        c
    };
    // Killed while copying old -> staging ...
    let staging = sb.root.path().join("laptop/.cache/orgsplit/alice");
    kill_when_partial(slow(&sb), &staging, 2 << 20);
    assert!(!staging.join("dev-0/big.bin").exists() && staging.join("dev-0").is_dir(), "killed while staging big.bin");
    // ... then, rerun, killed while copying staging -> new ...
    kill_when_partial(slow(&sb), &sb.ws("dev-data"), 2 << 20);
    assert!(!sb.ws("dev-data").join("big.bin").exists(), "killed before big.bin arrived");
    // ... and a last run finishes the job.
    let out = sb.run(&script, "alice", &[]);
    assert_ok(&out);
    assert_eq!(tree(&sb.ws("dev-data"), false), tree(&sb.ws("dev"), false));
    assert!(
        !sb.ws("dev-data").join(".orgsplit-partial").exists(),
        "the partial folder is cleared once the copy is verified"
    );
}
