//! Posters as big as real video frames, for the bench's libraries: 1280×720 and 1920×1080
//! JPEGs (and their portrait counterparts) with photographic-like content, so the gallery
//! decodes and scales what it would in a real library, not the simulator's 320×180 samples.
//!
//! A picture is a sky gradient with a soft sun, ridges of hills fading into haze, blurred
//! round shapes (bokeh, trees), low-frequency texture and film grain. The grain and texture
//! are what make a JPEG of it weigh about what a real frame does (~150–400 KB at quality
//! 85): smooth gradients alone compress to a few KB.

use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, ImageEncoder};

use super::Rng;

/// JPEG quality of the posters, as video tools export frames.
pub const QUALITY: u8 = 85;

/// The four posters a seeded library links to: `[720p, 1080p]` of each orientation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterSet {
    pub landscape: [PathBuf; 2],
    pub portrait: [PathBuf; 2],
}

impl PosterSet {
    /// The simulator's small sample frames (320×180 and 180×320) in every slot: quick to
    /// link, for tests that need a library, not its weight.
    pub fn samples() -> PosterSet {
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kie-sim/assets");
        let (l, p) = (assets.join("landscape.jpg"), assets.join("portrait.jpg"));
        PosterSet { landscape: [l.clone(), l], portrait: [p.clone(), p] }
    }

    /// The file for a video of this orientation and resolution.
    pub fn pick(&self, portrait: bool, hd: bool) -> &Path {
        let pair = if portrait { &self.portrait } else { &self.landscape };
        &pair[usize::from(hd)]
    }

    /// The four files: landscape 720p, 1080p, portrait 720p, 1080p.
    pub fn all(&self) -> [&Path; 4] {
        [&self.landscape[0], &self.landscape[1], &self.portrait[0], &self.portrait[1]]
    }
}

/// Writes the four posters into `dir` (which must exist), different pictures from each
/// `seed`.
pub fn realistic_posters(dir: &Path, seed: u64) -> std::io::Result<PosterSet> {
    let write = |name: &str, w: u32, h: u32, salt: u64| -> std::io::Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, poster_jpeg(w, h, seed ^ salt))?;
        Ok(path)
    };
    Ok(PosterSet {
        landscape: [write("poster-1280x720.jpg", 1280, 720, 1)?, write("poster-1920x1080.jpg", 1920, 1080, 2)?],
        portrait: [write("poster-720x1280.jpg", 720, 1280, 3)?, write("poster-1080x1920.jpg", 1080, 1920, 4)?],
    })
}

/// One photographic-like picture of `width`×`height` as a JPEG of quality [`QUALITY`].
pub fn poster_jpeg(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let rgb = picture(width, height, seed);
    let mut out = Vec::with_capacity(rgb.len() / 8);
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .write_image(&rgb, width, height, ExtendedColorType::Rgb8)
        .expect("encoding to memory cannot fail");
    out
}

type Rgb = [f32; 3];

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

fn unit(rng: &mut Rng) -> f32 {
    (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32
}

fn color(rng: &mut Rng, lo: f32, hi: f32) -> Rgb {
    let mut c = [0.0; 3];
    for v in &mut c {
        *v = lo + (hi - lo) * unit(rng);
    }
    c
}

/// A soft round shape: a blurred disc of a colour.
struct Blob {
    x: f32,
    y: f32,
    r: f32,
    color: Rgb,
    alpha: f32,
}

/// Value noise: a coarse grid of random values, bilinearly interpolated.
struct Texture {
    cols: usize,
    cell: f32,
    values: Vec<f32>,
}

impl Texture {
    fn new(rng: &mut Rng, width: u32, height: u32, cell: f32) -> Texture {
        let cols = (width as f32 / cell) as usize + 2;
        let rows = (height as f32 / cell) as usize + 2;
        Texture { cols, cell, values: (0..cols * rows).map(|_| unit(rng) - 0.5).collect() }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        let (gx, gy) = (x / self.cell, y / self.cell);
        let (ix, iy) = (gx as usize, gy as usize);
        let (fx, fy) = (gx - ix as f32, gy - iy as f32);
        let v = |i: usize, j: usize| self.values[j * self.cols + i];
        let top = v(ix, iy) + (v(ix + 1, iy) - v(ix, iy)) * fx;
        let bottom = v(ix, iy + 1) + (v(ix + 1, iy + 1) - v(ix, iy + 1)) * fx;
        top + (bottom - top) * fy
    }
}

/// The picture as RGB8 rows.
/// A hill layer: its base height, three waves (amplitude, frequency, phase) and its colour.
type Layer = (f32, [(f32, f32, f32); 3], Rgb);

fn picture(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let (w, h) = (width as f32, height as f32);
    let scale = w.min(h);
    let sky_top = color(&mut rng, 20.0, 120.0);
    let sky_low = mix(color(&mut rng, 150.0, 255.0), [255.0, 200.0, 150.0], 0.4);
    let horizon = h * (0.4 + 0.25 * unit(&mut rng));
    let sun = (w * unit(&mut rng), horizon * (0.3 + 0.6 * unit(&mut rng)), scale * (0.04 + 0.06 * unit(&mut rng)));
    // Hills: each layer nearer, darker and less hazy than the one behind it.
    let ground = color(&mut rng, 30.0, 110.0);
    let layers: Vec<Layer> = (0..3)
        .map(|i| {
            let base = horizon + h * 0.08 * i as f32;
            let waves = [0; 3].map(|_| {
                (
                    h * 0.02 + h * 0.06 * unit(&mut rng),
                    1.0 + 6.0 * unit(&mut rng),
                    std::f32::consts::TAU * unit(&mut rng),
                )
            });
            let haze = 0.6 - 0.25 * i as f32;
            (base, waves, mix(mix(ground, color(&mut rng, 20.0, 90.0), 0.5), sky_low, haze))
        })
        .collect();
    let blobs: Vec<Blob> = (0..14)
        .map(|_| Blob {
            x: w * unit(&mut rng),
            y: h * (0.2 + 0.8 * unit(&mut rng)),
            r: scale * (0.02 + 0.12 * unit(&mut rng)),
            color: color(&mut rng, 10.0, 250.0),
            alpha: 0.25 + 0.5 * unit(&mut rng),
        })
        .collect();
    let coarse = Texture::new(&mut rng, width, height, scale / 12.0);
    let fine = Texture::new(&mut rng, width, height, scale / 90.0);
    let mut grain = rng.next_u64() | 1;

    // Each layer's ridge line, per column.
    let ridges: Vec<(Vec<f32>, Rgb)> = layers
        .iter()
        .map(|(base, waves, tint)| {
            let line = (0..width)
                .map(|px| {
                    let x = px as f32 / w * 3.0;
                    base - waves.iter().map(|(amp, freq, phase)| amp * (x * freq + phase).sin()).sum::<f32>()
                })
                .collect();
            (line, *tint)
        })
        .collect();
    let mut out = Vec::with_capacity(width as usize * height as usize * 3);
    for py in 0..height {
        let y = py as f32;
        let sky = if y < horizon { mix(sky_top, sky_low, (y / horizon).powf(1.5)) } else { ground };
        // Only the blobs this row crosses (d² < 1.6 reaches 1.27 radii).
        let row_blobs: Vec<&Blob> = blobs.iter().filter(|b| (y - b.y).abs() < b.r * 1.27).collect();
        for px in 0..width {
            let x = px as f32;
            let mut c = sky;
            for (line, tint) in &ridges {
                let ridge = line[px as usize];
                if y >= ridge {
                    // Lit from above: a little lighter at the ridge line.
                    c = mix(*tint, [255.0; 3], (0.15 - (y - ridge) / h).max(0.0));
                }
            }
            let (dx, dy) = (x - sun.0, y - sun.1);
            let d = (dx * dx + dy * dy).sqrt() / sun.2;
            if y < horizon + h * 0.02 {
                c = mix(c, [255.0, 245.0, 220.0], (1.2 - d).clamp(0.0, 1.0) + 0.25 * (-d * 0.5).exp());
            }
            for b in &row_blobs {
                let (dx, dy) = (x - b.x, y - b.y);
                let d2 = (dx * dx + dy * dy) / (b.r * b.r);
                if d2 < 1.6 {
                    let edge = ((1.6 - d2) / 0.6).clamp(0.0, 1.0);
                    c = mix(c, b.color, b.alpha * edge);
                }
            }
            let shade = 1.0 + 0.35 * coarse.at(x, y) + 0.18 * fine.at(x, y);
            // Film grain: a cheap xorshift per pixel, a little stronger in the shadows.
            grain ^= grain << 13;
            grain ^= grain >> 7;
            grain ^= grain << 17;
            let noise = ((grain >> 56) as f32 - 127.5) / 127.5 * 9.0;
            for ch in c {
                out.push((ch * shade + noise).clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 720p frame weighs what a real one does (the 1080p ones, about twice as much, are
    /// left out: seconds in a debug build).
    #[test]
    fn a_poster_is_a_real_sized_jpeg_of_real_weight() {
        let bytes = poster_jpeg(1280, 720, 1);
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (1280, 720));
        let kb = bytes.len() / 1024;
        assert!((120..=300).contains(&kb), "{kb} KB");
    }

    #[test]
    fn a_set_picks_by_orientation_and_resolution() {
        let set = PosterSet::samples();
        assert!(set.all().iter().all(|p| p.is_file()));
        assert!(set.pick(false, true).ends_with("landscape.jpg") && set.pick(true, false).ends_with("portrait.jpg"));
        let named = |n: &str| PathBuf::from(n);
        let set = PosterSet { landscape: [named("l7"), named("l10")], portrait: [named("p7"), named("p10")] };
        let picks = [(false, false), (false, true), (true, false), (true, true)].map(|(p, hd)| set.pick(p, hd));
        assert_eq!(picks, set.all());
    }

    #[test]
    fn pictures_differ_by_seed_and_not_by_run() {
        assert_eq!(poster_jpeg(160, 90, 5), poster_jpeg(160, 90, 5));
        assert_ne!(poster_jpeg(160, 90, 5), poster_jpeg(160, 90, 6));
    }
}
