//! The one layout rule of `terraform fmt` that hcl-rs does not follow: the
//! `=` of consecutive one-line attributes at the same indentation line up.
//! Only spaces before `=` change; the tokens are hcl-rs's. A line that opens
//! a multi-line value (`acl = {`) or anything that is not an attribute ends
//! a run, as in `terraform fmt`.

/// `text` (as hcl-rs wrote it) with the `=` of each run aligned.
pub fn align(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < lines.len() {
        let Some((indent, key_end)) = attribute(lines[i]) else {
            out.push_str(lines[i]);
            i += 1;
            continue;
        };
        let mut run = vec![(i, key_end)];
        let mut j = i + 1;
        while j < lines.len() {
            match attribute(lines[j]) {
                Some((ind, k)) if ind == indent => run.push((j, k)),
                _ => break,
            }
            j += 1;
        }
        let width = run.iter().map(|&(_, k)| k).max().unwrap_or(0);
        for (n, k) in run {
            let line = lines[n];
            out.push_str(&line[..k]);
            out.extend(std::iter::repeat_n(' ', width - k));
            out.push_str(&line[k..]);
        }
        i = j;
    }
    out
}

/// For `  key = value` on one line: (indent, byte offset where the key ends).
fn attribute(line: &str) -> Option<(usize, usize)> {
    let body = line.trim_end_matches('\n');
    let indent = body.len() - body.trim_start_matches(' ').len();
    let rest = &body[indent..];
    let key_len = if let Some(quoted) = rest.strip_prefix('"') {
        let mut escaped = false;
        let close = quoted.char_indices().find(|&(_, c)| {
            let end = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            end
        })?;
        close.0 + 2
    } else {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).filter(|&n| n > 0)?
    };
    let after = &rest[key_len..];
    if !after.starts_with(" = ") {
        return None;
    }
    // A value that opens on this line and goes on below is not aligned.
    if body.ends_with('{') || body.ends_with('[') || body.ends_with('(') {
        return None;
    }
    Some((indent, indent + key_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_align_and_openers_break_them() {
        let have = "resource \"a\" \"b\" {\n  name = \"x\"\n  display_name = \"a = b\"\n  tags = {\n    \"k = \\\"v\" = \"1\"\n    long_one = 2\n  }\n  x = 1\n}\n";
        let want = "resource \"a\" \"b\" {\n  name         = \"x\"\n  display_name = \"a = b\"\n  tags = {\n    \"k = \\\"v\" = \"1\"\n    long_one  = 2\n  }\n  x = 1\n}\n";
        // What `terraform fmt` 1.11 makes of `have`.
        assert_eq!(align(have), want);
    }
}
