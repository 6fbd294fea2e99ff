//! Work shared between cores (the machine orgsplit is measured on has two):
//! independent items, one part per core, results in their order; two
//! pieces of work side by side; or work on a second core whose result is
//! waited for where it is needed. The one place orgsplit starts threads for
//! speed (scoped: they end before the caller returns). Threads for I/O
//! concurrency (live import's and apply's requests in flight) live with
//! that I/O.

/// `(here(), there())`, `there` run on a second core. A panic in either goes
/// on as the panic it was.
pub fn join<A, B: Send>(here: impl FnOnce() -> A, there: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|scope| {
        let there = scope.spawn(there);
        let here = here();
        (here, there.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

/// `here(later)`, with `there()` run on a second core meanwhile; `here`
/// takes its result with [`Later::wait`] when it needs it.
pub fn beside<A, B: Send>(there: impl FnOnce() -> B + Send, here: impl FnOnce(Later<'_, B>) -> A) -> A {
    std::thread::scope(|scope| here(Later(scope.spawn(there))))
}

/// The result of work started on a second core by [`beside`].
pub struct Later<'scope, B>(std::thread::ScopedJoinHandle<'scope, B>);

impl<B> Later<'_, B> {
    /// Wait for the result. A panic there goes on here as the panic it was.
    pub fn wait(self) -> B {
        self.0.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// Wait for the result; `None` when the work panicked (for work that is
    /// only a shortcut, whose caller has a plain way to fall back on).
    pub fn wait_if_done(self) -> Option<B> {
        self.0.join().ok()
    }
}

/// The cores this process may use (at least one).
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// `items.iter().enumerate().map(f).collect()`, the items cut into one part
/// per available core, each part on its own thread (the first on this
/// one). The result is the same, in the same order.
pub fn map_parts<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    map_in_parts(items, available(), f)
}

fn map_in_parts<T: Sync, R: Send>(items: &[T], parts: usize, f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let size = items.len().div_ceil(parts.clamp(1, items.len().max(1))).max(1);
    let f = &f;
    let part =
        move |k: usize, chunk: &[T]| -> Vec<R> { chunk.iter().enumerate().map(|(i, x)| f(k * size + i, x)).collect() };
    let mut chunks = items.chunks(size).enumerate();
    let Some((_, first)) = chunks.next() else { return Vec::new() };
    std::thread::scope(|scope| {
        let later: Vec<_> = chunks.map(|(k, chunk)| scope.spawn(move || part(k, chunk))).collect();
        let mut out: Vec<R> = Vec::with_capacity(items.len());
        out.extend(part(0, first));
        for handle in later {
            out.extend(handle.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

/// `for x in items { take(work(x))? }`, with the odd items' `work` done on a
/// second core a few items ahead: `take` still sees every result in the
/// items' order, on this thread, and no more than `AHEAD` results wait at
/// once (so a long list is never held whole). The first error stops both.
pub fn in_order<T: Sync, R: Send, E>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
    mut take: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    const AHEAD: usize = 2;
    if items.len() < 2 {
        return items.iter().try_for_each(|x| take(work(x)));
    }
    let work = &work;
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<R>(AHEAD);
        let there = scope.spawn(move || {
            for x in items.iter().skip(1).step_by(2) {
                if send.send(work(x)).is_err() {
                    return; // this side stopped at an error
                }
            }
        });
        let result = (|| {
            for (i, x) in items.iter().enumerate() {
                let r = if i % 2 == 0 {
                    work(x)
                } else {
                    match receive.recv() {
                        Ok(r) => r,
                        Err(_) => return Ok(()), // it panicked: joined below
                    }
                };
                take(r)?;
            }
            Ok(())
        })();
        drop(receive);
        there.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        result
    })
}

#[cfg(test)]
mod tests {
    use super::{beside, in_order, join, map_in_parts, map_parts};

    #[test]
    fn in_order_takes_every_result_in_order_and_stops_at_the_first_error() {
        for n in [0, 1, 2, 3, 10, 1001] {
            let items: Vec<u64> = (0..n).collect();
            let mut seen = Vec::new();
            let done: Result<(), ()> = in_order(
                &items,
                |x| x * 3,
                |r| {
                    seen.push(r);
                    Ok(())
                },
            );
            assert_eq!(done, Ok(()));
            assert_eq!(seen, items.iter().map(|x| x * 3).collect::<Vec<_>>(), "{n} items");
        }
        let items: Vec<u64> = (0..100).collect();
        for stop in [0, 1, 2, 57, 99] {
            let mut seen = Vec::new();
            let done = in_order(
                &items,
                |x| *x,
                |r| {
                    if r == stop {
                        return Err(r);
                    }
                    seen.push(r);
                    Ok(())
                },
            );
            assert_eq!(done, Err(stop));
            assert_eq!(seen, (0..stop).collect::<Vec<_>>());
        }
    }

    #[test]
    fn in_order_goes_on_with_a_panic_of_the_second_core() {
        let items: Vec<u64> = (0..10).collect();
        let r = std::panic::catch_unwind(|| {
            in_order(&items, |x| if *x == 5 { panic!("five") } else { *x }, |_| Ok::<(), ()>(()))
        });
        assert_eq!(r.unwrap_err().downcast_ref::<&str>(), Some(&"five"));
    }

    #[test]
    fn join_gives_both_results_and_a_panic_goes_on() {
        assert_eq!(join(|| 1, || "two"), (1, "two"));
        let there = std::panic::catch_unwind(|| join(|| (), || panic!("there")));
        assert_eq!(there.unwrap_err().downcast_ref::<&str>(), Some(&"there"));
    }

    #[test]
    fn beside_gives_the_result_where_it_is_waited_for() {
        assert_eq!(beside(|| 2, |later| 40 + later.wait()), 42);
        assert_eq!(beside(|| -> u8 { panic!("there") }, |later| later.wait_if_done()), None);
        let there = std::panic::catch_unwind(|| beside(|| -> u8 { panic!("there") }, |later| later.wait()));
        assert_eq!(there.unwrap_err().downcast_ref::<&str>(), Some(&"there"));
    }

    #[test]
    fn parts_give_what_one_pass_gives_in_order() {
        for n in [0, 1, 2, 3, 10, 1001] {
            let items: Vec<u64> = (0..n).map(|i| i * 7 % 13).collect();
            let one: Vec<(usize, u64)> = items.iter().enumerate().map(|(i, x)| (i, x * x)).collect();
            assert_eq!(map_parts(&items, |i, x| (i, x * x)), one, "{n} items");
            for parts in [1, 2, 3, 7, 64] {
                assert_eq!(map_in_parts(&items, parts, |i, x| (i, x * x)), one, "{n} items in {parts} parts");
            }
        }
    }
}
