//! trilink-warn: public warnings for one nation's regions from its fused picture, modelled on
//! Japan's J-Alert (docs/decisions/0801).
//!
//! [`Warner`] holds a nation's regions and the lifecycle of every warning it issued; the node
//! calls [`Warner::update`] with the fused picture and [`Warner::track_ended`] when a system
//! track is deleted, writes the rows with [`write_csv`] and [`write_cap_dir`], and after a
//! restart rebuilds the warner with [`Warner::resume`].
pub mod cap;
mod ellipse;
mod error;
pub mod geometry;
pub mod path;
pub mod prob;
mod row;
pub mod sea;
mod warner;

pub use cap::{cap_xml, write_cap_dir, CapContext};
pub use ellipse::{Ellipse, CHI2_2_95};
pub use error::WarnError;
pub use geometry::{Outline, Region};
pub use row::{
    csv_line, parse_csv_lines, read_csv, write_csv, Kind, State, WarningRow, CSV_HEADER,
};
pub use warner::{Assessment, TrackPicture, WarnConfig, Warner};
