//! perpdesk-app against the simulator over real HTTP and WebSocket on 127.0.0.1:0.

mod accounts;
mod backup;
mod books;
mod boundaries;
mod crash;
mod faults;
#[cfg(unix)]
mod files;
mod leaks;
mod password;
mod permissions;
mod replay;
mod safety;
mod signals;
mod soak;
mod study;
mod support;
mod sync;
mod trading;
mod verifier;
mod watchlist;
