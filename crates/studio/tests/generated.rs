//! Everything generated from the one declaration of the command surface
//! (`crates/studio/src/surface.rs`) and the Rust types, checked in and checked here:
//! - `ui/src/lib/bindings/`: the TypeScript types (ts-rs);
//! - `ui/src/lib/api/surface.ts`: the typed client, one function per command (arguments as
//!   one object, so a renamed Rust argument fails the UI's type check), one subscription per
//!   event;
//! - `src-tauri/commands.json`: the command list the shell's build script turns into one
//!   permission per command, and `src-tauri/capabilities/default.json`, which grants them;
//! - the command and event tables in `docs/ipc.md`;
//! - `ui/tests/fixtures/catalogue.json`: the catalogue as `get_catalogue` serves it (serde's
//!   defaults filled in), for the UI's pure-logic tests.
//!
//! The test fails when a committed file differs. To update them all:
//! `KIE_UPDATE_GENERATED=1 cargo test -p studio --test generated`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use studio::surface::{self, camel, TypeRefs};
use ts_rs::{Config, TS};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn ts_config(dir: &Path) -> Config {
    Config::new().with_out_dir(dir).with_large_int("number")
}

/// Doc comments as the macro saw them (`#[doc = " text"]` lines joined by newlines).
fn doc_lines(doc: &str) -> Vec<String> {
    doc.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

fn one_line(doc: &str) -> String {
    doc_lines(doc).join(" ")
}

fn jsdoc(doc: &str, indent: &str) -> String {
    let lines = doc_lines(doc);
    match lines.len() {
        0 => String::new(),
        1 => format!("{indent}/** {} */\n", lines[0]),
        _ => {
            let mut s = format!("{indent}/**\n");
            for l in lines {
                s.push_str(&format!("{indent} * {l}\n"));
            }
            s.push_str(&format!("{indent} */\n"));
            s
        }
    }
}

/// `get_app_info` → `getAppInfo`; `task_changed` → `onTaskChanged`.
fn method(name: &str) -> String {
    camel(name)
}

fn on(key: &str) -> String {
    let c = camel(key);
    format!("on{}{}", c[..1].to_uppercase(), &c[1..])
}

/// The TypeScript types the surface (and the error envelope) mention, exported.
fn export_bindings(dir: &Path) {
    let cfg = ts_config(dir);
    let mut refs = TypeRefs::new(ts_config(dir));
    for c in surface::commands() {
        for a in &c.args {
            (a.visit)(&mut refs);
        }
        (c.visit_returns)(&mut refs);
    }
    for e in surface::events() {
        (e.visit)(&mut refs);
    }
    refs.add::<studio::ApiError>();
    refs.add::<studio::events::StudioEvent>();
    for export in &refs.exporters {
        export(&cfg).unwrap();
    }
}

fn client() -> String {
    let cfg = ts_config(Path::new("unused"));
    let mut refs = TypeRefs::new(ts_config(Path::new("unused")));
    let commands = surface::commands();
    let events = surface::events();
    for c in &commands {
        for a in &c.args {
            (a.visit)(&mut refs);
        }
        (c.visit_returns)(&mut refs);
    }
    for e in &events {
        (e.visit)(&mut refs);
    }
    let mut imports: Vec<_> = refs.found.clone();
    imports.sort();

    let mut s = String::new();
    s.push_str(
        "// Generated from crates/studio/src/surface.rs by crates/studio/tests/generated.rs. Do not edit:\n\
         // change the surface in Rust, then `KIE_UPDATE_GENERATED=1 cargo test -p studio --test generated`.\n\n",
    );
    s.push_str("import type { Transport, Unsubscribe } from './transport';\n");
    for (name, path) in &imports {
        let module = path.trim_end_matches(".ts");
        s.push_str(&format!("import type {{ {name} }} from '../bindings/{module}';\n"));
    }
    s.push_str("\n/** Every command, by its name on the wire. */\nexport const COMMANDS = [\n");
    for c in &commands {
        s.push_str(&format!("  '{}',\n", c.name));
    }
    s.push_str("] as const;\nexport type CommandName = (typeof COMMANDS)[number];\n\n");
    s.push_str("/** Every app-wide event, by its name on the wire. */\nexport const EVENTS = {\n");
    for e in &events {
        s.push_str(&format!("  {}: '{}',\n", camel(e.key), e.name));
    }
    s.push_str("} as const;\n\n");

    s.push_str(
        "/** The app's surface: one function per command, one subscription per event. */\nexport interface Api {\n",
    );
    for c in &commands {
        s.push_str(&jsdoc(c.doc, "  "));
        let args = if c.args.is_empty() {
            String::new()
        } else {
            let fields: Vec<String> = c.args.iter().map(|a| format!("{}: {}", camel(a.name), (a.ts)(&cfg))).collect();
            format!("args: {{ {} }}", fields.join("; "))
        };
        s.push_str(&format!("  {}({}): Promise<{}>;\n", method(c.name), args, (c.returns)(&cfg)));
    }
    for e in &events {
        s.push_str(&jsdoc(e.doc, "  "));
        s.push_str(&format!("  {}(cb: (payload: {}) => void): Unsubscribe;\n", on(e.key), (e.payload)(&cfg)));
    }
    s.push_str("}\n\n");

    s.push_str("/** The surface over a transport (Tauri's IPC in the app, HTTP in a browser). */\n");
    s.push_str("export function createApi(t: Transport): Api {\n  return {\n");
    for c in &commands {
        let ret = (c.returns)(&cfg);
        if c.args.is_empty() {
            s.push_str(&format!("    {}: () => t.invoke('{}', {{}}) as Promise<{}>,\n", method(c.name), c.name, ret));
        } else {
            let fields: Vec<String> = c
                .args
                .iter()
                .map(|a| {
                    let k = camel(a.name);
                    if (a.ts)(&cfg).starts_with("(event: ") {
                        format!("{k}: t.channel(args.{k})")
                    } else {
                        format!("{k}: args.{k}")
                    }
                })
                .collect();
            s.push_str(&format!(
                "    {}: (args) => t.invoke('{}', {{ {} }}) as Promise<{}>,\n",
                method(c.name),
                c.name,
                fields.join(", "),
                ret
            ));
        }
    }
    for e in &events {
        s.push_str(&format!(
            "    {}: (cb) => t.listen<{}>(EVENTS.{}, cb),\n",
            on(e.key),
            (e.payload)(&cfg),
            camel(e.key)
        ));
    }
    s.push_str("  };\n}\n");
    s
}

fn commands_json() -> String {
    let names: Vec<&str> = surface::COMMAND_NAMES.to_vec();
    serde_json::to_string_pretty(&names).unwrap() + "\n"
}

fn capabilities() -> String {
    let mut permissions = vec!["core:event:allow-listen".to_string(), "core:event:allow-unlisten".to_string()];
    permissions.extend(surface::COMMAND_NAMES.iter().map(|c| format!("allow-{}", c.replace('_', "-"))));
    let v = serde_json::json!({
        "$schema": "../gen/schemas/desktop-schema.json",
        "identifier": "default",
        "description": "Generated from crates/studio/src/surface.rs. The main window: the app's own commands and \
                        listening to its events. No dialog, fs, shell or window permissions: the native file \
                        dialog and notifications are driven from Rust.",
        "windows": ["main"],
        "permissions": permissions,
    });
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

const BEGIN: &str = "<!-- generated:surface begin -->";
const END: &str = "<!-- generated:surface end -->";

fn ipc_tables() -> String {
    let cfg = ts_config(Path::new("unused"));
    let mut s = String::new();
    s.push_str(BEGIN);
    s.push_str("\n\n| command | arguments | returns | notes |\n|---|---|---|---|\n");
    for c in surface::commands() {
        let args: Vec<String> =
            c.args.iter().map(|a| format!("{}: {}", camel(a.name), (a.ts)(&cfg).replace('|', "\\|"))).collect();
        s.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            c.name,
            if args.is_empty() { String::new() } else { format!("`{}`", args.join(", ")) },
            (c.returns)(&cfg).replace('|', "\\|"),
            one_line(c.doc)
        ));
    }
    s.push_str("\n| event | payload | notes |\n|---|---|---|\n");
    for e in surface::events() {
        s.push_str(&format!("| `{}` | `{}` | {} |\n", e.name, (e.payload)(&cfg), one_line(e.doc)));
    }
    s.push('\n');
    s.push_str(END);
    s
}

fn with_tables(doc: &str) -> String {
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/ipc.md needs the markers {BEGIN} … {END}");
    };
    format!("{}{}{}", &doc[..b], ipc_tables(), &doc[e + END.len()..])
}

/// Every `.ts` file under `dir`, by its path relative to `dir`.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    studio::paths::files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "ts"))
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn update() -> bool {
    std::env::var_os("KIE_UPDATE_GENERATED").is_some()
}

const HOW: &str = "run KIE_UPDATE_GENERATED=1 cargo test -p studio --test generated";

/// One generated file: written when updating, else compared.
fn check_file(rel: &str, fresh: &str) {
    let path = repo().join(rel);
    if update() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == fresh, "{rel} is out of date with crates/studio/src/surface.rs; {HOW}");
}

#[test]
fn typescript_bindings_are_current() {
    let committed = repo().join("ui/src/lib/bindings");
    let fresh = tempfile::tempdir().unwrap();
    export_bindings(fresh.path());
    let fresh_files = read_dir(fresh.path());
    for must in ["Task.ts", "ModelSpec.ts", "ApiError.ts", "ApiErrorCode.ts", "ProgressEvent.ts"] {
        assert!(fresh_files.contains_key(must), "{must} missing from {:?}", fresh_files.keys());
    }
    if update() {
        let _ = std::fs::remove_dir_all(&committed);
        for (name, text) in &fresh_files {
            let path = committed.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        return;
    }
    assert!(read_dir(&committed) == fresh_files, "ui/src/lib/bindings is out of date; {HOW}");
}

#[test]
fn typescript_client_is_current() {
    let ts = client();
    // Every command and event is in it, once.
    for c in surface::COMMAND_NAMES {
        assert_eq!(ts.matches(&format!("t.invoke('{c}'")).count(), 1, "{c}");
    }
    assert!(ts.contains("onTaskChanged(cb: (payload: Task) => void): Unsubscribe;"), "{ts}");
    assert!(ts.contains("attachKieId(args: { id: number; kieTaskId: string }): Promise<Task>;"), "{ts}");
    assert!(ts.contains("onProgress: t.channel(args.onProgress)"), "{ts}");
    check_file("ui/src/lib/api/surface.ts", &ts);
}

#[test]
fn shell_permissions_are_current() {
    let caps = capabilities();
    for c in surface::COMMAND_NAMES {
        assert!(caps.contains(&format!("\"allow-{}\"", c.replace('_', "-"))), "{c}");
    }
    check_file("src-tauri/commands.json", &commands_json());
    check_file("src-tauri/capabilities/default.json", &caps);
}

#[test]
fn ipc_doc_tables_are_current() {
    let path = repo().join("docs/ipc.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let fresh = with_tables(&doc);
    for c in surface::COMMAND_NAMES {
        assert!(fresh.contains(&format!("| `{c}` |")), "{c}");
    }
    check_file("docs/ipc.md", &fresh);
}

#[test]
fn ui_catalogue_fixture_is_current() {
    let models = &kie::catalogue::Catalogue::builtin().models;
    check_file("ui/tests/fixtures/catalogue.json", &(serde_json::to_string_pretty(models).unwrap() + "\n"));
}

/// The error codes are one Rust enum; the TypeScript union has exactly its names.
#[test]
fn error_codes_are_one_union() {
    let cfg = ts_config(Path::new("unused"));
    let decl = studio::ApiErrorCode::decl(&cfg);
    for (_, name) in studio::error::ALL {
        assert!(decl.contains(&format!("\"{name}\"")), "{name} missing from {decl}");
    }
    assert_eq!(decl.matches('"').count(), studio::error::ALL.len() * 2, "{decl}");
}

const MODELS_BEGIN: &str = "<!-- generated:models begin -->";
const MODELS_END: &str = "<!-- generated:models end -->";

/// The README's model table, from the catalogue: every model with its price and source.
fn model_table() -> String {
    let mut s = format!(
        "{MODELS_BEGIN}\n\n| family | model | id | takes → makes | credits | price source |\n|---|---|---|---|---|---|\n"
    );
    for m in &kie::catalogue::Catalogue::builtin().models {
        let price = match m.price_range() {
            Some((lo, hi)) if lo == hi => format!("{lo}"),
            Some((lo, hi)) => format!("{lo}–{hi}"),
            None => "—".into(),
        };
        let est = if m.price_is_estimate() { " (estimate)" } else { "" };
        let source = m.pricing.as_ref().map_or("—", |p| p.source.as_str());
        s.push_str(&format!(
            "| {} | {} | `{}` | {} → {} | {price}{est} | {source} |\n",
            m.family,
            m.name,
            m.id,
            m.takes.join(", "),
            m.makes.as_deref().unwrap_or("—"),
        ));
    }
    s.push('\n');
    s.push_str(MODELS_END);
    s
}

#[test]
fn readme_model_table_is_current() {
    let path = repo().join("README.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (Some(b), Some(e)) = (doc.find(MODELS_BEGIN), doc.find(MODELS_END)) else {
        panic!("README.md needs the markers {MODELS_BEGIN} … {MODELS_END}");
    };
    let fresh = format!("{}{}{}", &doc[..b], model_table(), &doc[e + MODELS_END.len()..]);
    for m in &kie::catalogue::Catalogue::builtin().models {
        assert!(fresh.contains(&format!("`{}`", m.id)), "{}", m.id);
    }
    check_file("README.md", &fresh);
}
