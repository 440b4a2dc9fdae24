//! What the integration tests share with each other and with the fuzz targets.

pub mod hub_ops;
