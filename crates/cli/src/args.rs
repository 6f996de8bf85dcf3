//! The command line's grammar (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "kie", version, about = "Make Sora 2 videos through Kie.ai, into your Kie Studio library")]
pub struct Cli {
    /// Print JSON instead of text (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// The library folder (default: $KIE_STUDIO_LIBRARY, else the folder chosen with
    /// `kie library`, else ~/.local/share/kie-studio).
    #[arg(long, global = true, value_name = "DIR")]
    pub library: Option<PathBuf>,
    /// Kie's API base URL (default: $KIE_API_BASE, else https://api.kie.ai).
    #[arg(long, global = true, value_name = "URL")]
    pub api_base: Option<String>,
    /// Kie's upload base URL (default: $KIE_UPLOAD_BASE, else https://kieai.redpandaai.co).
    #[arg(long, global = true, value_name = "URL")]
    pub upload_base: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// (--image_urls a.png --image_urls b.png). A local file (a path, or file://) given for a
    /// link that takes one (pictures, clips, sounds: see `kie models <model>`) is checked by
    /// its bytes against the field's limits, kept in the library and uploaded first, as the
    /// app does. `--preset NAME` starts from a saved preset's values (see `kie presets`):
    /// the fields given override them, and the model is the preset's unless given.
    Generate {
        /// The model (optional with --preset: the preset's).
        // Takes a leading `--field` too (clap would refuse it): `generate::run` puts it back
        // among the fields, so `kie generate --preset p --prompt x` works.
        #[arg(allow_hyphen_values = true)]
        model: Option<String>,
        /// Start from this preset's values.
        #[arg(long, value_name = "NAME")]
        preset: Option<String>,
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
    /// Every task, newest first: what runs, what failed, and what needs you (an outcome
    /// unknown, a stale task), each with the commands that act on it.
    Tasks {
        /// Only tasks in this state: submitting, running, stale, succeeded, failed,
        /// outcome_unknown, cancelled.
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Check a task again now: a stale task is asked about, files that did not arrive are
    /// downloaded again. For a task whose outcome is unknown, says what you can do.
    Check {
        /// The task's number in the library, or Kie's task id.
        task: String,
        /// Keep polling until it is over and its files are in.
        #[arg(long)]
        wait: bool,
    },
    /// Give a task whose outcome is unknown the Kie task id you found in your Kie account:
    /// it is tracked again.
    Attach {
        /// The task's number in the library.
        task: String,
        /// Kie's task id, from your Kie account.
        #[arg(value_name = "KIE_ID")]
        kie_id: String,
    },
    /// Stop tracking a task. Kie cannot cancel: it may still finish and charge, and a late
    /// result still lands in the library.
    Cancel {
        /// The task's number in the library, or Kie's task id.
        task: String,
    },
    /// Send a failed task's input (or one whose outcome is unknown) again, as a new task:
    /// it is paid for again. Asks first (answer y), unless --yes.
    Resubmit {
        /// The task's number in the library, or Kie's task id.
        task: String,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
        /// Wait, showing progress, until the result is in the library.
        #[arg(long)]
        wait: bool,
    },
    /// The results in the library, newest first (`kie tasks` shows every task).
    List {
        /// Only results whose prompt or notes match.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Presets: a form's values under a name (shared with the app), to start from with
    /// `kie generate --preset NAME`. Without an action, lists them.
    Presets {
        #[command(subcommand)]
        action: Option<PresetAction>,
    },
    /// Your @handles.
    Characters {
        #[command(subcommand)]
        action: CharacterAction,
    },
    /// Many videos from one list: `kie batch prompts.txt --model sora-2-text-to-video
    /// --n_frames 15 --max-credits 200 --wait`. The list: one prompt per line (any file), CSV
    /// with a header naming the fields (.csv), or one JSON object per line (.jsonl); `-` reads
    /// standard input. The fields given here are every item's start; a local file (a picture
    /// path in a CSV column) is checked and uploaded. The whole list is checked before anything
    /// is sent (every problem named with its line). Items are sent in order within Kie's
    /// limits and stop before the cap (default: the batch's estimate) or your balance would be
    /// passed. Without --wait it returns once every item is sent; a batch stopped midway
    /// (Ctrl-C, a crash) continues with `kie resume` or the app, never sending an item twice.
    Batch {
        /// The list's file, or `-` for standard input.
        file: PathBuf,
        #[arg(long)]
        model: Option<String>,
        /// Stop before the batch would spend more than this many credits.
        #[arg(long, value_name = "N")]
        max_credits: Option<f64>,
        /// How the list is written: lines, csv or jsonl (default: by the file's extension).
        #[arg(long)]
        format: Option<String>,
        /// A name for the batch (default: what it is).
        #[arg(long)]
        name: Option<String>,
        /// Check the list and show the total; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Wait, showing progress, until every result is in the library.
        #[arg(long)]
        wait: bool,
        /// Every item's fields, as --<field> <value> pairs.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "--FIELD VALUE")]
        fields: Vec<String>,
    },
    /// Your batches, newest first; pause, resume or cancel one.
    Batches {
        #[command(subcommand)]
        action: Option<BatchAction>,
    },
    /// Poll and download everything unfinished, then exit.
    Resume,
    /// Credits spent per day and per model over the last days, with the total: Kie's own
    /// figures, and estimates (marked *) where Kie gave none, as for tasks still running.
    Spend {
        /// How many days back, today included (1–366).
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
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
pub enum BatchAction {
    /// Send nothing more until resumed.
    Pause { id: i64 },
    /// Send the rest (also after a stop at the cap or the balance: checked again first).
    Resume {
        id: i64,
        /// Wait until every result is in the library.
        #[arg(long)]
        wait: bool,
    },
    /// Drop the items not yet sent (those sent go on).
    Cancel { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum KeyAction {
    /// Read the key from the terminal (hidden) or standard input; never from an argument.
    /// Kie is asked for the balance first, as the app does: a key Kie refuses, or one that
    /// cannot be checked because Kie cannot be reached, is not saved.
    Set {
        /// The one deliberate exception to that rule: save the key without asking Kie
        /// (for a machine that cannot reach Kie yet). A wrong key is only found out later.
        #[arg(long)]
        no_check: bool,
    },
    /// Whether a key is set, where, and its last four characters.
    Status,
    /// Remove the key from the keyring.
    Delete,
}

#[derive(Subcommand, Debug)]
pub enum PresetAction {
    /// Every preset, by name.
    List,
    /// Save the values given under NAME for MODEL (replacing a preset of that name). A preset
    /// may be half a form; local files stay paths, uploaded when the preset is used.
    Save {
        name: String,
        model: String,
        /// The model's fields, as --<field> <value> pairs.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "--FIELD VALUE")]
        fields: Vec<String>,
    },
    /// Delete the preset of this name (in any case).
    Delete { name: String },
}

#[derive(Subcommand, Debug)]
pub enum CharacterAction {
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
