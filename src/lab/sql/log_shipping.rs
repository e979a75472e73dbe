//! msdb's log-shipping configuration and history on each instance: what
//! the SQL Agent jobs (`clock`) act on, what `DeleteLogShippingSecondary`
//! removes, and what the log-shipping status op reads.

use crate::lab::CHAT_DATABASE;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Msdb {
    pub log_shipping_primary: BTreeMap<String, LogShippingPrimary>,
    pub log_shipping_secondary: BTreeMap<String, LogShippingSecondary>,
    pub restore_history: Vec<RestoreHistory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogShippingPrimary {
    pub backup_directory: String,
    pub backup_job: String,
    pub every_minutes: u64,
    pub last_backup_file: Option<String>,
    pub last_backup_lsn: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogShippingSecondary {
    pub primary_instance: String,
    pub primary_database: String,
    pub backup_source_directory: String,
    pub backup_destination_directory: String,
    pub copy_job: String,
    pub restore_job: String,
    pub copy_every_minutes: u64,
    pub restore_every_minutes: u64,
    pub last_copied_file: Option<String>,
    pub last_copied_at: Option<String>,
    pub last_restored_file: Option<String>,
    pub last_restored_at: Option<String>,
    pub restore_mode: i64,
    pub restore_delay: i64,
}

impl LogShippingPrimary {
    /// mgc backing its log up to `share` every `every_minutes`, the chain
    /// starting at `lsn` (the full backup the secondary was initialized from).
    pub fn chat(share: &str, every_minutes: u64, lsn: i64) -> Self {
        LogShippingPrimary {
            backup_directory: share.to_string(),
            backup_job: format!("LSBackup_{CHAT_DATABASE}"),
            every_minutes,
            last_backup_file: None,
            last_backup_lsn: lsn,
        }
    }
}

impl LogShippingSecondary {
    /// A secondary just initialized from a full backup of `primary_instance`
    /// (`primary_name` is its SQL name, for the default job names): nothing
    /// copied or restored yet, restores WITH NORECOVERY and no delay.
    pub fn initialized(
        primary_instance: &str,
        primary_name: &str,
        (share, copy_folder): (&str, &str),
        (copy_every_minutes, restore_every_minutes): (u64, u64),
    ) -> Self {
        LogShippingSecondary {
            primary_instance: primary_instance.to_string(),
            primary_database: CHAT_DATABASE.to_string(),
            backup_source_directory: share.to_string(),
            backup_destination_directory: copy_folder.to_string(),
            copy_job: format!("LSCopy_{primary_name}_{CHAT_DATABASE}"),
            restore_job: format!("LSRestore_{primary_name}_{CHAT_DATABASE}"),
            copy_every_minutes,
            restore_every_minutes,
            last_copied_file: None,
            last_copied_at: None,
            last_restored_file: None,
            last_restored_at: None,
            restore_mode: 0,
            restore_delay: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreHistory {
    pub database: String,
    pub file: String,
    pub at: String,
}
