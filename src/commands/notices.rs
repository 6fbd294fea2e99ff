//! `orgsplit notices`: a plan -> deprecation notices per template and per
//! user (Markdown and plain text) and a mailing list, written as one unit
//! that replaces an earlier notices folder whole.

use crate::cli::NoticesArgs;
use crate::error::{Error, Result};
use crate::output::OutputFolder;
use crate::render::notices::notices;
use crate::render::scripts::user_moves;

pub fn run(args: NoticesArgs) -> Result<u8> {
    let plan = super::load_plan(&args.plan)?;
    if plan.deployment.url.is_empty() {
        // The notices tell people where their new workspaces are: never a guess.
        return Err(Error::Usage(
            "the plan does not say the deployment's address, which the notices give their readers: plan again with \
             `--deployment-url https://coder.example.com`"
                .into(),
        ));
    }
    // Refuse a folder orgsplit may not replace before doing any work.
    let mut out = OutputFolder::new(&args.out_dir, "notices")?;
    let users = user_moves(&plan);
    let files = notices(&plan, &users)?;
    for (path, text) in &files {
        out.add(path, text.as_bytes(), None)?;
    }
    out.commit()?;
    eprintln!("wrote {} notice files for {} users to {}", files.len(), users.len(), args.out_dir.display());
    super::OK
}
