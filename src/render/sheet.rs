//! CSV for spreadsheets: every CSV orgsplit writes (`index.csv` of the
//! scripts, `mailing-list.csv` of the notices) goes through [`Sheet`], so
//! no cell from the deployment can become a formula.
//!
//! A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a
//! formula (`=HYPERLINK(...)` phones home, `=cmd|...` ran programs in old
//! Excel), and tab or carriage return let one slip in after them. As
//! OWASP's CSV-injection guidance says, such a cell gets a leading `'`,
//! which spreadsheets take as "text" and do not show; the csv crate does
//! the quoting.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// A CSV document built in memory, every cell neutralised.
pub struct Sheet {
    w: csv::Writer<Vec<u8>>,
}

impl Default for Sheet {
    fn default() -> Sheet {
        Sheet::new()
    }
}

impl Sheet {
    pub fn new() -> Sheet {
        Sheet { w: csv::Writer::from_writer(Vec::new()) }
    }

    /// One record (the header row too: harmless there, and one path for all).
    pub fn row<I, S>(&mut self, cells: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells.into_iter().map(|c| neutralise(c.as_ref()).into_owned()).collect();
        self.w.write_record(&cells).map_err(csv_bug)
    }

    /// The document as text.
    pub fn finish(self) -> Result<String> {
        let bytes = self.w.into_inner().map_err(|e| Error::Bug(format!("writing CSV to memory: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::Bug(format!("CSV is not UTF-8: {e}")))
    }
}

fn csv_bug(e: csv::Error) -> Error {
    Error::Bug(format!("writing CSV to memory: {e}"))
}

/// A cell a spreadsheet would take as a formula, with a `'` in front.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for (have, want) in [
            ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tX", "'\tX"),
            ("\rY", "'\rY"),
            ("alice", "alice"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(have), want, "{have:?}");
        }
    }

    #[test]
    fn a_sheet_reads_back_with_a_csv_reader() {
        let mut s = Sheet::new();
        s.row(["user", "name"]).unwrap();
        s.row(["-2", "=1+1, \"quoted\"\nline"]).unwrap();
        let text = s.finish().unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][0], "'-2");
        assert_eq!(&rows[0][1], "'=1+1, \"quoted\"\nline");
    }
}
