//! The bytes of every JSON document orgsplit writes: pretty, with a trailing
//! newline. Pure (no I/O), so the stages that make documents need not depend
//! on the module that writes files.

use crate::error::{Error, Result};

/// Serialise a value as pretty JSON with a trailing newline.
pub fn pretty<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Bug(format!("serialising JSON: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}
