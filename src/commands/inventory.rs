//! `orgsplit inventory`: what the deployment holds, per organization.

use crate::cli::InventoryArgs;
use crate::error::Result;
use crate::{inventory, render};

pub fn run(args: InventoryArgs) -> Result<u8> {
    let snapshot = super::load_snapshot(args.snapshot.as_deref())?;
    let inv = inventory::inventory(&snapshot);
    super::print(&render::inventory::render(&inv, args.output.into())?)?;
    super::OK
}
