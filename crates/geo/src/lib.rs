//! trilink-geo
