//! The command line itself (issue 13 §5): one meaning per flag in every
//! command, the old spellings still working with a note, `--by` checked by
//! clap, `CODER_URL` through clap, the commands in the order of the work, and
//! the completion scripts generated from the same definitions.

use clap::CommandFactory;
use orgsplit::cli::Cli;

use crate::common::*;

/// The user commands, in the order `orgsplit --help` lists them.
const COMMANDS: [&str; 16] = [
    "import",
    "inventory",
    "score",
    "rules",
    "plan",
    "diff",
    "report",
    "apply",
    "revert",
    "scripts",
    "notices",
    "export",
    "access",
    "v1-plan",
    "schema",
    "completions",
];

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_lists_the_user_commands_in_the_order_of_the_work() {
    let out = orgsplit().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert_eq!(listed, COMMANDS, "{help}");
}

/// Every flag spelled `-o`/`--output` takes a format (it lists its values);
/// files are `--out FILE`, folders `--out-dir DIR`.
#[test]
fn dash_o_names_a_format_in_every_command() {
    fn walk(cmd: &clap::Command, path: &str, seen: &mut usize) {
        for arg in cmd.get_arguments() {
            let long = arg.get_long().unwrap_or_default();
            if arg.get_short() == Some('o') || long == "output" {
                assert_eq!((arg.get_short(), long), (Some('o'), "output"), "{path}: -o and --output go together");
                let values: Vec<String> = arg.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
                assert!(values.contains(&"json".to_string()), "{path} -o: a format, with json among {values:?}");
                *seen += 1;
            }
            if long == "out" {
                assert_eq!(arg.get_value_names().unwrap()[0], "FILE", "{path} --out");
            }
            if long == "out-dir" {
                assert_eq!(arg.get_value_names().unwrap()[0], "DIR", "{path} --out-dir");
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), seen);
        }
    }
    let mut seen = 0;
    walk(&Cli::command(), "orgsplit", &mut seen);
    // import, inventory, score, rules list, rules explain, plan, diff, report, access, v1-plan.
    assert_eq!(seen, 10);
}

#[test]
fn import_dash_o_file_still_works_with_a_deprecation_note() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.json"), dir.path().join("new.json"));
    let export = megaco().join("export");
    let run = orgsplit().args(["import", "--from-dir"]).arg(&export).arg("-o").arg(&old).output().unwrap();
    assert!(run.status.success(), "{}", stderr_of(&run));
    let note = format!(
        "note: `-o {0}` is deprecated: `-o`/`--output` names a format in every orgsplit command; write `--out {0}`",
        old.display()
    );
    assert!(stderr_of(&run).starts_with(&note), "{}", stderr_of(&run));
    let run = orgsplit().args(["import", "--from-dir"]).arg(&export).arg("--out").arg(&new).output().unwrap();
    assert!(run.status.success() && !stderr_of(&run).contains("deprecated"), "{}", stderr_of(&run));
    assert_eq!(std::fs::read(&old).unwrap(), std::fs::read(&new).unwrap());
    // `--output FILE`, the long spelling, too.
    let long = dir.path().join("long.json");
    let run = orgsplit().args(["import", "--from-dir"]).arg(&export).arg("--output").arg(&long).output().unwrap();
    assert!(run.status.success() && stderr_of(&run).contains("is deprecated"), "{}", stderr_of(&run));
    assert_eq!(std::fs::read(&long).unwrap(), std::fs::read(&new).unwrap());
}

#[test]
fn import_needs_a_file_to_write() {
    let run = orgsplit().args(["import", "--from-dir"]).arg(megaco().join("export")).output().unwrap();
    assert_eq!(run.status.code(), Some(64));
    assert!(stderr_of(&run).contains("say where to write the snapshot: --out FILE"), "{}", stderr_of(&run));
    let run = orgsplit().args(["import", "--from-dir", "x", "-o", "a.json", "--out", "b.json"]).output().unwrap();
    assert_eq!(run.status.code(), Some(64));
    assert!(stderr_of(&run).contains("give the file once"), "{}", stderr_of(&run));
}

#[test]
fn plan_dash_o_file_still_works_and_dash_o_json_prints_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.json"), dir.path().join("new.json"));
    let split = megaco().join("split.toml");
    let run = orgsplit().arg("plan").arg("--split").arg(&split).arg("-o").arg(&old).output().unwrap();
    assert!(run.status.success(), "{}", stderr_of(&run));
    assert!(stderr_of(&run).contains(&format!("note: `-o {}` is deprecated", old.display())), "{}", stderr_of(&run));
    let run = orgsplit().arg("plan").arg("--split").arg(&split).arg("--out").arg(&new).output().unwrap();
    assert!(run.status.success() && !stderr_of(&run).contains("deprecated"), "{}", stderr_of(&run));
    assert_eq!(std::fs::read(&old).unwrap(), std::fs::read(&new).unwrap());
    // `-o json` is the format: the plan on standard output, no file.
    let run = orgsplit().current_dir(dir.path()).arg("plan").arg("--split").arg(&split).args(["-o", "json"]).output();
    let run = run.unwrap();
    assert!(run.status.success() && !stderr_of(&run).contains("deprecated"), "{}", stderr_of(&run));
    assert_eq!(run.stdout, std::fs::read(&new).unwrap());
    assert!(!dir.path().join("json").exists());
}

#[test]
fn coder_url_in_the_shell_does_not_stand_in_the_way_of_an_export_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let run = orgsplit()
        .env("CODER_URL", "https://coder.example.com")
        .args(["import", "--from-dir"])
        .arg(megaco().join("export"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr_of(&run));
    assert!(out.exists());
}

#[test]
fn help_names_coder_url_but_shows_no_value_from_the_environment() {
    for command in ["import", "apply"] {
        let out = orgsplit()
            .env("CODER_URL", "https://url-from-env.example.com")
            .env("CODER_SESSION_TOKEN", "Secret0Id-secret0value0never0shown")
            .args([command, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("[env: CODER_URL]"), "{command}: {help}");
        assert!(!help.contains("url-from-env") && !help.contains("secret0value"), "{command}: {help}");
    }
}

#[test]
fn by_is_checked_by_the_command_line_with_the_choices_listed() {
    for command in ["score", "report"] {
        let run = orgsplit().args([command, "--by", "claim:"]).output().unwrap();
        assert_eq!(run.status.code(), Some(64), "{command}");
        let err = stderr_of(&run);
        assert!(
            err.contains("invalid value 'claim:' for '--by <HOW>': expected `groups`, `claim:FIELD`")
                && err.contains("`people:COLUMN` (e.g. `people:department`) or `none`"),
            "{command}: {err}"
        );
    }
    // A parsed value reaches the scoring: a column the people file lacks is named.
    let run = orgsplit().args(["score", "--by", "people:nosuchcolumn"]).output().unwrap();
    assert_eq!(run.status.code(), Some(64));
    assert!(stderr_of(&run).contains("`--by people:nosuchcolumn`"), "{}", stderr_of(&run));
}

#[test]
fn completions_cover_every_command_in_each_shell() {
    let bash = orgsplit().args(["completions", "bash"]).output().unwrap();
    assert!(bash.status.success());
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(script.contains("complete -F _orgsplit"), "not a bash completion script");
    for command in COMMANDS {
        assert!(script.contains(&format!("orgsplit,{command})")), "bash completion lacks `{command}`");
    }
    // Formats and subcommands of subcommands are completed too.
    assert!(script.contains("orgsplit__subcmd__rules,explain)") && script.contains("table json markdown"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = orgsplit().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("inventory") && script.contains("completions"), "{shell}: {script}");
    }
    let bad = orgsplit().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(64));
    assert!(stderr_of(&bad).contains("[possible values: bash, elvish, fish, powershell, zsh]"), "{}", stderr_of(&bad));
}
