//! The import stages of the bench (issue 15 §5): `orgsplit import` of an
//! export folder beside jq counting that folder's workspaces per template,
//! run in turns so both see the same load, for two exports of one
//! deployment: the bodies as the generator writes them, and with every field
//! a real server sends (`fixture generate --full-bodies`, about twice the bytes).

use std::path::{Path, PathBuf};

use super::{Measured, Stage, dir_size};
use crate::cli::BenchArgs;
use orgsplit::error::Result;

/// What jq runs: every workspace of every page counted by template id. The
/// files are all the export folder's `.json` files, so jq reads the bytes
/// import reads; `objects` passes over the files that are arrays.
pub const JQ_PROGRAM: &str = "reduce (inputs | objects | .workspaces // empty | .[]) as $w ({}; .[$w.template_id] += 1) \
                              | [length, add]";

/// The import's targets: peak memory and its time against jq's.
const PEAK_TARGET_KIB: u64 = 1 << 20;
const RATIO_TARGET: f64 = 0.25;

/// Import `fixture`'s export folder into `snapshot` and run jq over it, each
/// `args.runs` times in turns; print both, the ratio and the targets.
pub fn compare(exe: &Path, fixture: &Path, snapshot: &Path, work: &Path, args: &BenchArgs, label: &str) -> Result<()> {
    let p = |x: &Path| x.display().to_string();
    let export = fixture.join("export");
    let import = Stage {
        name: "import",
        args: vec![
            "import".into(),
            "--from-dir".into(),
            p(&export),
            "--people".into(),
            p(&fixture.join("people.csv")),
            "--template-sources".into(),
            p(&fixture.join("template-sources")),
            "--out".into(),
            p(snapshot),
        ],
        ok: &[0],
        ..Default::default()
    };
    let mut jq_args = vec!["-n".to_string(), "-c".to_string(), JQ_PROGRAM.to_string()];
    jq_args.extend(json_files(&export).iter().map(|f| p(f)));
    let jq = Stage { name: "jq", args: jq_args, ok: &[0], ..Default::default() };
    let jq_out = work.join("jq.stdout");
    let has_jq = args.jq.is_file();
    let (mut imports, mut jqs) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        imports.push(run(exe, &import, work, None)?);
        if has_jq {
            jqs.push(run(&args.jq, &jq, work, Some(&jq_out))?);
        }
    }
    let counted = std::fs::read_to_string(&jq_out).unwrap_or_default();
    let (i, j) = (Measured::of(&imports), Measured::of(&jqs));
    let bytes = dir_size(&export);
    println!(
        "{label}: export folder {:.0} MiB ({bytes} bytes); jq counted [templates, workspaces] = {}",
        bytes as f64 / 1048576.0,
        counted.trim()
    );
    let line = |name: &str, m: &Measured| {
        println!(
            "{:<28} {:>9.2}s {:>8.0} MiB   ({:.2}-{:.2} s)",
            name,
            m.median,
            m.peak_kib as f64 / 1024.0,
            m.fastest,
            m.slowest
        )
    };
    line(&format!("import ({label})"), &i);
    if !has_jq {
        println!("jq ({label}): skipped ({} not found; --jq PATH)", args.jq.display());
        return Ok(());
    }
    line(&format!("jq ({label})"), &j);
    let ratio = i.median / j.median.max(1e-9);
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "import/jq ({label}): {ratio:.3}x (target under {RATIO_TARGET}x: {}); import peak {:.0} MiB (target under 1 GiB: {})",
        met(ratio < RATIO_TARGET),
        i.peak_kib as f64 / 1024.0,
        met(i.peak_kib < PEAK_TARGET_KIB),
    );
    Ok(())
}

/// Generate the deployment again with full bodies (`fixture-full`), and
/// [`compare`] on it.
pub fn full_bodies(xtask: &Path, exe: &Path, work: &Path, args: &BenchArgs) -> Result<()> {
    let fixture = work.join("fixture-full");
    let generate = Stage {
        name: "fixture generate --full-bodies",
        args: vec![
            "fixture".into(),
            "generate".into(),
            "--users".into(),
            args.users.to_string(),
            "--full-bodies".into(),
            "--out-dir".into(),
            fixture.display().to_string(),
        ],
        ok: &[0],
        ..Default::default()
    };
    let (wall, peak) = run(xtask, &generate, work, None)?;
    println!("{:<28} {:>9.2}s {:>8.0} MiB", "fixture generate (full)", wall.as_secs_f64(), peak as f64 / 1024.0);
    compare(exe, &fixture, &work.join("snapshot-full.json"), work, args, "full bodies")
}

/// The export folder's `.json` files, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".json"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// One run of a stage, its standard output kept in `stdout` (jq's counts) or
/// dropped; its wall time and peak resident memory (KiB).
fn run(exe: &Path, stage: &Stage, work: &Path, stdout: Option<&Path>) -> Result<(std::time::Duration, u64)> {
    super::measure_to(exe, stage, work, 1, stdout)
}
