//! `cargo xtask fixture`: write the MegaCo example or a generated deployment
//! as an export folder.

use std::path::Path;

use crate::cli::FixtureCommand;
use fixtures::{self as fixture, Deployment};
use orgsplit::error::Result;
use orgsplit::output::FolderWriter;

pub fn run(command: FixtureCommand) -> Result<u8> {
    let megaco = matches!(command, FixtureCommand::Megaco(_));
    // A generated deployment comes with a split to plan (MegaCo's is hand-written and committed).
    let (deployment, dir, split) = match command {
        FixtureCommand::Generate(args) => {
            let mut deployment = fixture::generate(args.users, args.seed);
            deployment.full_bodies = args.full_bodies;
            let split = fixture::generated_split_toml(&deployment)?;
            (deployment, args.out_dir, Some(("split.toml", split)))
        }
        FixtureCommand::Megaco(args) => (fixture::megaco(), args.out_dir, None),
        FixtureCommand::Scenario(args) => {
            let s = fixture::scenario::scenario(args.seed);
            let mut truth = String::new();
            for e in &s.truth.groups {
                let joins = e.joins.as_deref().map(|j| format!(" (joins {j})")).unwrap_or_default();
                truth.push_str(&format!("{}\t{}\t{}{joins}\n", e.group, e.case, e.verdict));
            }
            for (t, k, v) in &s.truth.signals {
                truth.push_str(&format!("signal\t{t}\t{k}\t{v}\n"));
            }
            (s.deployment, args.out_dir, Some(("truth.txt", truth)))
        }
        FixtureCommand::MegacoV1(args) => return megaco_v1(&args.out_dir),
    };
    let n = write(&deployment, &dir, split.as_ref().map(|(n, t)| (*n, t.as_str())), megaco)?;
    eprintln!(
        "wrote {n} files to {}: {} users, {} groups, {} templates, {} workspaces",
        dir.display(),
        deployment.snapshot.users.len(),
        deployment.snapshot.groups.iter().filter(|g| !g.is_everyone()).count(),
        deployment.snapshot.templates.len(),
        deployment.snapshot.workspaces.len()
    );
    eprintln!(
        "import it with: orgsplit import --from-dir {0}/export --people {0}/people.csv --template-sources {0}/template-sources --out snapshot.json",
        dir.display()
    );
    Ok(0)
}

/// Write every file of the deployment into `dir` (all or nothing).
/// `extra` is one more file: (name, text). With `snapshot`, also the
/// snapshot the built-in example embeds (`snapshot.json`, see
/// `orgsplit::fixture`), imported from the same files.
pub fn write(deployment: &Deployment, dir: &Path, split: Option<(&str, &str)>, snapshot: bool) -> Result<usize> {
    let mut writer = FolderWriter::new(dir)?;
    let files = fixture::export_files(deployment);
    if snapshot {
        let imported = orgsplit::fixture::import_example(&files)?;
        writer.add("snapshot.json", &imported.to_json()?, None)?;
    }
    for (path, bytes) in files {
        writer.add(&path, &bytes, None)?;
    }
    if let Some(split) = split {
        writer.add(split.0, split.1.as_bytes(), None)?;
    }
    writer.commit()
}

/// Write the MegaCo v1 example's export folder (all or nothing).
fn megaco_v1(dir: &Path) -> Result<u8> {
    let mut writer = FolderWriter::new(dir)?;
    for (path, bytes) in fixture::megaco_v1_files() {
        writer.add(&path, &bytes, None)?;
    }
    let n = writer.commit()?;
    eprintln!("wrote {n} files to {}", dir.display());
    eprintln!("import it with: orgsplit import --from-dir {}/export --out v1.json", dir.display());
    Ok(0)
}
