//! IPv4 address pools, pure: a block of addresses of which a range is
//! usable, handed out lowest-free-first and reused after release.
//!
//! Memory grows with the addresses handed out, not with the block: a high
//! water mark plus the released addresses below it.

use std::collections::BTreeSet;

/// An IPv4 address as a number (network byte order).
pub fn ip_to_u32(ip: [u8; 4]) -> u32 {
    u32::from_be_bytes(ip)
}

pub fn format_ip(ip: u32) -> String {
    let [a, b, c, d] = ip.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

pub fn parse_ip(text: &str) -> Option<u32> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for o in &mut octets {
        *o = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then(|| ip_to_u32(octets))
}

/// `first/prefix` when `size` is a power of two and `first` is aligned to
/// it (a real subnet), else `first-last`.
pub fn format_block(first: u32, size: u32) -> String {
    if size.is_power_of_two() && first.is_multiple_of(size) {
        format!("{}/{}", format_ip(first), 32 - size.trailing_zeros())
    } else {
        format_range(first, size)
    }
}

/// `first-last` (a pool that is a plain range, like the VIPs).
pub fn format_range(first: u32, size: u32) -> String {
    if size == 0 {
        return format!("{} (empty)", format_ip(first));
    }
    let last = first.saturating_add(size - 1);
    format!("{}-{}", format_ip(first), format_ip(last))
}

#[derive(Clone, Debug)]
pub struct Pool {
    /// First usable address.
    first: u32,
    /// How many usable addresses from `first`.
    usable: u32,
    /// Offsets below this have been handed out at some point.
    high: u32,
    /// Offsets below `high` that are free again.
    released: BTreeSet<u32>,
}

impl Pool {
    /// `usable` addresses from `first`.
    pub fn new(first: u32, usable: u32) -> Self {
        Pool {
            first,
            usable,
            high: 0,
            released: BTreeSet::new(),
        }
    }

    /// A namespace segment of `size` addresses from `base`: the network
    /// address, the gateway (first host address, NSX's router port) and
    /// the broadcast address are never handed out.
    pub fn segment(base: u32, size: u32) -> Self {
        Pool::new(base.saturating_add(2), size.saturating_sub(3))
    }

    /// The lowest free address, or None when every one is taken.
    pub fn allocate(&mut self) -> Option<u32> {
        let offset = match self.released.pop_first() {
            Some(o) => o,
            None if self.high < self.usable => {
                self.high += 1;
                self.high - 1
            }
            None => return None,
        };
        Some(self.first + offset)
    }

    /// Frees `ip`; false when it is not one this pool handed out (ignored).
    pub fn release(&mut self, ip: u32) -> bool {
        let Some(offset) = ip.checked_sub(self.first).filter(|o| *o < self.high) else {
            return false;
        };
        if !self.released.insert(offset) {
            return false;
        }
        // Keep `released` to the holes below the highest address in use.
        while self.high > 0 && self.released.remove(&(self.high - 1)) {
            self.high -= 1;
        }
        true
    }

    pub fn in_use(&self) -> u32 {
        self.high - self.released.len() as u32
    }

    pub fn usable(&self) -> u32 {
        self.usable
    }

    /// The addresses in use, ascending.
    pub fn addresses(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.high)
            .filter(|o| !self.released.contains(o))
            .map(|o| self.first + o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> u32 {
        parse_ip(s).unwrap()
    }

    #[test]
    fn addresses_round_trip_and_bad_text_is_refused() {
        assert_eq!(format_ip(ip("10.244.0.18")), "10.244.0.18");
        assert_eq!(ip("0.0.1.0"), 256);
        for bad in ["10.0.0", "10.0.0.256", "10.0.0.1.2", "a.b.c.d", ""] {
            assert_eq!(parse_ip(bad), None, "{bad}");
        }
    }

    #[test]
    fn blocks_print_as_cidr_when_aligned() {
        assert_eq!(format_block(ip("10.244.0.16"), 16), "10.244.0.16/28");
        assert_eq!(format_block(ip("10.244.0.0"), 256), "10.244.0.0/24");
        assert_eq!(
            format_block(ip("10.244.0.10"), 10),
            "10.244.0.10-10.244.0.19"
        );
    }

    #[test]
    fn a_slash_28_segment_hands_out_13_addresses_skipping_network_gateway_broadcast() {
        let mut p = Pool::segment(ip("10.244.0.16"), 16);
        let got: Vec<String> = std::iter::from_fn(|| p.allocate()).map(format_ip).collect();
        assert_eq!(got.len(), 13);
        assert_eq!(got.first().unwrap(), "10.244.0.18");
        assert_eq!(got.last().unwrap(), "10.244.0.30");
        assert_eq!(p.in_use(), 13);
        assert_eq!(p.allocate(), None);
    }

    #[test]
    fn released_addresses_are_reused_lowest_first() {
        let mut p = Pool::new(100, 5);
        for want in 100..105 {
            assert_eq!(p.allocate(), Some(want));
        }
        assert!(p.release(103));
        assert!(p.release(101));
        assert!(!p.release(101), "double release");
        assert!(!p.release(99) && !p.release(105), "not ours");
        assert_eq!(p.in_use(), 3);
        assert_eq!(p.allocate(), Some(101));
        assert_eq!(p.allocate(), Some(103));
        assert_eq!(p.allocate(), None);
    }

    #[test]
    fn releasing_the_top_shrinks_the_high_water_mark() {
        let mut p = Pool::new(0, 10);
        for _ in 0..4 {
            p.allocate();
        }
        p.release(1);
        p.release(3);
        p.release(2);
        assert_eq!(p.addresses().collect::<Vec<_>>(), vec![0]);
        assert_eq!((p.high, p.released.len()), (1, 0));
        assert_eq!(p.allocate(), Some(1));
    }

    #[test]
    fn tiny_segments_have_no_usable_addresses() {
        for size in 0..=3 {
            assert_eq!(Pool::segment(0, size).allocate(), None, "size {size}");
        }
        assert_eq!(Pool::segment(0, 4).allocate(), Some(2));
    }

    #[test]
    fn agrees_with_a_plain_set_over_a_fixed_sequence() {
        // Reference: lowest free in a BTreeSet of free addresses.
        let mut p = Pool::new(50, 20);
        let mut free: BTreeSet<u32> = (50..70).collect();
        let mut x: u64 = 7;
        for _ in 0..500 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if x >> 62 == 0 {
                let target = 50 + ((x >> 32) % 20) as u32;
                assert_eq!(p.release(target), !free.contains(&target));
                free.insert(target);
            } else {
                assert_eq!(p.allocate(), free.pop_first());
            }
            assert_eq!(p.in_use(), 20 - free.len() as u32);
        }
    }
}
