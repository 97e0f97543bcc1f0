//! trilink-sim
