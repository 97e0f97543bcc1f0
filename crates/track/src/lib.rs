//! trilink-track
