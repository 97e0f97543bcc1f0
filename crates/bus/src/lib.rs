//! trilink-bus
