//! RESP2 key-value store (below).
