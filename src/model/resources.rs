//! The one resource vector used everywhere: cpu, memory and GPUs in integer
//! units, so that arithmetic is exact and placement is deterministic.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Millicores of cpu, bytes of memory, milli-GPUs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Resources {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub gpu_millis: u64,
}

pub const GIB: u64 = 1 << 30;

impl Resources {
    pub const ZERO: Resources = Resources {
        cpu_millis: 0,
        memory_bytes: 0,
        gpu_millis: 0,
    };
    /// No bound: a resource pool without a limit.
    pub const UNLIMITED: Resources = Resources {
        cpu_millis: u64::MAX,
        memory_bytes: u64::MAX,
        gpu_millis: u64::MAX,
    };

    pub fn new(cpu_millis: u64, memory_bytes: u64, gpu_millis: u64) -> Self {
        Resources {
            cpu_millis,
            memory_bytes,
            gpu_millis,
        }
    }

    pub fn cores(cores: u64, memory_gib: u64) -> Self {
        Resources::new(cores * 1000, memory_gib * GIB, 0)
    }

    /// True when every component of `self` is at most the same component of `other`.
    pub fn fits_in(&self, other: &Resources) -> bool {
        self.cpu_millis <= other.cpu_millis
            && self.memory_bytes <= other.memory_bytes
            && self.gpu_millis <= other.gpu_millis
    }

    /// `self + other`, or `None` if any component would overflow.
    pub fn checked_add(&self, other: &Resources) -> Option<Resources> {
        Some(Resources {
            cpu_millis: self.cpu_millis.checked_add(other.cpu_millis)?,
            memory_bytes: self.memory_bytes.checked_add(other.memory_bytes)?,
            gpu_millis: self.gpu_millis.checked_add(other.gpu_millis)?,
        })
    }

    pub fn is_zero(&self) -> bool {
        *self == Resources::ZERO
    }

    pub fn saturating_sub(&self, other: &Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis.saturating_sub(other.cpu_millis),
            memory_bytes: self.memory_bytes.saturating_sub(other.memory_bytes),
            gpu_millis: self.gpu_millis.saturating_sub(other.gpu_millis),
        }
    }

    pub fn cpu_cores_f64(&self) -> f64 {
        self.cpu_millis as f64 / 1000.0
    }

    pub fn memory_gib_f64(&self) -> f64 {
        self.memory_bytes as f64 / GIB as f64
    }
}

impl std::ops::Add for Resources {
    type Output = Resources;
    fn add(self, o: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis + o.cpu_millis,
            memory_bytes: self.memory_bytes + o.memory_bytes,
            gpu_millis: self.gpu_millis + o.gpu_millis,
        }
    }
}

impl std::ops::AddAssign for Resources {
    fn add_assign(&mut self, o: Resources) {
        *self = *self + o;
    }
}

impl std::ops::SubAssign for Resources {
    /// Panics on underflow: releasing more than was taken is a bug.
    fn sub_assign(&mut self, o: Resources) {
        self.cpu_millis = self
            .cpu_millis
            .checked_sub(o.cpu_millis)
            .expect("cpu underflow");
        self.memory_bytes = self
            .memory_bytes
            .checked_sub(o.memory_bytes)
            .expect("memory underflow");
        self.gpu_millis = self
            .gpu_millis
            .checked_sub(o.gpu_millis)
            .expect("gpu underflow");
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cores, {:.1} GiB",
            self.cpu_cores_f64(),
            self.memory_gib_f64()
        )?;
        if self.gpu_millis > 0 {
            write!(f, ", {} GPUs", self.gpu_millis as f64 / 1000.0)?;
        }
        Ok(())
    }
}
