//! Running a node: the HTTP API on a listener and, in dev mode, the block producer, until
//! shutdown.

use std::sync::Arc;

use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::node::Node;
use crate::routes::router;

/// Runs the node until `shutdown` resolves: the API and, in dev mode, the block producer.
pub async fn serve(
    node: Arc<Node>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let listener = TcpListener::bind(node.config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", node.config.listen))?;
    serve_on(node, listener, shutdown).await
}

/// As [`serve`], on a listener already bound.
pub async fn serve_on(
    node: Arc<Node>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    info!(%address, "node listening");
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let producer = node.producer.is_some().then(|| {
        let node = Arc::clone(&node);
        let mut stopped = stop.subscribe();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(node.config.block_interval);
            ticker.tick().await;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {
                        let node = Arc::clone(&node);
                        match tokio::task::spawn_blocking(move || node.produce_block()).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => warn!(error = %e, "block production failed"),
                            Err(e) => warn!(error = %e, "block production panicked"),
                        }
                    }
                    _ = stopped.changed() => break,
                }
            }
        })
    });
    let app = router(Arc::clone(&node)).layer(tower_http::trace::TraceLayer::new_for_http());
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown => {}
                _ = stopped.changed() => {}
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    let _ = stop.send(true);
    if let Some(handle) = producer {
        let _ = handle.await;
    }
    info!("node stopped");
    Ok(())
}
