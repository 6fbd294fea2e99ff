//! Work shared between two cores (the machine orgsplit is measured on has
//! two): independent items, split in halves, results in their order.

/// `(here(), there())`, `there` run on a second core. A panic in either goes
/// on as the panic it was.
pub fn join<A, B: Send>(here: impl FnOnce() -> A, there: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|scope| {
        let there = scope.spawn(there);
        let here = here();
        (here, there.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

/// `items.iter().enumerate().map(f).collect()`, the second half of the items
/// on a second core. The result is the same, in the same order.
pub fn map_halves<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let cut = items.len() / 2;
    let (first, second) = items.split_at(cut);
    let f = &f;
    let (mut out, later) = join(
        || {
            let mut out: Vec<R> = Vec::with_capacity(items.len());
            out.extend(first.iter().enumerate().map(|(i, x)| f(i, x)));
            out
        },
        move || second.iter().enumerate().map(|(i, x)| f(cut + i, x)).collect::<Vec<R>>(),
    );
    out.extend(later);
    out
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
    use super::{in_order, join, map_halves};

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
    fn halves_give_what_one_pass_gives_in_order() {
        for n in [0, 1, 2, 3, 10, 1001] {
            let items: Vec<u64> = (0..n).map(|i| i * 7 % 13).collect();
            let one: Vec<(usize, u64)> = items.iter().enumerate().map(|(i, x)| (i, x * x)).collect();
            assert_eq!(map_halves(&items, |i, x| (i, x * x)), one, "{n} items");
        }
    }
}
