//! MachineHealthCheck's rule: remediate only while the unhealthy machines
//! are at most maxUnhealthy of the cluster's machines (a wider outage is
//! more likely the infrastructure than the machines, and replacing them
//! all would make it worse).

/// Cluster API scales a percentage down (`GetScaledValueFromIntOrPercent`
/// with roundUp false): 40% of 4 machines allows 1 unhealthy.
pub fn may_remediate(unhealthy: usize, total: usize, max_unhealthy_percent: u32) -> bool {
    let allowed = total * max_unhealthy_percent as usize / 100;
    unhealthy > 0 && unhealthy <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_unhealthy_is_a_rounded_down_share_of_the_machines() {
        assert!(may_remediate(1, 4, 40));
        assert!(!may_remediate(2, 4, 40));
        assert!(may_remediate(4, 4, 100));
        assert!(!may_remediate(1, 2, 0));
        assert!(!may_remediate(0, 2, 100));
    }
}
