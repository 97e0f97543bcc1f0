//! Nations and releasability live in `trilink-domain` (fusion and warnings use them without the
//! wire format); re-exported here so that `trilink_wire::Nation` keeps working.
pub use trilink_domain::nation::*;
