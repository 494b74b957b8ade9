//! Device drivers.
pub mod fw_cfg;
