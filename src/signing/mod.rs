//! HMAC-SHA256 request signing (feature `native`; stub).
