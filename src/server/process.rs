//! What the server process does about signals, panics and file size limits.

use std::future::Future;

/// Installs a panic hook that logs where a panic happened but not its message when the message
/// was formatted at run time (it could hold request data); fixed messages are logged.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&'static str>()
            .copied()
            .unwrap_or("(message withheld: it was formatted at run time)");
        tracing::error!(%location, message, "panic");
    }));
}

/// Completes on Ctrl-C or SIGTERM. The handlers are registered when this is called (not when
/// first polled), so a signal that arrives right after start-up is not lost.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
            tracing::info!("shutdown requested; finishing in-flight requests");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested; finishing in-flight requests");
    }
}

/// Keeps the process alive when a file reaches the process's size limit (`RLIMIT_FSIZE`): the
/// kernel's default for `SIGXFSZ` is to kill it, which would drop every in-flight request.
/// Handled, the write fails with `EFBIG` instead, and the request gets a clear storage error.
pub fn survive_file_size_limit() {
    #[cfg(target_os = "linux")]
    {
        use tokio::signal::unix::{SignalKind, signal};
        const SIGXFSZ: i32 = 25;
        if let Ok(mut s) = signal(SignalKind::from_raw(SIGXFSZ)) {
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    tracing::error!("a database file reached the process's file size limit");
                }
            });
        }
    }
}
