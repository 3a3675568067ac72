//! Seed ranges and shards as every command takes them, so `plan` and `fuzz`
//! agree: `--seeds A..B` includes B (`A..=B` is accepted too), and
//! `--shard I/N` is 0-based (I from 0 to N-1, like a Kubernetes Indexed Job's
//! completion index) and keeps every N-th item starting at position I;
//! `--shard auto/N` takes I from a Kubernetes Indexed Job or a Slurm job
//! array.

/// At most this many seeds in one range: a typo should not start a week of work.
const MAX_SEEDS: u64 = 1_000_000;

pub fn seed_range(text: &str) -> Result<Vec<u64>, String> {
    range_of("--seeds", text)
}

/// [`seed_range`] for option `option` (`fuzz-inputs --cases`).
pub fn range_of(option: &str, text: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("{option} expects `A..B` (B included), found `{text}`");
    let (a, b) = text
        .split_once("..=")
        .or_else(|| text.split_once(".."))
        .ok_or_else(bad)?;
    let (a, b): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a > b {
        return Err(format!("{option} `{text}` is empty: {a} is after {b}"));
    }
    // The whole range counts, sharded or not: shards of one range share it.
    if b - a >= MAX_SEEDS {
        return Err(format!(
            "{option} `{text}` has more than {MAX_SEEDS}, the most one range may: give consecutive ranges to separate runs"
        ));
    }
    Ok((a..=b).collect())
}

/// `I/N`, or `auto/N` with I from the batch system's environment.
pub fn shard(text: &str) -> Result<(usize, usize), String> {
    shard_in(text, &|name| std::env::var(name).ok())
}

/// The environment variables `auto/N` reads, in order: a Kubernetes
/// Indexed Job's completion index, then a Slurm job array's task id
/// (counted from `SLURM_ARRAY_TASK_MIN`, so `--array=1-4` is shards 0-3).
pub const SHARD_ENV: [&str; 2] = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"];

/// `shard` with the environment given (tests pass their own).
pub fn shard_in(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(usize, usize), String> {
    let bad = || format!("--shard expects `I/N` or `auto/N` with 0 <= I < N, found `{text}`");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    let i = match i.trim() {
        "auto" => auto_index(n, env)?,
        i => i.parse().map_err(|_| bad())?,
    };
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

fn auto_index(n: usize, env: &dyn Fn(&str) -> Option<String>) -> Result<usize, String> {
    let number = |name: &str| -> Result<Option<usize>, String> {
        env(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("--shard auto/{n}: {name}={v} is not a whole number"))
            })
            .transpose()
    };
    if let Some(i) = number(SHARD_ENV[0])? {
        return in_range(i, n, SHARD_ENV[0]);
    }
    if let Some(id) = number(SHARD_ENV[1])? {
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        if let Some(count) = number("SLURM_ARRAY_TASK_COUNT")?
            && count != n
        {
            return Err(format!(
                "--shard auto/{n}: the Slurm array has {count} tasks (SLURM_ARRAY_TASK_COUNT), not {n}"
            ));
        }
        let i = id.checked_sub(min).ok_or_else(|| {
            format!(
                "--shard auto/{n}: SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
            )
        })?;
        return in_range(i, n, SHARD_ENV[1]);
    }
    Err(format!(
        "--shard auto/{n}: neither {} (a Kubernetes Indexed Job) nor {} (a Slurm job array) is set",
        SHARD_ENV[0], SHARD_ENV[1]
    ))
}

fn in_range(i: usize, n: usize, from: &str) -> Result<usize, String> {
    if i < n {
        Ok(i)
    } else {
        Err(format!(
            "--shard auto/{n}: shard {i} (from {from}) is not below {n}"
        ))
    }
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
        assert!(
            seed_range("0..2000000")
                .unwrap_err()
                .contains("consecutive ranges")
        );
        assert!(
            range_of("--cases", "5..3")
                .unwrap_err()
                .starts_with("--cases `5..3`")
        );
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

    #[test]
    fn auto_shards_come_from_an_indexed_job_or_a_slurm_array() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
        assert_eq!(shard_in("auto/4", &k8s), Ok((3, 4)));
        assert!(
            shard_in("auto/3", &k8s)
                .unwrap_err()
                .contains("not below 3")
        );
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(shard_in("auto/4", &slurm), Ok((2, 4)));
        assert!(
            shard_in("auto/5", &slurm)
                .unwrap_err()
                .contains("has 4 tasks")
        );
        assert_eq!(
            shard_in("auto/4", &env(&[("SLURM_ARRAY_TASK_ID", "1")])),
            Ok((1, 4))
        );
        let none = env(&[]);
        assert!(
            shard_in("auto/4", &none)
                .unwrap_err()
                .contains("neither JOB_COMPLETION_INDEX")
        );
        assert!(
            shard_in("auto/4", &env(&[("JOB_COMPLETION_INDEX", "x")]))
                .unwrap_err()
                .contains("not a whole number")
        );
        assert_eq!(shard_in("1/4", &k8s), Ok((1, 4)));
    }
}
