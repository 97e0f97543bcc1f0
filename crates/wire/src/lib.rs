//! trilink-wire
