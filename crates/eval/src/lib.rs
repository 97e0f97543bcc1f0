//! trilink-eval
