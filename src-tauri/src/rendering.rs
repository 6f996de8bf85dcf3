//! How WebKitGTK draws the window on Linux. WebKitGTK 2.46+ paints through Skia on OpenGL.
//! On a machine without a GPU (no DRM render node: a virtual machine, a remote desktop, Xvfb)
//! OpenGL is Mesa's software `llvmpipe`, and drawing through it costs more than Skia drawing
//! on the CPU directly: the bench measured the 10,000-video gallery's fling at frame p95
//! 220 → 100 ms and the window's memory 387 → 319 MiB with CPU rendering (docs/rendering.md).
//! With a GPU, WebKit's own choice stands. The user's own setting always wins.

/// WebKit's switch for Skia's CPU rendering (read when its first web view is made).
pub const CPU_RENDERING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
/// Ours: `cpu` or `gpu` forces the choice (`gpu` = WebKit's default).
pub const CHOICE: &str = "KIE_STUDIO_RENDERING";

/// The variable to set before WebKit starts, if any. `env` reads the environment;
/// `render_nodes` says whether the machine has a DRM render node (`/dev/dri/renderD*`).
pub fn cpu_rendering_env(
    env: impl Fn(&str) -> Option<String>,
    render_nodes: bool,
) -> Option<(&'static str, &'static str)> {
    if env(CPU_RENDERING).is_some() {
        return None;
    }
    let forced_cpu = match env(CHOICE).as_deref().map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("cpu") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("gpu") => Some(false),
        _ => None,
    };
    // Mesa's own switch for software OpenGL: the GPU is not used either way.
    let software_gl = env("LIBGL_ALWAYS_SOFTWARE").is_some_and(|v| !v.is_empty() && v != "0");
    forced_cpu.unwrap_or(software_gl || !render_nodes).then_some((CPU_RENDERING, "1"))
}

/// Whether this machine has a DRM render node, i.e. a GPU that OpenGL can use.
pub fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri")
        .map(|dir| dir.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

/// Sets WebKit's rendering switch for this machine. Call first thing in `main`, while this is
/// the only thread (setting the environment is not thread-safe).
pub fn choose() {
    if !cfg!(target_os = "linux") {
        return;
    }
    if let Some((k, v)) = cpu_rendering_env(|n| std::env::var(n).ok(), has_render_node()) {
        std::env::set_var(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |n| m.get(n).cloned()
    }

    #[test]
    fn no_gpu_means_cpu_rendering() {
        assert_eq!(cpu_rendering_env(env(&[]), false), Some((CPU_RENDERING, "1")));
    }

    #[test]
    fn a_gpu_keeps_webkits_choice() {
        assert_eq!(cpu_rendering_env(env(&[]), true), None);
    }

    #[test]
    fn software_opengl_means_cpu_rendering_even_with_a_render_node() {
        assert_eq!(cpu_rendering_env(env(&[("LIBGL_ALWAYS_SOFTWARE", "1")]), true), Some((CPU_RENDERING, "1")));
        assert_eq!(cpu_rendering_env(env(&[("LIBGL_ALWAYS_SOFTWARE", "0")]), true), None);
    }

    #[test]
    fn the_users_choice_wins() {
        assert_eq!(cpu_rendering_env(env(&[(CHOICE, "gpu")]), false), None);
        assert_eq!(cpu_rendering_env(env(&[(CHOICE, " CPU ")]), true), Some((CPU_RENDERING, "1")));
        // WebKit's own variable, set either way by the user, is left alone.
        assert_eq!(cpu_rendering_env(env(&[(CPU_RENDERING, "0")]), false), None);
        assert_eq!(cpu_rendering_env(env(&[(CPU_RENDERING, "1")]), true), None);
    }
}
