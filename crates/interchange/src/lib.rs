//! trilink-interchange
