//! The real app window, driven through tauri-driver under Xvfb, in paper mode, no mocks:
//! first run → password → signals → chart → one-click trade → position with TP/SL →
//! replay until an exit → the trade in the records → the ledger row with its 70/30 split →
//! CSV export. A screenshot of each step is saved in the test's output folder.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fantoccini::Locator;
use perpdesk_e2e::notifications::FakeNotifications;
use perpdesk_e2e::{Driver, app_binary, click, navigate, shot, text, wait_for};

#[tokio::test]
#[ignore = "needs Xvfb, a D-Bus session, tauri-driver and WebKitWebDriver; run by scripts/test.sh"]
async fn a_new_user_reaches_a_paper_trade_and_its_profit_share() -> Result<()> {
    // The desktop's notification service, so the test sees the app's notifications and
    // clicks one as a user would.
    let notifications = FakeNotifications::start().await?;
    let driver = Driver::start()?;
    let client = driver.launch().await?;
    let outcome = async {
        // 1. First run: the gate asks for a master password (Chinese by default).
        wait_for(&client, "[data-testid=gate]:not([hidden])", 30).await?;
        assert_eq!(client.title().await?, "perpdesk");
        shot(&client, "01-first-run").await?;
        let password = "correct horse battery staple 42";
        client
            .find(Locator::Css("[data-testid=gate-password]"))
            .await?
            .send_keys(password)
            .await?;
        client
            .find(Locator::Css("[data-testid=gate-password2]"))
            .await?
            .send_keys(password)
            .await?;
        click(&client, "[data-testid=gate-submit]").await?;
        wait_for(&client, "body[data-ready='true']", 60).await?;
        wait_for(&client, "[data-testid=gate][hidden]", 60).await?;
        assert_eq!(text(&client, "[data-testid=mode-badge]").await?, "模拟盘");
        assert_eq!(
            text(&client, "section.panel:not([hidden]) h1").await?,
            "预测信号"
        );
        let version = text(&client, "[data-testid=version]").await?;
        assert_eq!(version, format!("版本 {}", env!("CARGO_PKG_VERSION")));

        // 2. Signals appear once the model has loaded its history.
        wait_for(
            &client,
            "[data-testid=signal-detail] [data-testid=trade-signal]",
            240,
        )
        .await?;
        shot(&client, "02-signals").await?;

        // 3. The chart of the selected symbol.
        wait_for(&client, "[data-testid=chart] canvas", 30).await?;
        shot(&client, "03-chart").await?;

        // 4. One click from the signal: the ticket is filled, previewed, confirmed.
        click(&client, "[data-testid=trade-signal]").await?;
        wait_for(&client, "#panel-trade:not([hidden])", 10).await?;
        click(&client, "[data-testid=preview-order]").await?;
        wait_for(&client, "[data-testid=risk-result]", 30).await?;
        shot(&client, "04-preview").await?;
        let risk = text(&client, "[data-testid=risk-result]").await?;
        if client
            .find(Locator::Css("[data-testid=confirm-order]:not([disabled])"))
            .await
            .is_err()
        {
            bail!("the preview did not allow the order: {risk}");
        }
        click(&client, "[data-testid=confirm-order]").await?;
        wait_for(&client, "[data-testid=order-result][data-kind=ok]", 30).await?;
        shot(&client, "05-placed").await?;

        // 5. The fill's OS notification: clicking it opens the records panel with the
        //    position and its TP and SL.
        let fill = notifications
            .wait_for("Fill", Duration::from_secs(30))
            .await?;
        assert!(
            fill.actions.first().is_some_and(|a| a == "default"),
            "the fill notification has no click action: {fill:?}"
        );
        let mut opened = false;
        // The app starts waiting for the click right after showing the notification; a
        // click sent before that is lost, so it is sent again until the panel opens.
        for _ in 0..10 {
            notifications.click(fill.id).await?;
            if wait_for(&client, "#panel-records:not([hidden])", 1)
                .await
                .is_ok()
            {
                opened = true;
                break;
            }
        }
        assert!(
            opened,
            "clicking the fill notification did not open the records panel"
        );
        wait_for(
            &client,
            "[data-testid=positions] button[data-testid^=close-]",
            30,
        )
        .await?;
        // The TP / SL cell shows both prices, not dashes.
        let tpsl = text(&client, "[data-testid=positions] tbody tr td:nth-child(9)").await?;
        assert!(
            !tpsl.contains('—') && tpsl.contains('/'),
            "TP/SL cell: {tpsl}"
        );
        shot(&client, "06-position").await?;

        // 6. Replay until the take-profit or stop-loss closes it.
        navigate(&client, "signals").await?;
        let mut closed = false;
        for _ in 0..30 {
            click(&client, "[data-testid=replay-day]").await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            navigate(&client, "records").await?;
            click(&client, "[data-testid=sync-now]").await?;
            wait_for(&client, "[data-testid=sync-now]:not([disabled])", 60).await?;
            if client
                .find(Locator::Css(
                    "[data-testid=positions] button[data-testid^=close-]",
                ))
                .await
                .is_err()
            {
                closed = true;
                break;
            }
            navigate(&client, "signals").await?;
        }
        assert!(
            closed,
            "neither the take-profit nor the stop-loss triggered in 30 days"
        );
        // The round trip's fills are in the records (entry + exit).
        wait_for(&client, "[data-testid=trades] tbody tr:nth-child(2)", 30).await?;
        let fills = text(&client, "[data-testid=trades]").await?;
        assert!(
            fills.contains("signal") || fills.contains("信号"),
            "{fills}"
        );
        shot(&client, "07-records").await?;

        // 7. The ledger row with its platform 70% / user 30% split.
        navigate(&client, "profit-share").await?;
        wait_for(
            &client,
            "[data-testid=ps-ledger] tbody tr td:nth-child(6)",
            30,
        )
        .await?;
        // The cells show cents; the exact amounts are each number's `data-value`, read in one
        // script so a re-render cannot come between the cells.
        let exact = client
            .execute(
                "return [5, 6, 7].map((n) => document.querySelector(\
                 `[data-testid=ps-ledger] tbody tr td:nth-child(${n}) .num`)?.dataset.value ?? null)",
                vec![],
            )
            .await?;
        let amount = |i: usize| -> Result<f64> {
            exact[i]
                .as_str()
                .with_context(|| format!("ledger amount {i} in {exact}"))?
                .parse()
                .with_context(|| format!("ledger amount {i} in {exact}"))
        };
        let (shareable, platform, user) = (amount(0)?, amount(1)?, amount(2)?);
        assert!(
            (platform + user - shareable).abs() < 1e-9,
            "{platform} + {user} != {shareable}"
        );
        assert!(
            (platform - shareable * 0.7).abs() < 1e-6,
            "platform {platform} of {shareable}"
        );
        shot(&client, "08-ledger").await?;

        // 8. Export the statement as CSV: the file is where the UI says.
        click(&client, "[data-testid=ps-export-ledger]").await?;
        wait_for(&client, "[data-testid=ps-export-status][data-kind=ok]", 30).await?;
        let said = text(&client, "[data-testid=ps-export-status]").await?;
        let exports = driver.app_data_dir().join("exports");
        let files: Vec<_> = std::fs::read_dir(&exports)
            .with_context(|| format!("{} missing ({said})", exports.display()))?
            .filter_map(|e| e.ok())
            .collect();
        assert_eq!(files.len(), 1, "{said}");
        let csv = std::fs::read_to_string(files[0].path())?;
        assert!(
            csv.starts_with("time_utc,trade_ref,symbol,total_pnl"),
            "{csv}"
        );
        assert_eq!(
            csv.lines().count(),
            2,
            "a header and the one ledger row: {csv}"
        );
        shot(&client, "09-exported").await?;

        // A second launch hands over to the running window and exits at once.
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
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if outcome.is_err() {
        let _ = shot(&client, "failure").await;
    }
    client.close().await?;
    outcome
}
