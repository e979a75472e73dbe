//! Lync Server 2013 as the lab simulates it.

pub(in crate::lab) mod backup_service;
pub(in crate::lab) mod cms;
pub(in crate::lab) mod edge;
pub(in crate::lab) mod pools;
