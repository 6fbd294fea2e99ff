//! `orgsplit schema`: the JSON Schema of the documents orgsplit writes.

use crate::cli::{SchemaArgs, SchemaDocument};
use crate::error::Result;
use crate::model::Snapshot;
use crate::plan::Plan;

pub fn run(args: SchemaArgs) -> Result<u8> {
    let schema = match args.document {
        SchemaDocument::Snapshot => schemars::schema_for!(Snapshot),
        SchemaDocument::Plan => schemars::schema_for!(Plan),
        SchemaDocument::Split => schemars::schema_for!(crate::split::SplitFile),
    };
    let bytes = crate::json::pretty(&schema)?;
    super::print(&String::from_utf8_lossy(&bytes))?;
    super::OK
}
