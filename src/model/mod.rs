//! Plain data shared by every layer: ids, time, resources, distributions.
//! Nothing here knows about actors, runtimes or storage.

pub mod dist;
pub mod ids;
pub mod limits;
pub mod lookup;
pub mod resources;
pub mod time;
pub mod vm_set;
pub mod vm_table;

pub use dist::{Dist, SizeMix, WeightedSize};
pub use ids::{ActorId, HostId, VmId};
pub use lookup::Lookup;
pub use resources::Resources;
pub use time::{SimDuration, SimTime};
pub use vm_set::{VmSet, VmSizes};
pub use vm_table::{SPARSE_BASE, VmTable};
