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
    /// app does.
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
