//! trilink-node
