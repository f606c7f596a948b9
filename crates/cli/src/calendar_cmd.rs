//! `mamori calendar …`: the Japanese business calendar (pure commands: no `--as`, nothing
//! stored). Holidays of the Act on National Holidays, the complaint window of seed 003 Art. 23(3)
//! (the data folder's policy when `--data` is initialized, else the tokyo-one preset, or
//! `--preset NAME`), and plain business days.

use clap::Subcommand;
use mamori_service::complaint;
use mamori_service::store::Store;
use mamori_service::{Config, Mamori, ServiceError};

use crate::{Out, bad, json};

#[derive(Subcommand, Debug)]
pub enum CalendarCmd {
    /// Japan's holidays of YEAR (1948–2150): date, name and kind.
    Holidays {
        #[arg(value_name = "YEAR", allow_hyphen_values = true)]
        year: String,
    },
    /// Whether the complaint window is open at TIME, and when it next opens.
    Window {
        /// RFC 3339; a time without an offset is Japan time.
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        at: Option<String>,
        /// The window of a built-in preset instead of the data folder's policy.
        #[arg(long)]
        preset: Option<String>,
    },
    /// The N-th business day after DATE (Monday to Friday, not a holiday, not Dec 29 – Jan 3).
    AddBusinessDays {
        #[arg(value_name = "DATE", allow_hyphen_values = true)]
        date: String,
        #[arg(value_name = "N", allow_hyphen_values = true)]
        n: String,
    },
}

pub async fn run(cmd: CalendarCmd, cfg: &Config) -> Result<Out, ServiceError> {
    match cmd {
        CalendarCmd::Holidays { year } => {
            let list = complaint::holidays(&year, "YEAR")?;
            let text = list
                .iter()
                .map(|h| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        h.date,
                        h.name,
                        h.name_en,
                        json(&h.kind).as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Out::Both(json(&list), text))
        }
        CalendarCmd::Window { at, preset } => {
            let at = at.ok_or_else(|| {
                bad("--at: is required: give a time such as 2026-04-01T10:00:00+09:00")
            })?;
            let window = match preset {
                Some(p) => complaint::preset_window(&p)?,
                None if Store::is_initialized(&cfg.data_dir) => {
                    Mamori::open(cfg).await?.complaint_window()?
                }
                None => complaint::preset_window("tokyo-one")?,
            };
            let state = complaint::window_at(&window, &at, "--at")?;
            let text = match &state.next_open {
                _ if state.open => "open".to_string(),
                Some(next) => format!("closed; next opening {next}"),
                None => "closed; the window never opens".to_string(),
            };
            Ok(Out::Both(json(&state), text))
        }
        CalendarCmd::AddBusinessDays { date, n } => {
            let d = complaint::add_business_days(&date, &n, "DATE", "N")?;
            let text = d.date.clone();
            Ok(Out::Both(json(&d), text))
        }
    }
}
