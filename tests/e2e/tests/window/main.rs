//! The real app window, driven through tauri-driver under Xvfb.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use fantoccini::{Client, Locator};
use perpdesk_e2e::{Driver, app_binary, output_dir};

async fn text(client: &Client, css: &str) -> Result<String> {
    Ok(client.find(Locator::Css(css)).await?.text().await?)
}

async fn wait_ready(client: &Client) -> Result<()> {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("body[data-ready='true']"))
        .await
        .context("dashboard never became ready")?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Xvfb, a D-Bus session, tauri-driver and WebKitWebDriver; run by scripts/test.sh"]
async fn dashboard_renders_navigates_and_remembers_the_panel() -> Result<()> {
    let driver = Driver::start()?;
    let client = driver.launch().await?;
    let outcome = async {
        wait_ready(&client).await?;
        assert_eq!(client.title().await?, "perpdesk");
        assert_eq!(text(&client, "[data-testid=mode-badge]").await?, "模拟盘");
        assert_eq!(
            text(&client, "section.panel:not([hidden]) h1").await?,
            "预测信号"
        );
        let version = text(&client, "[data-testid=version]").await?;
        assert_eq!(version, format!("版本 {}", env!("CARGO_PKG_VERSION")));
        let data_dir = text(&client, "[data-testid=data-dir]").await?;
        assert!(data_dir.contains("com.perpdesk.desktop"), "{data_dir}");

        client
            .find(Locator::Css("#nav button[data-panel='risk']"))
            .await?
            .click()
            .await?;
        assert_eq!(
            text(&client, "section.panel:not([hidden]) h1").await?,
            "风控设置"
        );

        // The click went through IPC to Rust and into the preferences store on disk.
        let prefs_file = driver.app_data_dir().join("preferences.json");
        let mut saved = serde_json::Value::Null;
        for _ in 0..50 {
            let text = std::fs::read_to_string(&prefs_file).unwrap_or_default();
            saved = serde_json::from_str(&text).unwrap_or_default();
            if saved["preferences"]["lastPanel"] == "risk" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            saved["preferences"],
            serde_json::json!({"language": "zh-CN", "lastPanel": "risk"}),
            "preferences.json"
        );

        client
            .find(Locator::Css("#nav button[data-panel='signals']"))
            .await?
            .click()
            .await?;
        let png = client.screenshot().await?;
        std::fs::write(output_dir()?.join("e2e-window.png"), &png)?;
        assert!(
            png.len() > 10_000,
            "a rendered dashboard is not a blank image"
        );

        // A second launch must hand over to the running window and exit at once.
        let mut second = Command::new(app_binary())
            .env("HOME", driver.home())
            .spawn()
            .context("second launch")?;
        let mut status = None;
        for _ in 0..150 {
            status = second.try_wait()?;
            if status.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if status.is_none() {
            let _ = second.kill();
        }
        assert!(
            status.is_some_and(|s| s.success()),
            "a second launch kept running instead of focusing the first: {status:?}"
        );
        assert_eq!(
            text(&client, "section.panel:not([hidden]) h1").await?,
            "预测信号"
        );
        Ok::<_, anyhow::Error>(())
    }
    .await;
    client.close().await?;
    outcome
}
