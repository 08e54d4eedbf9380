//! The kit's logic, as a library so that its tests can call it; `main.rs` is the command line.
//!
//! - [`diff`]: `./run.sh diff NN`, your copy of a step against its solution, as a unified diff;
//! - [`drift`]: the check that each exercise is its previous step's solution plus `TODO(NN)`
//!   markers, and differs from its own solution only there;
//! - [`hint`]: `./run.sh hint NN`, a step's hints one level at a time, the last its solution's
//!   code; [`hints_md`], the shape of the `HINTS.md` they come from.
//!
//! The steps themselves (which there are, their folders and packages) are found by the `steps`
//! crate, which the checker shares.

pub mod diff;
pub mod drift;
pub mod hint;
pub mod hints_md;
