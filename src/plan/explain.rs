//! `corestream explain`: the plan as indented text (implementation in progress).

use super::QueryPlan;

impl QueryPlan {
    /// A human-readable, stable description of the plan.
    pub fn explain(&self) -> String {
        todo!("explain")
    }
}
