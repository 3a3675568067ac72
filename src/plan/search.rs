//! The search for the smallest passing host count: gallop (1, 2, 4, ...)
//! until a count passes, then binary search between the last failing and
//! the first passing count. Assumes monotonicity; `inversions` reports
//! where the probed points contradict it.

/// One evaluated host count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub hosts: u64,
    pub pass: bool,
}

/// `recommended` is `None` when even `max` hosts fail. `probes` are in the
/// order they were evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub recommended: Option<u64>,
    pub probes: Vec<Probe>,
}

pub fn search<E>(max: u64, mut eval: impl FnMut(u64) -> Result<bool, E>) -> Result<Outcome, E> {
    let mut probes = Vec::new();
    let mut probe = |n: u64, probes: &mut Vec<Probe>| -> Result<bool, E> {
        let pass = eval(n)?;
        probes.push(Probe { hosts: n, pass });
        Ok(pass)
    };
    let (mut lo, mut hi) = (0, None);
    let mut n = 1.min(max);
    while n >= 1 {
        if probe(n, &mut probes)? {
            hi = Some(n);
            break;
        }
        lo = n;
        if n == max {
            break;
        }
        n = (n * 2).min(max);
    }
    let Some(mut hi) = hi else {
        return Ok(Outcome {
            recommended: None,
            probes,
        });
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if probe(mid, &mut probes)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Outcome {
        recommended: Some(hi),
        probes,
    })
}

/// Pairs `(smaller, larger)` of probed counts where the smaller passed and
/// the larger failed.
pub fn inversions(probes: &[Probe]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for a in probes.iter().filter(|p| p.pass) {
        for b in probes.iter().filter(|p| !p.pass && p.hosts > a.hosts) {
            out.push((a.hosts, b.hosts));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(threshold: u64, max: u64) -> Outcome {
        search::<()>(max, |n| Ok(n >= threshold)).unwrap()
    }

    #[test]
    fn finds_the_threshold_by_galloping_then_bisecting() {
        for t in 1..=70 {
            assert_eq!(run(t, 1000).recommended, Some(t), "threshold {t}");
        }
        let hosts: Vec<u64> = run(5, 1000).probes.iter().map(|p| p.hosts).collect();
        assert_eq!(hosts, vec![1, 2, 4, 8, 6, 5]);
    }

    #[test]
    fn nothing_is_recommended_when_max_fails() {
        let o = run(50, 40);
        assert_eq!(o.recommended, None);
        assert_eq!(o.probes.last().unwrap().hosts, 40);
    }

    #[test]
    fn a_smaller_count_passing_where_a_larger_failed_is_an_inversion() {
        let probes = [
            Probe {
                hosts: 2,
                pass: true,
            },
            Probe {
                hosts: 4,
                pass: false,
            },
        ];
        assert_eq!(inversions(&probes), vec![(2, 4)]);
    }
}
