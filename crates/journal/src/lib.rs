//! trilink-journal
