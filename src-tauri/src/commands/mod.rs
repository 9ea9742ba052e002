//! IPC commands, one module per area. Each is a few lines: parse, call `perpdesk-app`, map
//! the error to [`perpdesk_app::UiError`].

pub mod app;
