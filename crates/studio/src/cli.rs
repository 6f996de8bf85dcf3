//! The `kie` command-line tool: the same library, keyring and runner as the app, for
//! scripting and batch work. Human output by default, `--json` for scripts.
//!
//! Exit codes: 0 ok, 2 invalid input, 3 key missing or rejected, 4 insufficient credits,
//! 5 generation failed, 6 outcome unknown, 1 anything else.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use kie::catalogue::{credits_to_usd, Catalogue, FieldType, ModelSpec};
use kie::client::ClientConfig;
use kie::{ApiKey, KieClient};
use serde_json::{json, Map, Value};

use crate::characters::{self, NewCharacter};
use crate::clock::{Clock, SystemClock};
use crate::db::Db;
use crate::error::StudioError;
use crate::events::StudioEvent;
use crate::keys::KeyStore;
use crate::library::{self, ResultQuery};
use crate::paths::{self, LibraryPaths};
use crate::poller::Until;
use crate::runner::{PollConfig, RunnerConfig, Studio};
use crate::settings;
use crate::tasks::{self, Task, TaskStatus};

pub const EXIT_OK: i32 = 0;
pub const EXIT_OTHER: i32 = 1;
pub const EXIT_INVALID: i32 = 2;
pub const EXIT_KEY: i32 = 3;
pub const EXIT_CREDITS: i32 = 4;
pub const EXIT_FAILED: i32 = 5;
pub const EXIT_UNKNOWN: i32 = 6;

#[derive(Parser, Debug)]
#[command(name = "kie", version, about = "Make Sora 2 videos through Kie.ai, into your Kie Studio library")]
struct Cli {
    /// Print JSON instead of text (for scripts).
    #[arg(long, global = true)]
    json: bool,
    /// The library folder (default: $KIE_STUDIO_LIBRARY, else ~/.local/share/kie-studio).
    #[arg(long, global = true, value_name = "DIR")]
    library: Option<PathBuf>,
    /// Kie's API base URL (default: $KIE_API_BASE, else https://api.kie.ai).
    #[arg(long, global = true, value_name = "URL")]
    api_base: Option<String>,
    /// Kie's upload base URL (default: $KIE_UPLOAD_BASE, else https://kieai.redpandaai.co).
    #[arg(long, global = true, value_name = "URL")]
    upload_base: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Store, check or remove your Kie API key (kept in the system keyring).
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// The models, their fields and prices.
    Models {
        /// Show one model in full.
        model: Option<String>,
    },
    /// Make something: `kie generate sora-2-text-to-video --prompt "a fox in the snow" --wait`.
    /// Fields are given as --<field> <value>; see `kie models <model>`. Repeat a list field
    /// (--image_urls a.png --image_urls b.png); a local image file is uploaded first.
    #[command(disable_help_flag = false)]
    Generate {
        model: String,
        /// Wait, showing progress, until the result is in the library.
        #[arg(long)]
        wait: bool,
        /// The model's fields, as --<field> <value> pairs.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "--FIELD VALUE")]
        fields: Vec<String>,
    },
    /// One task: its state, and its files once downloaded.
    Status {
        /// The task's number in the library, or Kie's task id.
        task: String,
    },
    /// Everything in the library, newest first.
    List {
        /// Only results whose prompt or notes match.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Your @handles.
    Characters {
        #[command(subcommand)]
        action: CharacterAction,
    },
    /// Poll and download everything unfinished, then exit.
    Resume,
    /// Show the library folder, or choose another one (kept in ~/.config/kie-studio/config.json,
    /// shared with the app; KIE_STUDIO_LIBRARY still wins). `--default` goes back to the default.
    Library {
        /// The folder to use from now on (created if missing).
        dir: Option<PathBuf>,
        #[arg(long, conflicts_with = "dir")]
        default: bool,
    },
}

#[derive(Subcommand, Debug)]
enum KeyAction {
    /// Read the key from the terminal (hidden) or standard input; never from an argument.
    Set {
        /// Save without asking Kie whether the key works.
        #[arg(long)]
        no_check: bool,
    },
    /// Whether a key is set, where, and its last four characters.
    Status,
    /// Remove the key from the keyring.
    Delete,
}

#[derive(Subcommand, Debug)]
enum CharacterAction {
    List,
    /// Register an @handle you already have.
    Add {
        handle: String,
        /// Kie's character id, if you know it.
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        prompt: Option<String>,
    },
    /// Make a character from a finished video (the characters-pro model).
    CreateFrom {
        /// The video's task: its number in the library, or Kie's task id.
        task: String,
        /// The @handle to ask for.
        #[arg(long)]
        handle: Option<String>,
        /// Who the character is.
        #[arg(long)]
        prompt: String,
        #[arg(long)]
        safety: Option<String>,
        /// The slice of the video showing the character, "start,end" in seconds (1–4 s).
        #[arg(long)]
        timestamps: Option<String>,
        #[arg(long)]
        wait: bool,
    },
    Remove {
        handle: String,
    },
}

/// Where output goes, and in which form.
struct Out {
    json: bool,
}

impl Out {
    fn print(&self, value: &Value, human: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            println!("{}", human());
        }
    }
}

/// Run the CLI with these arguments; returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_INVALID } else { EXIT_OK };
        }
    };
    let out = Out { json: cli.json };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kie: cannot start: {e}");
            return EXIT_OTHER;
        }
    };
    match rt.block_on(run(&cli, &out)) {
        Ok(code) => code,
        Err(e) => report_error(&out, &e),
    }
}

fn report_error(out: &Out, e: &StudioError) -> i32 {
    let code = exit_code_for(e.code());
    if out.json {
        let mut v = json!({"error": {"code": e.code(), "message": e.to_string()}});
        if let StudioError::InvalidInput(problems) = e {
            v["error"]["problems"] = serde_json::to_value(problems).unwrap_or_default();
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        eprintln!("kie: {e}");
        if let Some(hint) = hint_for(e.code()) {
            eprintln!("{hint}");
        }
    }
    code
}

/// From a stable error code to the documented exit code.
pub fn exit_code_for(code: &str) -> i32 {
    match code {
        "invalid_input" | "invalid_request" => EXIT_INVALID,
        "no_key" | "unauthorized" | "keyring_unavailable" => EXIT_KEY,
        "insufficient_credits" => EXIT_CREDITS,
        "generation_failed" | "upstream_timeout" | "model_paused" | "feature_disabled" => EXIT_FAILED,
        "outcome_unknown" => EXIT_UNKNOWN,
        _ => EXIT_OTHER,
    }
}

fn hint_for(code: &str) -> Option<&'static str> {
    Some(match code {
        "no_key" | "unauthorized" | "keyring_unavailable" => {
            "Set a working key with `kie key set` (get one at https://kie.ai/api-key)."
        }
        "insufficient_credits" => "Top up your credits at https://kie.ai, then try again.",
        "outcome_unknown" => {
            "Kie may or may not have this task; it was not sent again, so you are not charged twice. \
             Check your Kie account; resubmit on purpose if it is not there."
        }
        "model_paused" | "feature_disabled" => "Kie has switched this model off for now; try again later.",
        "rate_limited" | "unavailable" | "server_error" | "timeout" | "connection" => {
            "Kie is busy or unreachable; try again in a little while."
        }
        _ => return None,
    })
}

fn env_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn env_string(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn run(cli: &Cli, out: &Out) -> Result<i32, StudioError> {
    match &cli.command {
        Command::Key { action } => key_command(cli, out, action).await,
        Command::Models { model } => models_command(out, model.as_deref()),
        Command::Generate { model, wait, fields } => {
            // Flags may come after the fields (`--prompt x --wait`): take them out first.
            let wait = *wait || fields.iter().any(|f| f == "--wait");
            let json = out.json || fields.iter().any(|f| f == "--json");
            let fields: Vec<String> = fields.iter().filter(|f| *f != "--wait" && *f != "--json").cloned().collect();
            let out = &Out { json };
            let studio = open_studio(cli, true)?;
            let input = parse_fields(&studio, model, &fields).await?;
            generate(&studio, out, model, input, wait).await
        }
        Command::Status { task } => {
            let studio = open_studio(cli, false)?;
            let task = find_task(studio.db(), task)?;
            print_task(&studio, out, &task)?;
            Ok(exit_for_task(&task))
        }
        Command::List { search, limit } => {
            let (paths, db) = open_library(cli)?;
            let q = ResultQuery { search: search.clone(), limit: *limit, ..ResultQuery::default() };
            let rows = library::list_results(&db, &q)?;
            out.print(&serde_json::to_value(&rows).unwrap_or_default(), || {
                if rows.is_empty() {
                    return "The library is empty.".to_string();
                }
                rows.iter()
                    .map(|r| {
                        let file = r.result.path.as_deref().map(|p| paths.root().join(p).display().to_string());
                        format!(
                            "#{:<5} {:<26} {:<9} {}\n       {}",
                            r.result.task_id,
                            r.model,
                            r.result.kind.as_str(),
                            r.prompt.as_deref().map(|p| ellipsize(p, 60)).unwrap_or_default(),
                            file.unwrap_or_else(|| "(text result)".into())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(EXIT_OK)
        }
        Command::Characters { action } => characters_command(cli, out, action).await,
        Command::Library { dir, default } => library_command(out, dir.as_deref(), *default),
        Command::Resume => {
            let studio = open_studio(cli, true)?;
            let before = tasks::unfinished(studio.db())?.len();
            let progress = spawn_progress_printer(&studio, out.json);
            studio.run(Until::Idle).await?;
            progress.abort();
            let v = json!({"resumed": before});
            out.print(&v, || format!("Done: {before} unfinished task(s) picked up; nothing left to poll or download."));
            Ok(EXIT_OK)
        }
    }
}

fn open_library(cli: &Cli) -> Result<(LibraryPaths, Db), StudioError> {
    let paths = match &cli.library {
        Some(dir) => LibraryPaths::new(absolute(dir))?,
        None => crate::config::resolve_library(env_var)?.0,
    };
    paths.create_dirs().map_err(StudioError::io(format!("create the library at {}", paths.root().display())))?;
    let db = Db::open(&paths.db(), SystemClock.now_ms())?;
    Ok((paths, db))
}

fn absolute(p: &std::path::Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

/// The studio over the library; `need_key` fails early with a clear message when no key is set.
fn open_studio(cli: &Cli, need_key: bool) -> Result<Studio, StudioError> {
    let (paths, db) = open_library(cli)?;
    let key = match key_store().load(env_string)? {
        Some((key, _)) => key,
        None if need_key => return Err(StudioError::NoKey),
        // Local-only commands still get a client; it is never used without a key.
        None => ApiKey::new("no-key").expect("non-empty"),
    };
    let client = KieClient::new(client_config(cli, key, &db)?)?;
    let mut runner = RunnerConfig { crash_at: env_string("KIE_STUDIO_CRASH_AT"), ..RunnerConfig::default() };
    // For tests and the demo: faster polling and a shorter lease on interrupted creates.
    if let Some(scale) = env_string("KIE_STUDIO_POLL_SCALE").and_then(|s| s.parse::<f64>().ok()) {
        runner.poll = PollConfig::scaled(scale);
    }
    if let Some(ms) = env_string("KIE_STUDIO_SUBMIT_LEASE_MS").and_then(|s| s.parse().ok()) {
        runner.submit_lease_ms = ms;
    }
    Ok(Studio::new(db, paths, client, Catalogue::builtin().clone(), Arc::new(SystemClock), runner))
}

/// Kie's hosts: the flags, else the environment, else the library's settings, else Kie's.
fn client_config(cli: &Cli, key: ApiKey, db: &Db) -> Result<ClientConfig, StudioError> {
    let api = cli.api_base.clone().or_else(|| env_string(crate::session::API_BASE_ENV));
    let upload = cli.upload_base.clone().or_else(|| env_string(crate::session::UPLOAD_BASE_ENV));
    Ok(settings::client_config(db, key, api, upload)?)
}

async fn key_command(cli: &Cli, out: &Out, action: &KeyAction) -> Result<i32, StudioError> {
    let store = key_store();
    match action {
        KeyAction::Set { no_check } => {
            let key = read_key()?;
            if !no_check {
                let (_, db) = open_library(cli)?;
                match KieClient::new(client_config(cli, key.clone(), &db)?)?.credits().await {
                    Ok(balance) => {
                        store.save(&key)?;
                        let v = json!({"saved": true, "last4": key.last4(), "credits": balance});
                        out.print(&v, || {
                            format!("Key …{} saved to the system keyring. Balance: {balance} credits.", key.last4())
                        });
                        return Ok(EXIT_OK);
                    }
                    Err(e @ kie::KieError::Unauthorized(_)) => return Err(e.into()),
                    Err(e) => eprintln!("kie: could not check the key with Kie ({e}); saving it anyway."),
                }
            }
            store.save(&key)?;
            out.print(&json!({"saved": true, "last4": key.last4()}), || {
                format!("Key …{} saved to the system keyring.", key.last4())
            });
            Ok(EXIT_OK)
        }
        KeyAction::Status => {
            let status = store.status(env_string)?;
            out.print(&serde_json::to_value(&status).unwrap_or_default(), || match (&status.source, &status.last4) {
                (Some(src), Some(l4)) => format!(
                    "A key is set (…{l4}), from the {}.",
                    match src {
                        crate::keys::KeySource::Environment => "KIE_API_KEY environment variable",
                        crate::keys::KeySource::Keyring => "system keyring",
                    }
                ),
                _ => "No key is set. Run `kie key set`.".into(),
            });
            Ok(if status.set { EXIT_OK } else { EXIT_KEY })
        }
        KeyAction::Delete => {
            store.delete()?;
            out.print(&json!({"deleted": true}), || "The key was removed from the system keyring.".into());
            Ok(EXIT_OK)
        }
    }
}

/// The app's keyring entry; `KIE_STUDIO_KEYRING_SERVICE` names another (tests keep apart).
fn key_store() -> KeyStore {
    env_string("KIE_STUDIO_KEYRING_SERVICE").map(KeyStore::with_service).unwrap_or_default()
}

fn library_command(out: &Out, dir: Option<&std::path::Path>, to_default: bool) -> Result<i32, StudioError> {
    let file = crate::config::config_file(env_var)
        .ok_or_else(|| StudioError::Refused("No home folder: cannot keep settings.".into()))?;
    if dir.is_some() || to_default {
        let mut cfg = crate::config::UserConfig::load(&file)?;
        cfg.library_path = dir.map(absolute);
        if let Some(d) = &cfg.library_path {
            // Refuse a folder that cannot hold a library before writing it down.
            let lib = LibraryPaths::new(d.clone())?;
            lib.create_dirs().map_err(StudioError::io(format!("create the library at {}", d.display())))?;
        }
        cfg.save(&file)?;
    }
    let (lib, source) = crate::config::resolve_library(env_var)?;
    let why = match source {
        paths::RootSource::Env => "from KIE_STUDIO_LIBRARY",
        paths::RootSource::Setting => "chosen with `kie library`",
        paths::RootSource::Default => "the default",
    };
    let v = json!({"library": lib.root(), "source": format!("{source:?}").to_lowercase(), "config": file});
    out.print(&v, || format!("Library: {} ({why})", lib.root().display()));
    Ok(EXIT_OK)
}

/// The key comes from a hidden prompt or from standard input, never from an argument
/// (arguments show up in process lists and shell history).
fn read_key() -> Result<ApiKey, StudioError> {
    let raw = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Kie API key (input hidden): ").map_err(StudioError::io("read the key"))?
    } else {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(StudioError::io("read the key from standard input"))?;
        s
    };
    ApiKey::new(raw).ok_or(StudioError::Key(crate::keys::KeyError::Empty))
}

fn models_command(out: &Out, model: Option<&str>) -> Result<i32, StudioError> {
    let cat = Catalogue::builtin();
    match model {
        None => {
            out.print(&serde_json::to_value(&cat.models).unwrap_or_default(), || {
                let mut s = String::new();
                for m in &cat.models {
                    s.push_str(&format!("{:<26} {}\n{:<26} {}\n", m.id, m.name, "", m.summary));
                }
                s.push_str("\n`kie models <model>` shows its fields and prices.");
                s
            });
            Ok(EXIT_OK)
        }
        Some(id) => {
            let Some(m) = cat.model(id) else {
                return Err(StudioError::InvalidInput(vec![kie::validate::Problem::new(
                    "model",
                    "unknown_model",
                    format!("There is no model {id:?}. Run `kie models` to see them."),
                )]));
            };
            out.print(&serde_json::to_value(m).unwrap_or_default(), || describe_model(m));
            Ok(EXIT_OK)
        }
    }
}

fn describe_model(m: &ModelSpec) -> String {
    let mut s = format!("{} ({})\n{}\n\nFields:\n", m.name, m.id, m.summary);
    for f in &m.fields {
        let req = if f.required { " (required)" } else { "" };
        s.push_str(&format!("  --{:<22} {}{}\n", f.name, f.label, req));
        if !f.options.is_empty() {
            let opts: Vec<String> = f
                .options
                .iter()
                .map(|o| {
                    format!("{} = {}", o.value.as_str().map(str::to_string).unwrap_or(o.value.to_string()), o.label)
                })
                .collect();
            s.push_str(&format!("  {:<24} one of: {}\n", "", opts.join(", ")));
        }
        if let Some(d) = &f.default {
            s.push_str(&format!("  {:<24} default: {}\n", "", d.as_str().map(str::to_string).unwrap_or(d.to_string())));
        }
        if !f.help.is_empty() {
            s.push_str(&format!("  {:<24} {}\n", "", f.help));
        }
    }
    if let Some(p) = &m.pricing {
        s.push_str("\nPrice:\n");
        for r in &p.rules {
            let when: Vec<String> = r
                .when
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().map(str::to_string).unwrap_or(v.to_string())))
                .collect();
            let when = if when.is_empty() { "always".to_string() } else { when.join(", ") };
            s.push_str(&format!("  {:<30} {} credits (${:.2})\n", when, r.credits, credits_to_usd(r.credits)));
        }
    }
    s
}

/// `--field value` pairs into the model's input. List fields collect repeated flags; a JSON
/// array or object is read as JSON; a local image file is uploaded and replaced by its URL.
async fn parse_fields(studio: &Studio, model: &str, args: &[String]) -> Result<Map<String, Value>, StudioError> {
    let spec = studio.catalogue().model(model).ok_or_else(|| {
        StudioError::InvalidInput(vec![kie::validate::Problem::new(
            "model",
            "unknown_model",
            format!("There is no model {model:?}. Run `kie models` to see them."),
        )])
    })?;
    let mut input = Map::new();
    let mut problems = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let Some(name) = arg.strip_prefix("--") else {
            problems.push(kie::validate::Problem::new(
                arg.as_str(),
                "bad_format",
                format!("Expected --<field> <value>, got {arg:?}. See `kie models {model}`."),
            ));
            continue;
        };
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (name.to_string(), None),
        };
        // Accept --n-frames for n_frames.
        let name = if spec.field(&name).is_none() && spec.field(&name.replace('-', "_")).is_some() {
            name.replace('-', "_")
        } else {
            name
        };
        let raw = match inline.or_else(|| it.next().cloned()) {
            Some(v) => v,
            None => {
                problems.push(kie::validate::Problem::new(&name, "required", format!("--{name} needs a value.")));
                continue;
            }
        };
        let is_list = spec.field(&name).is_some_and(|f| f.kind == FieldType::List);
        let mut value = parse_value(&raw);
        if is_list {
            let list = input.entry(name.clone()).or_insert_with(|| Value::Array(Vec::new()));
            match (list, value) {
                (Value::Array(items), Value::Array(more)) => items.extend(more),
                (Value::Array(items), v) => items.push(v),
                _ => {}
            }
        } else {
            if let Value::String(s) = &value {
                if name == "origin_task_id" {
                    // A library task number stands for its Kie id.
                    if let Ok(t) = find_task(studio.db(), s) {
                        if let Some(k) = t.kie_task_id {
                            value = Value::String(k);
                        }
                    }
                }
            }
            input.insert(name, value);
        }
    }
    if !problems.is_empty() {
        return Err(StudioError::InvalidInput(problems));
    }
    upload_local_images(studio, &mut input).await?;
    Ok(input)
}

fn parse_value(raw: &str) -> Value {
    let t = raw.trim();
    if (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('{') && t.ends_with('}')) {
        if let Ok(v) = serde_json::from_str(t) {
            return v;
        }
    }
    Value::String(raw.to_string())
}

/// Local files given as image URLs are uploaded through Kie's upload API.
async fn upload_local_images(studio: &Studio, input: &mut Map<String, Value>) -> Result<(), StudioError> {
    let Some(Value::Array(items)) = input.get_mut("image_urls") else { return Ok(()) };
    for item in items.iter_mut() {
        let Some(s) = item.as_str() else { continue };
        let path = PathBuf::from(s.strip_prefix("file://").unwrap_or(s));
        if s.contains("://") && !s.starts_with("file://") || !path.is_file() {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(StudioError::io(format!("read {}", path.display())))?;
        if meta.len() > 10 * 1024 * 1024 {
            return Err(StudioError::InvalidInput(vec![kie::validate::Problem::new(
                "image_urls",
                "too_large",
                format!("{} is {:.1} MB; images can be at most 10 MB.", path.display(), meta.len() as f64 / 1e6),
            )]));
        }
        eprintln!("Uploading {} …", path.display());
        let up = studio.client().upload_file(&path, "kie-studio/images", None).await?;
        *item = Value::String(up.download_url);
    }
    Ok(())
}

async fn generate(
    studio: &Studio,
    out: &Out,
    model: &str,
    input: Map<String, Value>,
    wait: bool,
) -> Result<i32, StudioError> {
    studio.recover()?;
    let task = studio.submit(model, &input).await?;
    if task.status != TaskStatus::Running {
        print_task(studio, out, &task)?;
        return Ok(exit_for_task(&task));
    }
    if !out.json {
        let est = task.credits_estimated.map(|c| format!(", about {c} credits (${:.2})", credits_to_usd(c)));
        eprintln!(
            "Task #{} sent to Kie (id {}){}.",
            task.id,
            task.kie_task_id.as_deref().unwrap_or("?"),
            est.unwrap_or_default()
        );
    }
    if !wait {
        print_task(studio, out, &task)?;
        return Ok(EXIT_OK);
    }
    let progress = spawn_progress_printer(studio, out.json);
    studio.run(Until::TaskDone(task.id)).await?;
    progress.abort();
    if !out.json {
        eprintln!();
    }
    let task = tasks::get(studio.db(), task.id)?;
    print_task(studio, out, &task)?;
    Ok(exit_for_task(&task))
}

fn exit_for_task(task: &Task) -> i32 {
    match task.status {
        TaskStatus::Failed => match task.error_code.as_deref() {
            Some(code) if code != "generation_failed" => exit_code_for(code),
            _ => EXIT_FAILED,
        },
        TaskStatus::OutcomeUnknown => EXIT_UNKNOWN,
        _ => EXIT_OK,
    }
}

/// One progress line on stderr while waiting (not in JSON mode).
fn spawn_progress_printer(studio: &Studio, json: bool) -> tokio::task::JoinHandle<()> {
    let mut rx = studio.subscribe();
    tokio::spawn(async move {
        if json {
            return;
        }
        while let Ok(ev) = rx.recv().await {
            let line = match ev {
                StudioEvent::TaskChanged { task } => format!(
                    "#{} {} {}",
                    task.id,
                    task.kie_state.as_deref().unwrap_or(task.status.as_str()),
                    task.progress.map(|p| format!("{p:.0}%")).unwrap_or_default()
                ),
                StudioEvent::DownloadProgress { task_id, done, total, .. } => match total {
                    Some(t) if t > 0 => format!("#{task_id} downloading {:.0}%", done as f64 * 100.0 / t as f64),
                    _ => format!("#{task_id} downloading {} KB", done / 1024),
                },
                _ => continue,
            };
            eprint!("\r{line:<60}");
            let _ = std::io::stderr().flush();
        }
    })
}

fn find_task(db: &Db, reference: &str) -> Result<Task, StudioError> {
    let r = reference.trim().trim_start_matches('#');
    if let Ok(id) = r.parse::<i64>() {
        if let Ok(t) = tasks::get(db, id) {
            return Ok(t);
        }
    }
    tasks::by_kie_id(db, r)?.ok_or_else(|| StudioError::NotFound(format!("No task {reference:?} in this library.")))
}

fn print_task(studio: &Studio, out: &Out, task: &Task) -> Result<(), StudioError> {
    let results = library::results_for_task(studio.db(), task.id)?;
    let files: Vec<String> = results
        .iter()
        .filter_map(|r| r.path.as_deref())
        .filter_map(|p| studio.paths().resolve(p).ok())
        .map(|p| p.display().to_string())
        .collect();
    let v = json!({"task": task, "results": results, "files": files});
    out.print(&v, || {
        let mut s = format!("Task #{} · {} · {}", task.id, task.model, task.status);
        if let Some(k) = &task.kie_task_id {
            s.push_str(&format!("\nKie id: {k}"));
        }
        if let Some(p) = task.prompt() {
            s.push_str(&format!("\nPrompt: {}", ellipsize(p, 200)));
        }
        if task.status == TaskStatus::Running {
            s.push_str(&format!(
                "\nState: {} {}",
                task.kie_state.as_deref().unwrap_or("sent"),
                task.progress.map(|p| format!("{p:.0}%")).unwrap_or_default()
            ));
            if task.stale {
                s.push_str("\nKie has not finished it in a long time; `kie resume` after checking your account.");
            }
        }
        if let Some(m) = &task.fail_message {
            s.push_str(&format!("\nWhy: {m}"));
        }
        if let Some(c) = task.credits_consumed.or(task.credits_estimated) {
            let what = if task.credits_consumed.is_some() { "Credits" } else { "Estimated credits" };
            s.push_str(&format!("\n{what}: {c} (${:.2})", credits_to_usd(c)));
        }
        for f in &files {
            s.push_str(&format!("\nFile: {f}"));
        }
        for r in &results {
            if let Some(t) = &r.text_json {
                s.push_str(&format!("\nResult: {t}"));
            }
        }
        s
    });
    Ok(())
}

async fn characters_command(cli: &Cli, out: &Out, action: &CharacterAction) -> Result<i32, StudioError> {
    match action {
        CharacterAction::List => {
            let (_, db) = open_library(cli)?;
            let list = characters::list(&db)?;
            out.print(&serde_json::to_value(&list).unwrap_or_default(), || {
                if list.is_empty() {
                    return "No characters yet. `kie characters create-from <task> --prompt ...` makes one.".into();
                }
                list.iter()
                    .map(|c| {
                        format!(
                            "@{:<30} {}",
                            c.handle,
                            c.prompt.as_deref().map(|p| ellipsize(p, 60)).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(EXIT_OK)
        }
        CharacterAction::Add { handle, id, prompt } => {
            let (_, db) = open_library(cli)?;
            let c = characters::add(
                &db,
                NewCharacter {
                    handle: handle.clone(),
                    character_id: id.clone(),
                    prompt: prompt.clone(),
                    safety_instruction: None,
                    origin_task_id: None,
                },
                SystemClock.now_ms(),
            )?;
            out.print(&serde_json::to_value(&c).unwrap_or_default(), || format!("Added @{}.", c.handle));
            Ok(EXIT_OK)
        }
        CharacterAction::Remove { handle } => {
            let (_, db) = open_library(cli)?;
            let c = characters::get_by_handle(&db, handle)?.ok_or_else(|| {
                StudioError::NotFound(format!("No character @{}.", characters::normalize_handle(handle)))
            })?;
            characters::remove(&db, c.id)?;
            out.print(&json!({"removed": c.handle}), || format!("Removed @{}.", c.handle));
            Ok(EXIT_OK)
        }
        CharacterAction::CreateFrom { task, handle, prompt, safety, timestamps, wait } => {
            let studio = open_studio(cli, true)?;
            let origin = find_task(studio.db(), task)?;
            let Some(kie_id) = origin.kie_task_id.clone() else {
                return Err(StudioError::Refused(format!(
                    "Task #{} has no Kie task id to make a character from.",
                    origin.id
                )));
            };
            let mut input = Map::new();
            input.insert("origin_task_id".into(), Value::String(kie_id));
            input.insert("character_prompt".into(), Value::String(prompt.clone()));
            if let Some(h) = handle {
                input.insert("character_user_name".into(), Value::String(h.clone()));
            }
            if let Some(s) = safety {
                input.insert("safety_instruction".into(), Value::String(s.clone()));
            }
            if let Some(t) = timestamps {
                input.insert("timestamps".into(), Value::String(t.clone()));
            }
            generate(&studio, out, "sora-2-characters-pro", input, *wait).await
        }
    }
}

fn ellipsize(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max.saturating_sub(1)).collect::<String>())
    }
}
