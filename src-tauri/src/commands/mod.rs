//! IPC commands, one module per area. Each is a few lines: parse, call `perpdesk-app`, map
//! the error to [`perpdesk_app::UiError`]. The contract is `docs/ipc.md`.

pub mod accounts;
pub mod app;
pub mod autotrade;
pub mod profit_share;
pub mod records;
pub mod replay;
pub mod security;
pub mod signals;
pub mod trading;
pub mod update;
