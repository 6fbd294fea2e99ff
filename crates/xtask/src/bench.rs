//! `cargo xtask bench`: generate a large deployment and measure each stage as
//! a user would run it (a separate process per stage), printing wall time
//! and peak memory with the input size. The README's performance section
//! holds the latest figures.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::BenchArgs;
use orgsplit::error::{Error, Result};

mod import;
mod live;

#[derive(Default)]
struct Stage {
    name: &'static str,
    args: Vec<String>,
    /// Exit codes that mean success for this stage (`diff` exits 2 on changes).
    ok: &'static [i32],
    /// Environment variables for the stage (the session token of a live import).
    env: Vec<(String, String)>,
    /// An output folder (one of `args`) that each run after the first
    /// writes under its own name (`scripts-2`, ...), so that every run writes
    /// into a new folder: replacing thousands of files is slower (ext4 writes
    /// each replaced file out at its rename) and would measure the disk.
    fresh_dir: Option<PathBuf>,
}

pub fn run(args: BenchArgs) -> Result<u8> {
    let tmp;
    let work: PathBuf = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => {
            tmp = tempfile::tempdir().map_err(|e| Error::write(std::env::temp_dir(), e))?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&work).map_err(|e| Error::write(&work, e))?;
    let xtask = std::env::current_exe().map_err(|e| Error::read("the xtask executable", e))?;
    // The orgsplit built by the same cargo command, next to this program.
    let exe = xtask.parent().unwrap_or(Path::new(".")).join("orgsplit");
    println!("machine: {}", machine());
    println!(
        "orgsplit {} (built {})",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "debug: figures are not representative" } else { "release" }
    );

    // Everything runs in child processes: a child's peak memory would
    // otherwise include whatever this process held when it forked.
    let fixture = work.join("fixture");
    let p = |x: &Path| x.display().to_string();
    let generate = Stage {
        name: "fixture generate",
        args: vec![
            "fixture".into(),
            "generate".into(),
            "--users".into(),
            args.users.to_string(),
            "--out-dir".into(),
            p(&fixture),
        ],
        ok: &[0],
        ..Default::default()
    };
    let (wall, peak) = measure(&xtask, &generate, &work)?;
    let generated = std::fs::read_to_string(work.join("fixture.stderr")).unwrap_or_default();
    let sizes = generated.lines().next().and_then(|l| l.split_once(": ")).map_or(String::new(), |(_, s)| s.to_string());
    let export_bytes = dir_size(&fixture.join("export"));
    println!("input: {sizes}; export folder {:.0} MiB", export_bytes as f64 / 1048576.0);
    println!("{:<28} {:>10} {:>12}", "stage", "wall", "peak memory");
    println!("{:<28} {:>9.2}s {:>8.0} MiB", generate.name, wall.as_secs_f64(), peak as f64 / 1024.0);

    let snapshot = work.join("snapshot.json");
    let plan = work.join("plan.json");
    if args.import_only {
        import::compare(&exe, &fixture, &snapshot, &work, &args, "generated")?;
        import::full_bodies(&xtask, &exe, &work, &args)?;
        return Ok(0);
    }
    let stages = vec![
        Stage {
            name: "import",
            args: vec![
                "import".into(),
                "--from-dir".into(),
                p(&fixture.join("export")),
                "--people".into(),
                p(&fixture.join("people.csv")),
                "--template-sources".into(),
                p(&fixture.join("template-sources")),
                "--out".into(),
                p(&snapshot),
            ],
            ok: &[0],
            ..Default::default()
        },
        Stage {
            name: "inventory -o json",
            args: vec!["inventory".into(), p(&snapshot), "-o".into(), "json".into()],
            ok: &[0],
            ..Default::default()
        },
        Stage {
            name: "inventory (table)",
            args: vec!["inventory".into(), p(&snapshot)],
            ok: &[0],
            ..Default::default()
        },
        Stage {
            name: "score -o json",
            args: vec![
                "score".into(),
                p(&snapshot),
                "-o".into(),
                "json".into(),
                "--emit-split".into(),
                p(&work.join("split.toml")),
            ],
            ok: &[0],
            ..Default::default()
        },
        Stage {
            name: "plan",
            args: vec![
                "plan".into(),
                p(&snapshot),
                "--split".into(),
                p(&fixture.join("split.toml")),
                "--out".into(),
                p(&plan),
            ],
            ok: &[0],
            ..Default::default()
        },
        Stage {
            name: "scripts",
            args: vec!["scripts".into(), p(&plan), "--out-dir".into(), p(&work.join("scripts"))],
            ok: &[0],
            fresh_dir: Some(work.join("scripts")),
            ..Default::default()
        },
        Stage {
            name: "notices",
            args: vec!["notices".into(), p(&plan), "--out-dir".into(), p(&work.join("notices"))],
            ok: &[0],
            fresh_dir: Some(work.join("notices")),
            ..Default::default()
        },
        Stage {
            name: "export terraform",
            args: vec![
                "export".into(),
                "terraform".into(),
                p(&plan),
                "--snapshot".into(),
                p(&snapshot),
                "--template-sources".into(),
                p(&fixture.join("template-sources")),
                "--out-dir".into(),
                p(&work.join("terraform")),
            ],
            ok: &[0],
            fresh_dir: Some(work.join("terraform")),
            ..Default::default()
        },
        Stage {
            name: "diff",
            args: vec!["diff".into(), p(&plan), "--snapshot".into(), p(&snapshot)],
            ok: &[0, 2],
            ..Default::default()
        },
        Stage {
            name: "report --split -o html",
            args: vec![
                "report".into(),
                p(&snapshot),
                "--split".into(),
                p(&fixture.join("split.toml")),
                "-o".into(),
                "html".into(),
                "--out".into(),
                p(&work.join("report.html")),
            ],
            ok: &[0],
            ..Default::default()
        },
        Stage {
            name: "report (recommended split)",
            args: vec!["report".into(), p(&snapshot), "--out".into(), p(&work.join("report.md"))],
            ok: &[0],
            ..Default::default()
        },
        Stage {
            name: "diff --access",
            args: vec!["diff".into(), p(&plan), "--snapshot".into(), p(&snapshot), "--access".into()],
            ok: &[0, 2],
            ..Default::default()
        },
    ];
    if args.apply_only {
        let (wall, peak) = measure(&exe, &stages[0], &work)?;
        println!("{:<28} {:>9.2}s {:>8.0} MiB", stages[0].name, wall.as_secs_f64(), peak as f64 / 1024.0);
        live::apply(&exe, &snapshot, &fixture.join("split.toml"), &work, &args)?;
        return Ok(0);
    }
    println!(
        "offline stages: median of {} run(s) each (fastest-slowest), peak memory the largest of the runs",
        args.runs
    );
    let mut measured = Vec::new();
    for stage in &stages {
        if stage.name == "import" {
            // Beside jq over the same folder (the import stage of issue 15 §5).
            import::compare(&exe, &fixture, &snapshot, &work, &args, "generated")?;
            continue;
        }
        let runs = (1..=args.runs).map(|run| measure_run(&exe, stage, &work, run)).collect::<Result<Vec<_>>>()?;
        let m = Measured::of(&runs);
        println!(
            "{:<28} {:>9.2}s {:>8.0} MiB   ({:.2}-{:.2} s)",
            stage.name,
            m.median,
            m.peak_kib as f64 / 1024.0,
            m.fastest,
            m.slowest
        );
        measured.push((stage.name, m));
    }
    let together: Vec<&Measured> =
        measured.iter().filter(|(name, _)| TOGETHER.contains(name)).map(|(_, m)| m).collect();
    let wall: f64 = together.iter().map(|m| m.median).sum();
    let peak = together.iter().map(|m| m.peak_kib).max().unwrap_or(0);
    println!(
        "{} together: {wall:.2} s (target: under 2 s), each under {:.0} MiB (target: 1 GiB together)",
        TOGETHER.join(" + "),
        peak as f64 / 1024.0,
    );
    import::full_bodies(&xtask, &exe, &work, &args)?;
    live::run(&exe, &snapshot, &work, &args)?;
    live::apply(&exe, &snapshot, &fixture.join("split.toml"), &work, &args)?;
    Ok(0)
}

/// The stages the target is about: plan, diff and report of the
/// generated deployment, under 2 s together.
const TOGETHER: [&str; 3] = ["plan", "diff", "report --split -o html"];

/// One stage over its runs: seconds, and the largest peak (KiB).
struct Measured {
    median: f64,
    fastest: f64,
    slowest: f64,
    peak_kib: u64,
}

impl Measured {
    fn of(runs: &[(Duration, u64)]) -> Measured {
        let mut secs: Vec<f64> = runs.iter().map(|(d, _)| d.as_secs_f64()).collect();
        secs.sort_by(f64::total_cmp);
        let median = match secs.len() {
            0 => 0.0,
            n if n % 2 == 1 => secs[n / 2],
            n => (secs[n / 2 - 1] + secs[n / 2]) / 2.0,
        };
        Measured {
            median,
            fastest: secs.first().copied().unwrap_or(0.0),
            slowest: secs.last().copied().unwrap_or(0.0),
            peak_kib: runs.iter().map(|(_, p)| *p).max().unwrap_or(0),
        }
    }
}

/// Run one stage as a child process; its wall time and peak resident memory (KiB).
fn measure(exe: &Path, stage: &Stage, work: &Path) -> Result<(Duration, u64)> {
    measure_run(exe, stage, work, 1)
}

/// [`measure`], for the `run`th run of the stage (from 1).
fn measure_run(exe: &Path, stage: &Stage, work: &Path, run: u32) -> Result<(Duration, u64)> {
    measure_to(exe, stage, work, run, None)
}

/// [`measure_run`], its standard output kept in `stdout` (else dropped).
fn measure_to(exe: &Path, stage: &Stage, work: &Path, run: u32, stdout: Option<&Path>) -> Result<(Duration, u64)> {
    let err_path = work.join(format!("{}.stderr", stage.name.split_whitespace().next().unwrap_or("stage")));
    let stderr = File::create(&err_path).map_err(|e| Error::write(&err_path, e))?;
    let args: Vec<String> = match &stage.fresh_dir {
        Some(dir) if run > 1 => {
            let dir = dir.display().to_string();
            stage.args.iter().map(|a| if *a == dir { format!("{dir}-{run}") } else { a.clone() }).collect()
        }
        _ => stage.args.clone(),
    };
    let start = Instant::now();
    let child = Command::new(exe)
        .args(&args)
        .envs(stage.env.iter().map(|(k, v)| (k, v)))
        .stdout(match stdout {
            Some(path) => Stdio::from(File::create(path).map_err(|e| Error::write(path, e))?),
            None => Stdio::null(),
        })
        .stderr(stderr)
        .spawn()
        .map_err(|e| Error::read(exe, e))?;
    let (code, peak) = wait_with_rusage(child.id());
    let wall = start.elapsed();
    if !stage.ok.contains(&code) {
        let message = std::fs::read_to_string(&err_path).unwrap_or_default();
        return Err(Error::Bug(format!("bench stage `{}` exited {code}: {}", stage.name, message.trim())));
    }
    Ok((wall, peak))
}

/// Wait for a child and read its resource usage (peak RSS), which std does not expose.
fn wait_with_rusage(pid: u32) -> (i32, u64) {
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that wait4 fills; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; both pointers are valid for the call.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    if r < 0 {
        return (-1, 0);
    }
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    (code, usage.ru_maxrss.max(0) as u64)
}

fn dir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map_or("unknown memory".into(), |k| format!("{:.0} GiB", k as f64 / 1048576.0));
    format!("{cpu}, {cores} cores, {mem}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_runs_and_the_largest_peak() {
        let s = |secs: f64, peak: u64| (Duration::from_secs_f64(secs), peak);
        let m = Measured::of(&[s(0.9, 10), s(0.7, 30), s(0.8, 20)]);
        assert_eq!((m.median, m.fastest, m.slowest, m.peak_kib), (0.8, 0.7, 0.9, 30));
        let m = Measured::of(&[s(1.0, 1), s(2.0, 1)]);
        assert_eq!(m.median, 1.5);
    }
}
