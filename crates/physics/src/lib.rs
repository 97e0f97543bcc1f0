//! trilink-physics
