//! The live-import stages of `orgsplit bench`: serve the generated
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
        let mut child = Command::new(program)
            .args(["--snapshot", &snapshot.display().to_string(), "--latency-ms", &latency.to_string()])
            .args(["--page-size", &PAGE.to_string()])
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
