//! One module per verb.
pub mod capture;
pub mod down;
pub mod exec;
pub mod graph;
pub mod pingall;
pub mod probe;
pub mod status;
pub mod switch;
pub mod up;
pub mod vswitch;
