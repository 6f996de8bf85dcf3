//! `kie`: Kie Studio from the command line, for scripts and batch work. The same library,
//! keyring and task journal as the app, opened through the same facade ([`studio::App`]):
//! each command is the app's command of the same meaning, plus what only a command line
//! does (wait for a task while showing progress, find a task by Kie's id, choose the
//! library folder). Human output by default, `--json` for scripts.
//!
//! Exit codes ([`exit`]): 0 ok, 2 invalid input, 3 key missing or rejected, 4 insufficient
//! credits, 5 generation failed, 6 outcome unknown, 1 anything else.

mod actions;
mod args;
mod batch;
mod characters;
mod exit;
mod fields;
mod generate;
mod key;
mod library_dir;
mod models;
mod open;
mod output;
mod polling;
mod presets;
mod spend;
mod tasks;

use std::ffi::OsString;

use clap::Parser;
use studio::StudioError;

use args::{Cli, Command};
use output::Out;

fn main() {
    // First, before any thread starts: `KIE_API_KEY` is read once and leaves the environment.
    studio::keys::take_env_key();
    // Diagnostic lines (the core's, and this program's) go to a daily file in the log folder
    // as well as stderr; a panic leaves a crash note there. What the user asked for stays on
    // stdout and stderr as printed.
    studio::logs::init(studio::logs::Program::Cli);
    std::process::exit(run(std::env::args_os().collect()));
}

/// Runs the command these arguments name; returns the exit code.
fn run(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::INVALID } else { exit::OK };
        }
    };
    let out = Out { json: cli.json };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kie: cannot start: {e}");
            return exit::OTHER;
        }
    };
    match rt.block_on(dispatch(&cli, &out)) {
        Ok(code) => code,
        Err(e) => out.error(&e),
    }
}

async fn dispatch(cli: &Cli, out: &Out) -> Result<i32, StudioError> {
    match &cli.command {
        // Only the user's settings file: no library is opened.
        Command::Library { dir, default } => library_dir::run(out, dir.as_deref(), *default),
        Command::Key { action } => key::run(&open::app(cli)?, out, action).await,
        Command::Models { model } => models::run(&open::app(cli)?, out, model.as_deref()).await,
        Command::Generate { model, preset, wait, fields } => {
            generate::run(&open::app(cli)?, out, model.as_deref(), preset.as_deref(), *wait, fields).await
        }
        Command::Status { task } => tasks::status(&open::app(cli)?, out, task).await,
        Command::List { search, limit } => tasks::list(&open::app(cli)?, out, search.clone(), *limit).await,
        Command::Tasks { state, limit } => actions::list(&open::app(cli)?, out, state.as_deref(), *limit).await,
        Command::Check { task, wait } => actions::check(&open::app(cli)?, out, task, *wait).await,
        Command::Attach { task, kie_id } => actions::attach(&open::app(cli)?, out, task, kie_id).await,
        Command::Cancel { task } => actions::cancel(&open::app(cli)?, out, task).await,
        Command::Resubmit { task, yes, wait } => actions::resubmit(&open::app(cli)?, out, task, *yes, *wait).await,
        Command::Characters { action } => characters::run(&open::app(cli)?, out, action).await,
        Command::Presets { action } => presets::run(&open::app(cli)?, out, action.as_ref()).await,
        Command::Batch { file, model, max_credits, format, name, dry_run, wait, fields } => {
            let a = batch::BatchArgs {
                file,
                model: model.as_deref(),
                max_credits: *max_credits,
                format: format.as_deref(),
                name: name.as_deref(),
                dry_run: *dry_run,
                wait: *wait,
                fields,
            };
            batch::run(&open::app(cli)?, out, a).await
        }
        Command::Batches { action } => batch::batches(&open::app(cli)?, out, action.as_ref()).await,
        Command::Resume => tasks::resume(&open::app(cli)?, out).await,
        Command::Spend { days } => spend::run(&open::app(cli)?, out, *days).await,
    }
}
