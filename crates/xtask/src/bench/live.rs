//! The live-import stages of `cargo xtask bench`: serve the generated
//! deployment with the fake Coder of the tests (the program of
//! `crates/fake-coder`; it is not part of orgsplit) and import it through the API,
//! once as fast as the machine goes and once with a latency added to every
//! answer. Reported: the requests made against the fewest possible (pages
//! of the paged lists plus one per other list), and the wall time against
//! that minimum times the latency divided by the requests in flight.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use super::{Stage, measure};
use crate::cli::BenchArgs;
use orgsplit::error::{Error, Result};

/// Rows per page in the live import stages (the import's default).
const PAGE: usize = 500;

pub fn run(exe: &Path, snapshot: &Path, work: &Path, args: &BenchArgs) -> Result<()> {
    let fake = args.fake_coder.clone().unwrap_or_else(|| default_fake(exe));
    if !fake.is_file() {
        println!(
            "live import: skipped: no fake Coder at {} (build it with `cargo build --release -p fake-coder`)",
            fake.display()
        );
        return Ok(());
    }
    println!("live import against the fake Coder: {} requests in flight, pages of {PAGE}", args.concurrency);
    for latency in [0, args.latency_ms] {
        let mut server = Fake::start(&fake, snapshot, latency)?;
        let stage = Stage {
            name: if latency == 0 { "import --url" } else { "import --url (+latency)" },
            args: vec![
                "import".into(),
                "--url".into(),
                server.url.clone(),
                "--concurrency".into(),
                args.concurrency.to_string(),
                "--page-size".into(),
                PAGE.to_string(),
                "--out".into(),
                work.join("live.json").display().to_string(),
            ],
            ok: &[0],
            env: vec![(orgsplit::coder::TOKEN_ENV.to_string(), std::mem::take(&mut server.token))],
            fresh_dir: None,
        };
        let (wall, peak) = measure(exe, &stage, work)?;
        let (requests, minimum) = server.finish()?;
        let extra = (requests as f64 / minimum.max(1) as f64 - 1.0) * 100.0;
        println!(
            "{:<28} {:>9.2}s {:>8.0} MiB   {requests} requests, minimum {minimum} ({extra:+.1}%)",
            if latency == 0 { stage.name.to_string() } else { format!("import --url (+{latency} ms)") },
            wall.as_secs_f64(),
            peak as f64 / 1024.0,
        );
        if latency > 0 {
            let ideal = Duration::from_millis(latency) * minimum as u32 / u32::from(args.concurrency.max(1));
            println!(
                "{:<28} {:>9.2}s {:>12}   minimum x {latency} ms / {} in flight; measured {:.2}x that",
                "  ideal",
                ideal.as_secs_f64(),
                "",
                args.concurrency,
                wall.as_secs_f64() / ideal.as_secs_f64().max(f64::EPSILON)
            );
        }
    }
    Ok(())
}

/// The apply stage: serve the generated deployment with the fake Coder
/// (`--latency-ms` added to every answer, a provisioner daemon started with
/// each key as soon as it is made), plan the split for the fake's address
/// from the deployment as the fake serves it, and measure `orgsplit apply
/// --yes` carrying it out. apply shows key secrets only on a terminal, so it
/// runs under `script` (util-linux), which gives it one. Printed: wall time,
/// the requests apply counts against the plan's minimum, the requests the
/// fake received (apply's reads before and after included), peak memory, and
/// the ideal wall time (requests x latency / steps in flight); the fake's
/// provisioner wait (one poll, 2 s, per template build) is reported apart.
pub fn apply(exe: &Path, snapshot: &Path, split: &Path, work: &Path, args: &BenchArgs) -> Result<()> {
    let fake = args.fake_coder.clone().unwrap_or_else(|| default_fake(exe));
    if !fake.is_file() {
        println!(
            "apply: skipped: no fake Coder at {} (build it with `cargo build --release -p fake-coder`)",
            fake.display()
        );
        return Ok(());
    }
    let Some(script) = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("script"))
        .find(|p| p.is_file())
    else {
        println!("apply: skipped: no `script` (util-linux) on PATH to give apply a terminal for its key secrets");
        return Ok(());
    };
    let latency = args.latency_ms;
    let mut server = Fake::start_with(&fake, snapshot, latency, &["--start-provisioners"])?;
    let token = std::mem::take(&mut server.token);
    let p = |x: &Path| x.display().to_string();
    let (served, plan) = (work.join("apply-before.json"), work.join("apply-plan.json"));
    let setup = |args: Vec<String>| -> Result<()> {
        let status = Command::new(exe)
            .args(&args)
            .env(orgsplit::coder::TOKEN_ENV, &token)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| Error::read(exe, e))?;
        match status.success() {
            true => Ok(()),
            false => Err(Error::Bug(format!("bench apply setup `orgsplit {}` failed: {status}", args.join(" ")))),
        }
    };
    let concurrency = args.concurrency.to_string();
    setup(vec![
        "import".into(),
        "--url".into(),
        server.url.clone(),
        "--concurrency".into(),
        concurrency.clone(),
        "--out".into(),
        p(&served),
    ])?;
    setup(vec![
        "plan".into(),
        p(&served),
        "--split".into(),
        p(split),
        "--deployment-url".into(),
        server.url.clone(),
        "--out".into(),
        p(&plan),
    ])?;
    let steps = std::fs::read(&plan)
        .ok()
        .and_then(|b| orgsplit::plan::Plan::from_json(&b, &plan).ok())
        .map(|pl| {
            let templates = pl.steps.iter().filter(|s| matches!(s.spec, orgsplit::plan::StepSpec::Template(_))).count();
            (pl.steps.len(), templates)
        })
        .unwrap_or_default();
    let (out, err) = (work.join("apply.out"), work.join("apply.err"));
    let q = |s: &str| orgsplit::plan::shell_word(s);
    let line = format!(
        "{} apply {} --yes --url {} --concurrency {} > {} 2> {}",
        q(&p(exe)),
        q(&p(&plan)),
        q(&server.url),
        args.concurrency,
        q(&p(&out)),
        q(&p(&err))
    );
    let stage = Stage {
        name: "apply",
        args: vec!["-qec".into(), line, "/dev/null".into()],
        // 3: done but for members waiting for their logins or the IdP.
        ok: &[0, 3],
        env: vec![(orgsplit::coder::TOKEN_ENV.to_string(), token)],
        fresh_dir: None,
    };
    let cpu_before = server.cpu();
    let (wall, peak) = measure(&script, &stage, work)?;
    let fake_cpu = server.cpu().zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
    let (received, _) = server.finish()?;
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let counted = text.lines().find_map(|l| {
        let rest = l.strip_prefix("requests: ")?;
        let (made, min) = rest.split_once(" (the plan needs at least ")?;
        Some((made.parse::<u64>().ok()?, min.trim_end_matches(')').parse::<u64>().ok()?))
    });
    let Some((made, minimum)) = counted else {
        return Err(Error::Bug(format!("apply printed no request count; its output is in {}", out.display())));
    };
    println!(
        "apply against the fake Coder: +{latency} ms per answer, {} steps in flight, {} steps ({} templates)",
        args.concurrency, steps.0, steps.1
    );
    println!(
        "{:<28} {:>9.2}s {:>8.0} MiB   {made} requests by the steps, minimum {minimum} ({:.3}x); {received} received by the fake (with apply's reads before and after)",
        "apply",
        wall.as_secs_f64(),
        peak as f64 / 1024.0,
        made as f64 / minimum.max(1) as f64
    );
    let ideal = Duration::from_millis(latency) * made as u32 / u32::from(args.concurrency.max(1));
    let whole = Duration::from_millis(latency) * received as u32 / u32::from(args.concurrency.max(1));
    let builds = Duration::from_secs(2) * steps.1 as u32 / u32::from(args.concurrency.max(1));
    println!(
        "{:<28} {:>9.2}s {:>12}   the steps' requests x {latency} ms / {} in flight ({:.2}s for all {received} received)",
        "  ideal",
        ideal.as_secs_f64(),
        "",
        args.concurrency,
        whole.as_secs_f64()
    );
    println!(
        "{:<28} {:>9.2}s {:>12}   the fake's provisioner wait: one 2 s poll per template build, {} builds / {} in flight",
        "  provisioner wait",
        builds.as_secs_f64(),
        "",
        steps.1,
        args.concurrency
    );
    if let Some(cpu) = fake_cpu {
        println!(
            "{:<28} {:>9.2}s {:>12}   CPU the fake Coder used while apply ran (its writes update only the indexes they touch)",
            "  fake's CPU",
            cpu.as_secs_f64(),
            ""
        );
    }
    Ok(())
}

/// `target/<profile>/fake_coder`, next to `target/<profile>/orgsplit`.
fn default_fake(exe: &Path) -> PathBuf {
    exe.parent().unwrap_or(Path::new(".")).join("fake_coder")
}

/// A running fake Coder: its URL and token, read from its first lines.
struct Fake {
    child: Child,
    stdout: BufReader<ChildStdout>,
    url: String,
    token: String,
}

impl Fake {
    fn start(program: &Path, snapshot: &Path, latency: u64) -> Result<Fake> {
        Fake::start_with(program, snapshot, latency, &[])
    }

    fn start_with(program: &Path, snapshot: &Path, latency: u64, extra: &[&str]) -> Result<Fake> {
        let mut child = Command::new(program)
            .args(["--snapshot", &snapshot.display().to_string(), "--latency-ms", &latency.to_string()])
            .args(["--page-size", &PAGE.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Error::read(program, e))?;
        let stdout = child.stdout.take().ok_or_else(|| Error::Bug("the fake Coder has no stdout".into()))?;
        let mut fake = Fake { child, stdout: BufReader::new(stdout), url: String::new(), token: String::new() };
        fake.url = fake.line("url")?;
        fake.token = fake.line("token")?;
        Ok(fake)
    }

    /// The value of the next `key=value` line.
    fn line(&mut self, key: &str) -> Result<String> {
        let mut line = String::new();
        self.stdout.read_line(&mut line).map_err(|e| Error::read("the fake Coder's output", e))?;
        line.trim_end().strip_prefix(&format!("{key}=")).map(str::to_string).ok_or_else(|| {
            Error::Bug(format!("the fake Coder printed `{}` where `{key}=` was expected", line.trim_end()))
        })
    }

    /// CPU time the server has used so far (user and system, from
    /// `/proc/PID/stat`); `None` where that cannot be read.
    fn cpu(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name (in parentheses, which may hold spaces): utime is the 12th, stime the 13th.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (per_second > 0).then(|| Duration::from_secs_f64(ticks as f64 / per_second as f64))
    }

    /// Stop the server; the requests it received and the minimum it computed.
    fn finish(mut self) -> Result<(u64, u64)> {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let requests = self.line("requests")?.parse().unwrap_or(0);
        let minimum = self.line("minimum")?.parse().unwrap_or(0);
        let _ = self.child.wait();
        Ok((requests, minimum))
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
