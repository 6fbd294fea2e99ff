//! `orgsplit v1-plan`: a Coder v1 snapshot and the target v2 deployment's
//! snapshot -> the v1 plan (JSON), and a folder with the generated
//! templates, per-user scripts and notices, and the plan in words.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::cli::V1PlanArgs;
use crate::error::{Error, Result};
use crate::output::{self, OutputFolder};
use crate::v1::plan::{self as v1plan, Inputs, V1Split};
use crate::v1::render;
use crate::v1::v2plan::{V2Inputs, v2_plan};

pub fn run(mut args: V1PlanArgs) -> Result<u8> {
    let json = matches!(args.output, Some(crate::cli::JsonOrFile::Json));
    args.out = super::out_file(args.out.take(), args.output.take())?;
    let given_url = super::api::given_deployment_url(args.url.as_deref())?;
    // Refuse a folder orgsplit may not replace before doing any work.
    let folder = args.out_dir.as_deref().map(|d| OutputFolder::new(d, "v1-plan")).transpose()?;
    let v1 = super::access::load(args.snapshot.as_deref())?;
    let target = args.target.as_deref().map(|p| super::load_snapshot(Some(p))).transpose()?;
    let split = args.split.as_deref().map(|p| read_split(p, &v1)).transpose()?;
    let plan =
        v1plan::plan(&Inputs { v1: &v1, target: target.as_ref(), split: split.as_ref().map(|(s, d)| (s, d.clone())) })?;
    let summary = render::summary(&plan);
    if let Some(path) = &args.out {
        output::write_atomic(path, &plan.to_json()?)?;
    }
    if let (Some(path), Some(target)) = (&args.v2_plan, &target) {
        let inputs = V2Inputs {
            target,
            split_file: args
                .split
                .as_ref()
                .map_or("(each v1 organization to its namesake)".into(), |p| p.display().to_string()),
            wiki: args.wiki.clone(),
            deadline: args.deadline.clone(),
        };
        let v2 = v2_plan(&plan, &inputs)?;
        output::write_atomic(path, &v2.to_json()?)?;
        super::note(&format!(
            "wrote {} (the v2 side as an orgsplit plan: {} to create, {} to update, {} as they are): review it with              `orgsplit diff {} --snapshot TARGET`, carry it out with `orgsplit apply`",
            path.display(),
            v2.summary.create,
            v2.summary.update,
            v2.summary.no_op,
            path.display()
        ));
    }
    if let Some(mut folder) = folder {
        let url = given_url.as_deref().unwrap_or(&plan.target.url);
        for (name, text) in render::template_files(&plan)? {
            folder.add(&format!("templates/{name}"), text.as_bytes(), None)?;
        }
        for (name, text) in render::script_files(&plan, url, &args.deadline, &args.wiki)? {
            let mode = name.ends_with(".sh").then_some(0o755);
            folder.add(&format!("scripts/{name}"), text.as_bytes(), mode)?;
        }
        for (name, text) in render::notice_files(&plan, url, &args.deadline) {
            folder.add(&format!("notices/{name}"), text.as_bytes(), None)?;
        }
        folder.add("plan.md", summary.as_bytes(), None)?;
        folder.commit()?;
        if url.is_empty() {
            super::note(
                "the scripts do not know the v2 deployment's address: pass `--url https://coder.example.com` (or a \
                 --target snapshot that knows it)",
            );
        }
    }
    if json && args.out.is_none() {
        super::print(&String::from_utf8_lossy(&plan.to_json()?))?;
    } else if args.out.is_none() && args.out_dir.is_none() {
        super::print(&summary)?;
    }
    let risks = plan.findings.iter().filter(|f| f.severity == crate::plan::Severity::Risk).count();
    super::note(&format!(
        "v1 plan: {} organizations, {} members, {} templates from images, {} workspaces to move ({} users), {} v1-only \
         features, {} findings ({} risks)",
        plan.organizations.len(),
        plan.members.len(),
        plan.templates.len(),
        plan.workspaces.len(),
        render::user_moves(&plan).len(),
        plan.v1_only.len(),
        plan.findings.len(),
        risks
    ));
    super::OK
}

pub(super) fn read_split(path: &Path, v1: &crate::v1::V1Snapshot) -> Result<(V1Split, String)> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::input(path, "the v1 split file is not UTF-8 text"))?;
    let split = V1Split::load(text, path, v1)?;
    Ok((split, format!("sha256:{}", crate::model::hex(&Sha256::digest(&bytes)))))
}
