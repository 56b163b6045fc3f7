//! How `serve` stops: Ctrl-C, or SIGTERM on Unix.

/// Registers for Ctrl-C and SIGTERM at once, and returns what waits for
/// either: registered before the banner is printed, a signal sent as soon
/// as a harness has read it is a clean stop, not the default death.
#[cfg(unix)]
pub(super) fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let registered = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    async move {
        match registered {
            (Ok(mut interrupt), Ok(mut term)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Waits for Ctrl-C.
#[cfg(not(unix))]
pub(super) fn stop_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
