//! Run tasks on a bounded number of threads. Tasks add tasks (the other
//! pages of a list, an org's lists); the pool ends when none is queued or
//! running, or at the first error.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Condvar, Mutex};

use indicatif::{ProgressBar, ProgressStyle};

use super::tasks::{Done, Task};
use crate::coder::ApiError;

/// What the pool gathered: each task's outcome, keyed (and so ordered) by task.
#[derive(Debug, Default)]
pub struct Outcomes {
    pub done: BTreeMap<Task, Done>,
    /// Tasks whose endpoint answered with an error (kept for the caller to judge).
    pub failed: BTreeMap<Task, ApiError>,
}

struct Queue {
    pending: VecDeque<Task>,
    seen: BTreeSet<Task>,
    running: usize,
    outcomes: Outcomes,
    /// Set when a task failed in a way that ends the import.
    stop: bool,
}

/// Run `initial` and everything it leads to with `threads` workers. `run`
/// does one task; `fatal` says whether its error ends the whole run.
pub fn run(
    initial: Vec<Task>,
    threads: usize,
    progress: &ProgressBar,
    run: &(dyn Fn(&Task) -> Result<Done, ApiError> + Sync),
    fatal: &(dyn Fn(&Task, &ApiError) -> bool + Sync),
) -> Outcomes {
    let queue = Mutex::new(Queue {
        seen: initial.iter().cloned().collect(),
        pending: initial.into(),
        running: 0,
        outcomes: Outcomes::default(),
        stop: false,
    });
    let wake = Condvar::new();
    progress.set_length(queue.lock().map_or(0, |q| q.seen.len() as u64));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| worker(&queue, &wake, progress, run, fatal));
        }
    });
    let queue = queue.into_inner().unwrap_or_else(|p| p.into_inner());
    queue.outcomes
}

fn worker(
    queue: &Mutex<Queue>,
    wake: &Condvar,
    progress: &ProgressBar,
    run: &(dyn Fn(&Task) -> Result<Done, ApiError> + Sync),
    fatal: &(dyn Fn(&Task, &ApiError) -> bool + Sync),
) {
    loop {
        let task = {
            let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if q.stop {
                    return;
                }
                if let Some(task) = q.pending.pop_front() {
                    q.running += 1;
                    break task;
                }
                if q.running == 0 {
                    return;
                }
                q = wake.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        // Ids in the path come from the server: nothing of theirs drives the terminal.
        progress.set_message(crate::render::plain(&task.endpoint(0).segments().join("/")));
        let result = run(&task);
        let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
        q.running -= 1;
        match result {
            Ok(mut done) => {
                for next in std::mem::take(&mut done.spawn) {
                    if q.seen.insert(next.clone()) {
                        q.pending.push_back(next);
                    }
                }
                progress.set_length(q.seen.len() as u64);
                q.outcomes.done.insert(task, done);
            }
            Err(e) => {
                if fatal(&task, &e) {
                    q.stop = true;
                }
                q.outcomes.failed.insert(task, e);
            }
        }
        progress.inc(1);
        wake.notify_all();
    }
}

/// A bar on stderr when it is a terminal; hidden otherwise.
pub fn progress_bar(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let style =
        ProgressStyle::with_template("{spinner} reading the deployment [{bar:30}] {pos}/{len} requests {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_spawn_tasks_once_and_all_run() {
        let run = |t: &Task| -> Result<Done, ApiError> {
            let spawn = match t {
                Task::Users { offset: 0 } => (1..5).map(|i| Task::Users { offset: i * 10 }).collect(),
                // Spawning a task already seen does not run it twice.
                Task::Users { offset: 20 } => vec![Task::Users { offset: 10 }, Task::Me],
                _ => Vec::new(),
            };
            Ok(Done { spawn, ..Done::default() })
        };
        let out = run_tasks(vec![Task::Users { offset: 0 }, Task::Me], 3, &run);
        let ran: Vec<&Task> = out.done.keys().collect();
        assert_eq!(ran.len(), 6, "{ran:?}");
        assert!(out.failed.is_empty());
    }

    #[test]
    fn a_fatal_error_stops_the_pool() {
        let run = |t: &Task| -> Result<Done, ApiError> {
            match t {
                Task::Me => Err(ApiError {
                    method: "GET".into(),
                    path: "/api/v2/users/me".into(),
                    base: "http://x".into(),
                    kind: Box::new(crate::coder::ErrorKind::Transport("reset".into())),
                    attempts: 1,
                    maybe_applied: false,
                }),
                _ => Ok(Done { spawn: vec![Task::Users { offset: 1 }], ..Done::default() }),
            }
        };
        let out = run_tasks(vec![Task::Me], 2, &run);
        assert_eq!(out.failed.len(), 1);
        assert!(out.done.is_empty());
    }

    fn run_tasks(initial: Vec<Task>, threads: usize, f: &(dyn Fn(&Task) -> Result<Done, ApiError> + Sync)) -> Outcomes {
        run(initial, threads, &ProgressBar::hidden(), f, &|_, _| true)
    }
}
