//! `orgsplit scripts`: a plan -> one migration script per affected user,
//! `index.csv` and `README.md`, written as one unit that replaces an earlier
//! scripts folder whole (see `output::OutputFolder`).

use crate::cli::ScriptsArgs;
use crate::error::{Error, Result};
use crate::output::OutputFolder;
use crate::render::handout::admin_readme;
use crate::render::scripts::{ScriptContext, index_csv, migration_script, script_name, user_moves};

pub fn run(args: ScriptsArgs) -> Result<u8> {
    crate::render::ssh_hosts::check_ssh_prefix(&args.ssh_prefix)?;
    let plan = super::load_plan(&args.plan)?;
    let url = args.url.as_deref().unwrap_or(&plan.deployment.url);
    if url.is_empty() {
        return Err(Error::Usage(
            "the plan does not say the deployment's address (its snapshot did not know it): pass `--url \
             https://coder.example.com`, or plan again with `--deployment-url https://coder.example.com`"
                .into(),
        ));
    }
    // Refuse a folder orgsplit may not replace before doing any work.
    let mut out = OutputFolder::new(&args.out_dir, "scripts")?;
    let users = user_moves(&plan);
    let ctx = ScriptContext {
        deployment_url: url,
        ssh_prefix: &args.ssh_prefix,
        wiki: &plan.migration.wiki,
        deadline: &plan.migration.deadline,
        plan: &plan.snapshot.fingerprint,
        coder_cli: "coder",
        from_v1: false,
    };
    for u in &users {
        out.add(&script_name(u), migration_script(&ctx, u)?.as_bytes(), Some(0o755))?;
    }
    out.add("index.csv", index_csv(&plan, &users)?.as_bytes(), None)?;
    out.add("README.md", admin_readme(&plan, url, &users).as_bytes(), None)?;
    out.commit()?;
    let workspaces: usize = users.iter().map(|u| u.items.len()).sum();
    eprintln!(
        "wrote {} scripts ({} workspaces), index.csv and README.md to {}",
        users.len(),
        workspaces,
        args.out_dir.display()
    );
    super::OK
}
