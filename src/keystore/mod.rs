//! Node keystore: KEK → DEK at-rest sealing in SQLite (feature `native`; stub).
