//! Files: open file descriptions, descriptor tables, pipes, and the waits they share.
pub mod fdtable;
pub mod file;
pub mod pipe;
pub mod wait;
