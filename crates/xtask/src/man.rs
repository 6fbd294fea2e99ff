//! `cargo xtask man`: orgsplit's man pages, generated from its clap
//! definitions (clap_mangen), for packagers to install: `orgsplit.1` and one
//! page per subcommand (`orgsplit-import.1`, `orgsplit-rules-list.1`, ...),
//! written into the folder as one unit. clap_mangen lives here, not in the
//! product: a binary gains nothing from carrying its own man pages.

use clap::CommandFactory;
use orgsplit::error::{Error, Result};
use orgsplit::output::OutputFolder;

use crate::cli::ManArgs;

pub fn run(args: ManArgs) -> Result<u8> {
    let pages = pages()?;
    let mut folder = OutputFolder::new(&args.out_dir, "man")?;
    for (name, page) in &pages {
        folder.add(name, page, None)?;
    }
    folder.commit()?;
    eprintln!("wrote {} man pages to {}", pages.len(), args.out_dir.display());
    Ok(0)
}

/// Every page, named as `man` finds it: the command's, then each
/// subcommand's, depth first, in the order of `orgsplit --help`.
pub fn pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = orgsplit::cli::Cli::command();
    // Building gives each subcommand its full name (`orgsplit-rules-list`) and usage line.
    cmd.build();
    let mut pages = Vec::new();
    add(&cmd, &mut pages)?;
    Ok(pages)
}

fn add(cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render(&mut page).map_err(|e| Error::Bug(format!("rendering a man page into memory: {e}")))?;
    pages.push((man.get_filename(), page));
    // clap's own `help` subcommand has nothing a page would add.
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        add(sub, pages)?;
    }
    Ok(())
}
