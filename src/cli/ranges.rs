//! Seed ranges and shards as every command takes them, so `plan` and `fuzz`
//! agree: `--seeds A..B` includes B (`A..=B` is accepted too), and
//! `--shard I/N` is 0-based (I from 0 to N-1, like a Kubernetes Indexed Job's
//! completion index) and keeps every N-th item starting at position I.

/// At most this many seeds in one range: a typo should not start a week of work.
const MAX_SEEDS: u64 = 1_000_000;

pub fn seed_range(text: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds expects `A..B` (B included), found `{text}`");
    let (a, b) = text
        .split_once("..=")
        .or_else(|| text.split_once(".."))
        .ok_or_else(bad)?;
    let (a, b): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a > b {
        return Err(format!("--seeds `{text}` is empty: {a} is after {b}"));
    }
    if b - a >= MAX_SEEDS {
        return Err(format!(
            "--seeds `{text}` has more than {MAX_SEEDS} seeds; split it with --shard"
        ));
    }
    Ok((a..=b).collect())
}

pub fn shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard expects `I/N` with 0 <= I < N, found `{text}`");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The items of shard `(i, n)`: positions i, i+n, i+2n, ...
pub fn take_shard<T: Copy>(items: &[T], (i, n): (usize, usize)) -> Vec<T> {
    items.iter().copied().skip(i).step_by(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_include_their_end() {
        assert_eq!(seed_range("1..4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(seed_range("1..=4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(seed_range("7..7").unwrap(), vec![7]);
        assert!(seed_range("5..4").unwrap_err().contains("empty"));
        assert!(seed_range("1..x").is_err());
        assert!(seed_range("0..2000000").unwrap_err().contains("--shard"));
    }

    #[test]
    fn shards_are_zero_based_and_cover_everything_once() {
        let items: Vec<u64> = (1..=13).collect();
        let mut all: Vec<u64> = (0..3)
            .flat_map(|i| take_shard(&items, shard(&format!("{i}/3")).unwrap()))
            .collect();
        all.sort_unstable();
        assert_eq!(all, items);
        assert_eq!(take_shard(&items, shard("0/2").unwrap()).len(), 7);
        assert!(shard("2/2").is_err());
        assert!(shard("1/0").is_err());
    }
}
