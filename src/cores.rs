//! Work shared between two cores (the machine orgsplit is measured on has
//! two): independent items, split in halves, results in their order.

/// `items.iter().enumerate().map(f).collect()`, the second half of the items
/// on a second core. The result is the same, in the same order.
pub fn map_halves<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let cut = items.len() / 2;
    let (first, second) = items.split_at(cut);
    let f = &f;
    std::thread::scope(|scope| {
        let later = scope.spawn(move || second.iter().enumerate().map(|(i, x)| f(cut + i, x)).collect::<Vec<R>>());
        let mut out: Vec<R> = Vec::with_capacity(items.len());
        out.extend(first.iter().enumerate().map(|(i, x)| f(i, x)));
        out.extend(later.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        out
    })
}

#[cfg(test)]
mod tests {
    use super::map_halves;

    #[test]
    fn halves_give_what_one_pass_gives_in_order() {
        for n in [0, 1, 2, 3, 10, 1001] {
            let items: Vec<u64> = (0..n).map(|i| i * 7 % 13).collect();
            let one: Vec<(usize, u64)> = items.iter().enumerate().map(|(i, x)| (i, x * x)).collect();
            assert_eq!(map_halves(&items, |i, x| (i, x * x)), one, "{n} items");
        }
    }
}
