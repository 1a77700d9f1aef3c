//! stub
use super::health::SourceHealth;
use super::live::{LiveItem, Shutdown, SourceError};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::mpsc;
/// stub
#[derive(Clone, Debug, Deserialize)]
pub struct FollowConfig {
    pub name: Option<String>,
    #[serde(default)]
    pub blind_after_secs: u64,
}
impl FollowConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}
/// stub
pub async fn run(
    _c: FollowConfig,
    _n: Arc<str>,
    _tx: mpsc::Sender<LiveItem>,
    _h: Arc<SourceHealth>,
    _s: Shutdown,
) -> Result<(), SourceError> {
    Ok(())
}
