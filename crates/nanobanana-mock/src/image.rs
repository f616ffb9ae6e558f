//! Synthetic pictures for the fake image model: real PNG and baseline JPEG files of exactly the
//! requested pixel size, drawn deterministically from a seed.
//!
//! The fake server answers with images of the sizes the resolution tables give (up to 4096x4096
//! and 12288x1536 pixels), byte for byte the same for the same request, and fast even in a debug
//! build. [`render`] draws a small scene whose colours and layout come from the seed: sky bands, a
//! sun, a house on a chequered ground, inside a frame. [`Style::Thought`] draws an interim
//! "thought" image instead: a greyish pencil draft of the same scene on ruled paper. [`sniff`]
//! reads the format and size back from a PNG or JPEG file.
//!
//! Everything in a scene is made of flat-colour cells of 8x8 pixels, which is what keeps the
//! encoders (written here, on the standard library only) cheap:
//!
//! * PNG: palette colour at 1, 2 or 4 bits, one fixed-Huffman deflate block in which each
//!   distinct row is written once, run-length coded, and every repeated row as a filter-Up row of
//!   zeros (two literals and distance-1 matches). The Adler-32 of a repeated row is combined
//!   arithmetically, so the work is proportional to the compressed size, not the pixel count.
//! * JPEG: baseline (SOF0), YCbCr 4:4:4, the standard tables of JPEG Annex K. Every 8x8 block is
//!   flat, so it is a DC difference and an end-of-block code: there is no DCT. A restart interval
//!   per row of blocks makes identical rows identical bytes, which are encoded once and copied.
//!
//! ```
//! use nanobanana_mock::image::{ImageFormat, Style, render, sniff};
//!
//! # fn main() -> Result<(), nanobanana_mock::image::ImageError> {
//! let png = render(ImageFormat::Png, Style::Final, 1024, 768, b"a nano banana dish")?;
//! assert_eq!(sniff(&png), Some((ImageFormat::Png, 1024, 768)));
//! // The same request draws the same bytes; another seed draws another picture.
//! assert_eq!(png, render(ImageFormat::Png, Style::Final, 1024, 768, b"a nano banana dish")?);
//! assert_ne!(png, render(ImageFormat::Png, Style::Final, 1024, 768, b"a banana split")?);
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;

use sha2::{Digest, Sha256};

/// The largest width or height [`render`] accepts: the limit of a JPEG frame header (also applied
/// to PNG, for simplicity).
pub const MAX_SIDE: u32 = 65_535;

/// The largest number of pixels (width times height) [`render`] accepts: 2^28.
pub const MAX_PIXELS: u64 = 1 << 28;

/// An image file format the fake server produces and recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// PNG, `image/png`.
    Png,
    /// JPEG, `image/jpeg`.
    Jpeg,
}

/// A format name that is not `png`, `jpeg` or `jpg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownImageFormat(pub String);

impl fmt::Display for UnknownImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown image format {:?}: allowed are png, jpeg",
            self.0
        )
    }
}

impl std::error::Error for UnknownImageFormat {}

impl std::str::FromStr for ImageFormat {
    type Err = UnknownImageFormat;

    /// `png`, `jpeg` or `jpg`, in any case, surrounding spaces ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.trim();
        if name.eq_ignore_ascii_case("png") {
            Ok(ImageFormat::Png)
        } else if name.eq_ignore_ascii_case("jpeg") || name.eq_ignore_ascii_case("jpg") {
            Ok(ImageFormat::Jpeg)
        } else {
            Err(UnknownImageFormat(name.to_owned()))
        }
    }
}

impl ImageFormat {
    /// The MIME type of the format: `image/png` or `image/jpeg`.
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }

    /// The format of a MIME type, compared case-insensitively: `image/png`, `image/jpeg`, or the
    /// common misspelling `image/jpg`. `None` for anything else.
    pub fn from_mime_type(mime: &str) -> Option<ImageFormat> {
        if mime.eq_ignore_ascii_case("image/png") {
            Some(ImageFormat::Png)
        } else if mime.eq_ignore_ascii_case("image/jpeg") || mime.eq_ignore_ascii_case("image/jpg")
        {
            Some(ImageFormat::Jpeg)
        } else {
            None
        }
    }
}

/// What kind of picture [`render`] draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    /// A final answer image: a coloured scene.
    Final,
    /// An interim thought image (the model's draft while it thinks): a greyish, desaturated pencil
    /// sketch of the same scene on ruled paper, clearly different from the final image.
    Thought,
}

/// A size [`render`] refuses to draw. Its message says what was wrong and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageError {
    width: u32,
    height: u32,
    reason: Reason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    Side,
    Pixels,
}

impl ImageError {
    /// The width that was asked for.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The height that was asked for.
    pub fn height(&self) -> u32 {
        self.height
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (width, height) = (self.width, self.height);
        match self.reason {
            Reason::Side => write!(
                f,
                "image size {width}x{height} is not allowed: width and height must be 1..={MAX_SIDE}"
            ),
            Reason::Pixels => write!(
                f,
                "image size {width}x{height} is not allowed: it has {} pixels, at most {MAX_PIXELS} \
                 (2^28) are allowed",
                u64::from(width) * u64::from(height)
            ),
        }
    }
}

impl std::error::Error for ImageError {}

/// Draws the picture of `seed` as a PNG or JPEG file of exactly `width` x `height` pixels.
///
/// The same arguments always give the same bytes; another seed, style or size gives other bytes.
/// A thought image is a draft of the final image of the same seed. Width and height must be
/// `1..=`[`MAX_SIDE`] and their product at most [`MAX_PIXELS`].
pub fn render(
    format: ImageFormat,
    style: Style,
    width: u32,
    height: u32,
    seed: &[u8],
) -> Result<Vec<u8>, ImageError> {
    check_size(width, height)?;
    let scene = Scene::new(style, width, height, seed);
    let rows = scene.cell_rows();
    Ok(match format {
        ImageFormat::Png => encode_png(&scene, &rows),
        ImageFormat::Jpeg => encode_jpeg(&scene, &rows),
    })
}

fn check_size(width: u32, height: u32) -> Result<(), ImageError> {
    let side_allowed = |side: u32| (1..=MAX_SIDE).contains(&side);
    let reason = if !side_allowed(width) || !side_allowed(height) {
        Reason::Side
    } else if u64::from(width) * u64::from(height) > MAX_PIXELS {
        Reason::Pixels
    } else {
        return Ok(());
    };
    Err(ImageError {
        width,
        height,
        reason,
    })
}

// ---------------------------------------------------------------------------------------------
// Randomness: sha256 of the seed, expanded by counter.

struct Rng {
    key: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl Rng {
    fn new(seed: &[u8]) -> Rng {
        let mut hasher = Sha256::new();
        hasher.update(b"nanobanana-mock/image/v1\0");
        hasher.update(seed);
        let mut key = [0; 32];
        key.copy_from_slice(&hasher.finalize());
        Rng {
            key,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn next_u32(&mut self) -> u32 {
        if self.used + 4 > self.block.len() {
            let mut hasher = Sha256::new();
            hasher.update(self.key);
            hasher.update(self.counter.to_le_bytes());
            self.block.copy_from_slice(&hasher.finalize());
            self.counter += 1;
            self.used = 0;
        }
        let mut word = [0; 4];
        word.copy_from_slice(&self.block[self.used..self.used + 4]);
        self.used += 4;
        u32::from_le_bytes(word)
    }

    /// A number in `lo..=hi`. It always draws, so that later draws do not depend on the bounds.
    fn int(&mut self, lo: u32, hi: u32) -> i64 {
        let value = self.next_u32();
        let value = if hi <= lo {
            lo
        } else {
            lo + value % (hi - lo + 1)
        };
        i64::from(value)
    }

    fn channel(&mut self, lo: u8, hi: u8) -> u8 {
        let value = self.next_u32();
        if hi <= lo {
            lo
        } else {
            lo + (value % (u32::from(hi - lo) + 1)) as u8
        }
    }

    fn colour(&mut self, lo: u8, hi: u8) -> [u8; 3] {
        std::array::from_fn(|_| self.channel(lo, hi))
    }
}

// ---------------------------------------------------------------------------------------------
// The scene, in cells of 8x8 pixels.

/// Side of a cell in pixels: one JPEG block, and a whole number of bytes in a PNG row at any bit
/// depth.
const CELL: u32 = 8;

// Palette indices. Both styles share the frame, the bands and the ground; the rest differ.
const FRAME: u8 = 0;
const BAND: u8 = 1; // 1..=MAX_BANDS: sky bands, or their washes in a thought image
const MAX_BANDS: usize = 6;
const GROUND: u8 = 7;
const GROUND_DARK: u8 = 8;
const SUN: u8 = 9;
const WALL: u8 = 10;
const ROOF: u8 = 11;
const WINDOW: u8 = 12;
const DOOR: u8 = 13;
const PENCIL: u8 = 8;
const RULE: u8 = 9;
const MARGIN: u8 = 10;
const COLOURS: usize = 14;

/// A rectangle of cells, `x0..x1` by `y0..y1`.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Rect {
    fn has_row(&self, y: i64) -> bool {
        (self.y0..self.y1).contains(&y)
    }
}

/// Where things are, in cells. Sun coordinates are doubled so that the centre of cell `x` is
/// `2x + 1`.
#[derive(Debug)]
struct Geometry {
    inner: Rect,
    horizon: i64,
    bands: [i64; MAX_BANDS],
    tile: i64,
    sun_x2: i64,
    sun_y2: i64,
    sun_r2: i64,
    wall: Rect,
    roof_height: i64,
    window: Rect,
    door: Rect,
    rule_every: i64,
    margin: i64,
}

impl Geometry {
    fn new(rng: &mut Rng, cols: i64, rows: i64, nbands: usize) -> Geometry {
        let border = (cols.min(rows) / 64).max(1);
        let inner = Rect {
            x0: border,
            y0: border,
            x1: cols - border,
            y1: rows - border,
        };
        let (iw, ih) = ((inner.x1 - inner.x0).max(0), (inner.y1 - inner.y0).max(0));
        let horizon = inner.y0 + ih * rng.int(55, 75) / 100;
        let mut bands = [i64::MAX; MAX_BANDS];
        for (k, band) in bands.iter_mut().enumerate().take(nbands) {
            *band = inner.y0 + (horizon - inner.y0) * k as i64 / nbands as i64;
        }
        let tile = (iw / rng.int(6, 16)).max(1);
        let sun_x = inner.x0 + iw * rng.int(15, 85) / 100;
        let sun_y = inner.y0 + (horizon - inner.y0) * rng.int(25, 60) / 100;
        let sun_r2 = (2 * iw.min(ih) * rng.int(6, 12) / 100).max(1);
        // A house, not a tower or a wall, even in very tall or very wide pictures.
        let ww = (iw.min(2 * ih) * rng.int(18, 30) / 100).max(1);
        let wh = (ih.min(2 * iw) * rng.int(12, 22) / 100).clamp(1, ww);
        let wx0 = inner.x0 + (iw - ww).max(0) * rng.int(5, 95) / 100;
        let wy1 = horizon + (inner.y1 - horizon) * rng.int(25, 50) / 100;
        let wall = Rect {
            x0: wx0,
            y0: wy1 - wh,
            x1: wx0 + ww,
            y1: wy1,
        };
        let roof_height = (ww / 2 * rng.int(50, 90) / 100).max(1);
        let window_x0 = wall.x0 + ww / 6;
        let window_y0 = wall.y0 + wh / 5;
        let window = Rect {
            x0: window_x0,
            y0: window_y0,
            x1: (window_x0 + (ww / 4).max(1)).min(wall.x1),
            y1: (window_y0 + (wh / 3).max(1)).min(wall.y1),
        };
        let door_x0 = wall.x0 + ww * 3 / 5;
        let door = Rect {
            x0: door_x0,
            y0: wall.y1 - (wh * 2 / 5).max(1),
            x1: (door_x0 + (ww / 5).max(1)).min(wall.x1),
            y1: wall.y1,
        };
        let rule_every = (ih / rng.int(8, 14)).max(2);
        let margin = inner.x0 + iw / rng.int(8, 12);
        Geometry {
            inner,
            horizon,
            bands,
            tile,
            sun_x2: 2 * sun_x + 1,
            sun_y2: 2 * sun_y + 1,
            sun_r2,
            wall,
            roof_height,
            window,
            door,
            rule_every,
            margin,
        }
    }

    /// The sky band of row `y` (above the horizon).
    fn band(&self, y: i64) -> u8 {
        let k = self
            .bands
            .iter()
            .rposition(|&start| start <= y)
            .unwrap_or(0);
        BAND + k as u8
    }

    /// The cells `a..b` of row `y` inside the sun, shrunk by `shrink` half cells.
    fn sun_span(&self, y: i64, shrink: i64) -> Option<(i64, i64)> {
        let r = self.sun_r2 - shrink;
        let dy = 2 * y + 1 - self.sun_y2;
        if r <= 0 || dy.abs() > r {
            return None;
        }
        let m = ((r * r - dy * dy) as u64).isqrt() as i64;
        // Cell x is inside when |2x + 1 - sun_x2| <= m.
        let a = (self.sun_x2 - m).div_euclid(2);
        let b = (self.sun_x2 + m - 1).div_euclid(2) + 1;
        (a < b).then_some((a, b))
    }

    /// The cells of row `y` under the roof: a triangle on the wall, one cell wider on each side.
    fn roof_span(&self, y: i64) -> Option<(i64, i64)> {
        let top = self.wall.y0 - self.roof_height;
        if y < top || y >= self.wall.y0 {
            return None;
        }
        let width = self.wall.x1 - self.wall.x0 + 2;
        let inset = (self.roof_height - 1 - (y - top)) * width / (2 * self.roof_height);
        Some((self.wall.x0 - 1 + inset, self.wall.x1 + 1 - inset))
    }
}

struct Scene {
    style: Style,
    width: u32,
    height: u32,
    cols: usize,
    rows: usize,
    palette: [[u8; 3]; COLOURS],
    geometry: Geometry,
}

/// The rows of cells of a scene: each distinct row once, and the row of each cell row.
struct CellRows {
    ids: Vec<u32>,
    distinct: Vec<Vec<u8>>,
}

impl Scene {
    fn new(style: Style, width: u32, height: u32, seed: &[u8]) -> Scene {
        let cols = width.div_ceil(CELL) as usize;
        let rows = height.div_ceil(CELL) as usize;
        let mut rng = Rng::new(seed);
        // Colours first, then the layout, whatever the style: a thought image sketches the final
        // image of the same seed.
        let frame = rng.colour(10, 90);
        let sky_top = rng.colour(20, 190);
        let sky_bottom = rng.colour(110, 250);
        let ground = rng.colour(40, 200);
        let sun = [
            rng.channel(215, 255),
            rng.channel(150, 235),
            rng.channel(20, 130),
        ];
        let wall = rng.colour(70, 235);
        let roof = rng.colour(40, 170);
        let window = [
            rng.channel(215, 255),
            rng.channel(205, 250),
            rng.channel(120, 190),
        ];
        let lead = rng.colour(40, 200);
        let nbands = rng.int(3, MAX_BANDS as u32) as usize;
        let geometry = Geometry::new(&mut rng, cols as i64, rows as i64, nbands);

        let bands: [[u8; 3]; MAX_BANDS] = std::array::from_fn(|k| {
            let (k, last) = (k.min(nbands - 1) as u32, nbands as u32 - 1);
            std::array::from_fn(|i| mix(sky_top[i], last - k, sky_bottom[i], k))
        });
        let mut palette = [[0; 3]; COLOURS];
        match style {
            Style::Final => {
                palette[usize::from(FRAME)] = frame;
                palette[usize::from(GROUND)] = ground;
                palette[usize::from(GROUND_DARK)] = ground.map(|v| v / 4 * 3);
                palette[usize::from(SUN)] = sun;
                palette[usize::from(WALL)] = wall;
                palette[usize::from(ROOF)] = roof;
                palette[usize::from(WINDOW)] = window;
                palette[usize::from(DOOR)] = wall.map(|v| v / 2);
                for (k, band) in bands.iter().enumerate() {
                    palette[usize::from(BAND) + k] = *band;
                }
            }
            Style::Thought => {
                let paper = [238, 236, 229];
                let wash = |colour: [u8; 3], weight: u32| -> [u8; 3] {
                    let grey = greyed(colour);
                    std::array::from_fn(|i| mix(grey[i], 1, paper[i], weight))
                };
                palette = [paper; COLOURS];
                palette[usize::from(FRAME)] = greyed(lead);
                palette[usize::from(GROUND)] = wash(ground, 1);
                palette[usize::from(PENCIL)] = [66, 68, 76];
                palette[usize::from(RULE)] = [172, 188, 206];
                palette[usize::from(MARGIN)] = [210, 156, 152];
                for (k, band) in bands.iter().enumerate() {
                    palette[usize::from(BAND) + k] = wash(*band, 2);
                }
            }
        }
        Scene {
            style,
            width,
            height,
            cols,
            rows,
            palette,
            geometry,
        }
    }

    /// Paints every row of cells, keeping each distinct row once.
    fn cell_rows(&self) -> CellRows {
        let mut ids = Vec::with_capacity(self.rows);
        let mut distinct: Vec<Vec<u8>> = Vec::new();
        let mut index: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut row = vec![0; self.cols];
        let mut previous: Option<u32> = None;
        for y in 0..self.rows {
            self.paint_row(y as i64, &mut row);
            let id = match previous {
                Some(id) if distinct[id as usize] == row => id,
                _ => match index.get(&row) {
                    Some(&id) => id,
                    None => {
                        let id = distinct.len() as u32;
                        distinct.push(row.clone());
                        index.insert(row.clone(), id);
                        id
                    }
                },
            };
            ids.push(id);
            previous = Some(id);
        }
        CellRows { ids, distinct }
    }

    fn paint_row(&self, y: i64, row: &mut [u8]) {
        let inner = self.geometry.inner;
        if !inner.has_row(y) || inner.x0 >= inner.x1 {
            row.fill(FRAME);
            return;
        }
        match self.style {
            Style::Final => self.paint_final(y, row),
            Style::Thought => self.paint_thought(y, row),
        }
        fill(row, 0, inner.x0, FRAME);
        fill(row, inner.x1, row.len() as i64, FRAME);
    }

    fn paint_final(&self, y: i64, row: &mut [u8]) {
        let g = &self.geometry;
        let (x0, x1) = (g.inner.x0, g.inner.x1);
        if y < g.horizon {
            fill(row, x0, x1, g.band(y));
            if let Some((a, b)) = g.sun_span(y, 0) {
                self.fill_inner(row, a, b, SUN);
            }
        } else {
            let mut dark = (y - g.horizon) / g.tile % 2 == 1;
            let mut x = x0;
            while x < x1 {
                let end = (x + g.tile).min(x1);
                fill(row, x, end, if dark { GROUND_DARK } else { GROUND });
                dark = !dark;
                x = end;
            }
        }
        if let Some((a, b)) = g.roof_span(y) {
            self.fill_inner(row, a, b, ROOF);
        }
        for (rect, colour) in [(g.wall, WALL), (g.window, WINDOW), (g.door, DOOR)] {
            if rect.has_row(y) {
                self.fill_inner(row, rect.x0, rect.x1, colour);
            }
        }
    }

    fn paint_thought(&self, y: i64, row: &mut [u8]) {
        let g = &self.geometry;
        let (x0, x1) = (g.inner.x0, g.inner.x1);
        fill(row, x0, x1, if y < g.horizon { g.band(y) } else { GROUND });
        if (y - g.inner.y0) % g.rule_every == g.rule_every - 1 {
            fill(row, x0, x1, RULE);
        }
        self.fill_inner(row, g.margin, g.margin + 1, MARGIN);
        if y == g.horizon {
            fill(row, x0, x1, PENCIL);
        }
        if y < g.horizon
            && let Some((a, b)) = g.sun_span(y, 0)
        {
            match g.sun_span(y, 2) {
                Some((c, d)) => {
                    self.fill_inner(row, a, c, PENCIL);
                    self.fill_inner(row, d, b, PENCIL);
                }
                None => self.fill_inner(row, a, b, PENCIL),
            }
        }
        if let Some((a, b)) = g.roof_span(y) {
            // The eaves and the apex are lines; the slopes join each row's ends to the row above.
            match g.roof_span(y - 1) {
                Some((above_a, above_b)) if y != g.wall.y0 - 1 => {
                    self.fill_inner(row, a, above_a.max(a + 1), PENCIL);
                    self.fill_inner(row, above_b.min(b - 1), b, PENCIL);
                }
                _ => self.fill_inner(row, a, b, PENCIL),
            }
        }
        for rect in [g.wall, g.window, g.door] {
            if !rect.has_row(y) {
                continue;
            }
            if y == rect.y0 || y == rect.y1 - 1 {
                self.fill_inner(row, rect.x0, rect.x1, PENCIL);
            } else {
                self.fill_inner(row, rect.x0, rect.x0 + 1, PENCIL);
                self.fill_inner(row, rect.x1 - 1, rect.x1, PENCIL);
            }
        }
    }

    /// Fills cells `a..b` of a row, clipped to the inside of the frame.
    fn fill_inner(&self, row: &mut [u8], a: i64, b: i64, colour: u8) {
        let inner = self.geometry.inner;
        fill(row, a.max(inner.x0), b.min(inner.x1), colour);
    }
}

/// Fills cells `a..b` of a row, clipped to the row.
fn fill(row: &mut [u8], a: i64, b: i64, colour: u8) {
    let len = row.len() as i64;
    let a = a.clamp(0, len);
    let b = b.clamp(a, len);
    if let Some(cells) = row.get_mut(a as usize..b as usize) {
        cells.fill(colour);
    }
}

/// The weighted mean `(a * wa + b * wb) / (wa + wb)`, or `a` when both weights are 0.
fn mix(a: u8, wa: u32, b: u8, wb: u32) -> u8 {
    let total = wa + wb;
    if total == 0 {
        return a;
    }
    ((u32::from(a) * wa + u32::from(b) * wb + total / 2) / total) as u8
}

/// A colour three quarters of the way to its own grey.
fn greyed(colour: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = colour.map(u32::from);
    let luma = ((299 * r + 587 * g + 114 * b + 500) / 1000) as u8;
    colour.map(|v| mix(luma, 3, v, 1))
}

// ---------------------------------------------------------------------------------------------
// PNG: palette colour, zlib from a fixed-Huffman deflate encoder, CRC-32.

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

fn encode_png(scene: &Scene, rows: &CellRows) -> Vec<u8> {
    // The palette holds only the colours in use, which picks the smallest bit depth.
    let mut used = [false; COLOURS];
    for row in &rows.distinct {
        for &colour in row {
            if let Some(used) = used.get_mut(usize::from(colour)) {
                *used = true;
            }
        }
    }
    let mut remap = [0u8; COLOURS];
    let mut plte = Vec::with_capacity(3 * COLOURS);
    for ((used, colour), index) in used.iter().zip(&scene.palette).zip(&mut remap) {
        if *used {
            *index = (plte.len() / 3) as u8;
            plte.extend_from_slice(colour);
        }
    }
    let depth: u8 = match plte.len() / 3 {
        0..=2 => 1,
        3..=4 => 2,
        5..=16 => 4,
        _ => 8,
    };
    let stride = (scene.width as usize * usize::from(depth)).div_ceil(8);
    let packed: Vec<Vec<u8>> = rows
        .distinct
        .iter()
        .map(|row| pack_row(row, &remap, depth, stride))
        .collect();
    let mut sums: Vec<Option<AdlerSegment>> = vec![None; packed.len()];

    let mut z = Deflate::new();
    z.out.extend_from_slice(&[0x78, 0x01]); // zlib: deflate, 32 KiB window, no dictionary
    z.put(0b011, 3); // the final block, fixed Huffman codes
    let mut adler = Adler::new();
    let row_len = stride as u64 + 1;
    let repeated = AdlerSegment {
        s1: 2,
        s2: 2 * row_len % ADLER_MOD,
        len: row_len,
    };
    let mut previous = None;
    let mut rows_left = scene.height;
    for &id in &rows.ids {
        let count = rows_left.min(CELL);
        rows_left -= count;
        for _ in 0..count {
            if previous == Some(id) {
                // Filter Up: a row equal to the one above is a row of zeros.
                z.literal(2);
                z.literal(0);
                z.repeat(0, stride - 1);
                adler.append(repeated);
            } else {
                let bytes = &packed[id as usize];
                z.literal(0); // filter None
                z.run_length(bytes);
                let sum = *sums[id as usize].get_or_insert_with(|| AdlerSegment::of(bytes));
                adler.append(AdlerSegment {
                    len: row_len,
                    ..sum
                });
            }
            previous = Some(id);
        }
    }
    let mut zlib = z.finish();
    zlib.extend_from_slice(&adler.value().to_be_bytes());

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&scene.width.to_be_bytes());
    ihdr.extend_from_slice(&scene.height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, 3, 0, 0, 0]); // palette colour, deflate, filter 0, no interlace
    let mut out = Vec::with_capacity(zlib.len() + plte.len() + 64);
    out.extend_from_slice(&PNG_SIGNATURE);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"PLTE", &plte);
    png_chunk(&mut out, b"IDAT", &zlib);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A row of cells as packed palette indices: a cell is 8 pixels, `depth` whole bytes.
fn pack_row(cells: &[u8], remap: &[u8; COLOURS], depth: u8, stride: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(cells.len() * usize::from(depth));
    for &colour in cells {
        let index = remap.get(usize::from(colour)).copied().unwrap_or(0);
        let byte = match depth {
            1 => 0u8.wrapping_sub(index & 1),
            2 => (index & 3).wrapping_mul(0x55),
            4 => (index & 15).wrapping_mul(0x11),
            _ => index,
        };
        out.extend(std::iter::repeat_n(byte, usize::from(depth)));
    }
    out.truncate(stride);
    out
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

/// The CRC-32 (ISO-HDLC, as PNG uses) of the concatenated parts.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &byte in *part {
            crc = CRC_TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
        }
    }
    !crc
}

const ADLER_MOD: u64 = 65_521;

/// The Adler-32 sums of a run of bytes `d[0..len]` started from zero: `s1 = sum d[i]` and
/// `s2 = sum (len - i) * d[i]`, both mod 65521, which is what appending it adds to a checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AdlerSegment {
    s1: u64,
    s2: u64,
    len: u64,
}

impl AdlerSegment {
    fn of(bytes: &[u8]) -> AdlerSegment {
        let (mut s1, mut s2) = (0u64, 0u64);
        for chunk in bytes.chunks(4096) {
            for &byte in chunk {
                s1 += u64::from(byte);
                s2 += s1;
            }
            s1 %= ADLER_MOD;
            s2 %= ADLER_MOD;
        }
        AdlerSegment {
            s1,
            s2,
            len: bytes.len() as u64,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Adler {
    a: u64,
    b: u64,
}

impl Adler {
    fn new() -> Adler {
        Adler { a: 1, b: 0 }
    }

    fn append(&mut self, segment: AdlerSegment) {
        self.b = (self.b + segment.len % ADLER_MOD * self.a + segment.s2) % ADLER_MOD;
        self.a = (self.a + segment.s1) % ADLER_MOD;
    }

    fn value(self) -> u32 {
        ((self.b << 16) | self.a) as u32
    }
}

/// Base match lengths of the deflate length symbols 257..=285 and their extra bits.
const LENGTH_BASE: [u32; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u32; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// The fixed Huffman code of every literal byte (RFC 1951, 3.2.6), bit-reversed for the
/// LSB-first stream: (bits, length).
const LITERAL_CODES: [(u32, u32); 256] = literal_codes();

/// Every match of length 3..=258 at distance 1, as one (bits, length): length code, its extra
/// bits, and distance code 0 (five zero bits, no extra bits).
const MATCH_CODES: [(u32, u32); 259] = match_codes();

const fn reversed(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

const fn literal_codes() -> [(u32, u32); 256] {
    let mut codes = [(0, 0); 256];
    let mut byte = 0;
    while byte < 256 {
        codes[byte] = if byte < 144 {
            (reversed(0x30 + byte as u32, 8), 8)
        } else {
            (reversed(0x190 + byte as u32 - 144, 9), 9)
        };
        byte += 1;
    }
    codes
}

const fn match_codes() -> [(u32, u32); 259] {
    let mut codes = [(0, 0); 259];
    let mut len = 3;
    while len <= 258 {
        let mut i = LENGTH_BASE.len() - 1;
        while LENGTH_BASE[i] > len {
            i -= 1;
        }
        let symbol = 257 + i as u32;
        let (code, bits) = if symbol <= 279 {
            (reversed(symbol - 256, 7), 7)
        } else {
            (reversed(symbol - 280 + 0xC0, 8), 8)
        };
        codes[len as usize] = (
            code | ((len - LENGTH_BASE[i]) << bits),
            bits + LENGTH_EXTRA[i] + 5,
        );
        len += 1;
    }
    codes
}

/// A deflate bit stream (LSB first) of fixed-Huffman literals and distance-1 matches.
struct Deflate {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl Deflate {
    fn new() -> Deflate {
        Deflate {
            out: Vec::new(),
            acc: 0,
            bits: 0,
        }
    }

    fn put(&mut self, value: u32, len: u32) {
        self.acc |= u64::from(value) << self.bits;
        self.bits += len;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    fn literal(&mut self, byte: u8) {
        let (code, len) = LITERAL_CODES[usize::from(byte)];
        self.put(code, len);
    }

    /// `count` more copies of `byte`, which must be the byte just written.
    fn repeat(&mut self, byte: u8, mut count: usize) {
        while count >= 3 {
            let len = match count {
                259 | 260 => count - 3, // leave a match of 3 rather than 1 or 2 literals
                261.. => 258,
                _ => count,
            };
            let (code, bits) = MATCH_CODES[len];
            self.put(code, bits);
            count -= len;
        }
        for _ in 0..count {
            self.literal(byte);
        }
    }

    /// The bytes, each run of equal bytes as a literal and a distance-1 match.
    fn run_length(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some((&byte, tail)) = rest.split_first() {
            let run = tail.iter().position(|&b| b != byte).unwrap_or(tail.len());
            self.literal(byte);
            self.repeat(byte, run);
            rest = &tail[run..];
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.put(0, 7); // end of block
        if self.bits > 0 {
            self.put(0, 8 - self.bits);
        }
        self.out
    }
}

// ---------------------------------------------------------------------------------------------
// JPEG: baseline, YCbCr 4:4:4, flat blocks only, a restart interval per row of blocks.

/// Natural (row-major) index of each zig-zag position.
const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The quantisation tables of Annex K.1, natural order.
const Q_LUMA: [u8; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const Q_CHROMA: [u8; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// The Huffman tables of Annex K.3: code counts per length 1..=16, then the symbols.
const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D];
const AC_LUMA_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
    0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
    0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
    0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
    0xF9, 0xFA,
];
const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0,
    0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26,
    0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
    0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
    0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
    0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
    0xF9, 0xFA,
];

/// The Annex K quantisation tables scaled to quality 90 (IJG scaling: 200 - 2 * 90 = 20 %).
fn quantisation(table: &[u8; 64]) -> [u8; 64] {
    table.map(|q| ((u32::from(q) * 20 + 50) / 100).clamp(1, 255) as u8)
}

/// The canonical Huffman codes of a table: (code, length) by symbol.
fn huffman_codes(bits: &[u8; 16], values: &[u8]) -> [(u32, u32); 256] {
    let mut codes = [(0, 0); 256];
    let mut code = 0u32;
    let mut symbols = values.iter();
    for (len, &count) in (1..=16).zip(bits) {
        for _ in 0..count {
            if let Some(&symbol) = symbols.next() {
                codes[usize::from(symbol)] = (code, len);
            }
            code += 1;
        }
        code <<= 1;
    }
    codes
}

/// `n / d` rounded half away from zero, for `d > 0`.
fn div_round(n: i64, d: i64) -> i64 {
    if n >= 0 {
        (n + d / 2) / d
    } else {
        -((-n + d / 2) / d)
    }
}

/// The quantised DC coefficients (Y, Cb, Cr) of a flat 8x8 block of one colour: the forward DCT
/// of a flat block of level-shifted value v has DC term 8v and nothing else.
fn dc_terms(colour: [u8; 3], q_luma: u8, q_chroma: u8) -> [i32; 3] {
    let [r, g, b] = colour.map(i64::from);
    // JFIF YCbCr, times 10^6, centred on zero.
    let y = 299_000 * r + 587_000 * g + 114_000 * b - 128_000_000;
    let cb = -168_736 * r - 331_264 * g + 500_000 * b;
    let cr = 500_000 * r - 418_688 * g - 81_312 * b;
    let dc = |v: i64, q: u8| div_round(8 * v, 1_000_000 * i64::from(q)) as i32;
    [dc(y, q_luma), dc(cb, q_chroma), dc(cr, q_chroma)]
}

/// A JPEG entropy-coded bit stream (MSB first) with byte stuffing.
struct JpegBits {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl JpegBits {
    fn put(&mut self, value: u32, len: u32) {
        self.acc = (self.acc << len) | (u64::from(value) & ((1 << len) - 1));
        self.bits += len;
        while self.bits >= 8 {
            self.bits -= 8;
            let byte = (self.acc >> self.bits) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
        self.acc &= (1 << self.bits) - 1;
    }

    /// Pads the last byte with 1 bits, as before a restart marker or the end of the image.
    fn pad(&mut self) {
        if self.bits > 0 {
            let len = 8 - self.bits;
            self.put((1 << len) - 1, len);
        }
    }
}

struct JpegCoder {
    /// DC codes by size category, luma then chroma.
    dc: [[(u32, u32); 256]; 2],
    /// End-of-block codes, luma then chroma.
    eob: [(u32, u32); 2],
    /// The bits of a block repeating the previous one: three DC differences of 0 and three EOBs.
    same: (u32, u32),
    /// DC terms by palette index.
    terms: [[i32; 3]; COLOURS],
}

impl JpegCoder {
    /// The entropy-coded bytes of one row of blocks, one restart interval: DC predictions start
    /// from zero and the bytes end byte-aligned, so equal rows give equal bytes.
    fn encode_row(&self, cells: &[u8]) -> Vec<u8> {
        let mut w = JpegBits {
            out: Vec::with_capacity(cells.len() * 2),
            acc: 0,
            bits: 0,
        };
        let mut pred = [0i32; 3];
        let mut previous = None;
        for &colour in cells {
            if previous == Some(colour) {
                w.put(self.same.0, self.same.1);
                continue;
            }
            previous = Some(colour);
            let terms = self
                .terms
                .get(usize::from(colour))
                .copied()
                .unwrap_or_default();
            for (component, (term, pred)) in terms.iter().zip(&mut pred).enumerate() {
                let table = usize::from(component > 0);
                let diff = term - *pred;
                *pred = *term;
                let size = 32 - diff.unsigned_abs().leading_zeros();
                let (code, len) = self.dc[table][size as usize];
                w.put(code, len);
                if size > 0 {
                    let bits = if diff > 0 {
                        diff
                    } else {
                        diff + (1 << size) - 1
                    };
                    w.put(bits as u32, size);
                }
                let (code, len) = self.eob[table];
                w.put(code, len);
            }
        }
        w.pad();
        w.out
    }
}

fn jpeg_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(payload);
}

fn encode_jpeg(scene: &Scene, rows: &CellRows) -> Vec<u8> {
    let q_luma = quantisation(&Q_LUMA);
    let q_chroma = quantisation(&Q_CHROMA);
    let dc = [
        huffman_codes(&DC_LUMA_BITS, &DC_VALUES),
        huffman_codes(&DC_CHROMA_BITS, &DC_VALUES),
    ];
    let eob = [
        huffman_codes(&AC_LUMA_BITS, &AC_LUMA_VALUES)[0],
        huffman_codes(&AC_CHROMA_BITS, &AC_CHROMA_VALUES)[0],
    ];
    let mut same = (0, 0);
    for (dc, eob) in [(dc[0][0], eob[0]), (dc[1][0], eob[1]), (dc[1][0], eob[1])] {
        same.0 = (((same.0 << dc.1) | dc.0) << eob.1) | eob.0;
        same.1 += dc.1 + eob.1;
    }
    let coder = JpegCoder {
        dc,
        eob,
        same,
        terms: scene
            .palette
            .map(|colour| dc_terms(colour, q_luma[0], q_chroma[0])),
    };
    let entropy: Vec<Vec<u8>> = rows
        .distinct
        .iter()
        .map(|row| coder.encode_row(row))
        .collect();

    let (width, height) = (scene.width as u16, scene.height as u16);
    let size: usize = rows
        .ids
        .iter()
        .map(|&id| entropy[id as usize].len() + 2)
        .sum();
    let mut out = Vec::with_capacity(size + 1024);
    out.extend_from_slice(&[0xFF, 0xD8]);
    jpeg_segment(
        &mut out,
        0xE0,
        b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00",
    );
    let mut dqt = Vec::with_capacity(130);
    for (id, table) in [(0, q_luma), (1, q_chroma)] {
        dqt.push(id);
        dqt.extend(ZIGZAG.iter().map(|&k| table[usize::from(k)]));
    }
    jpeg_segment(&mut out, 0xDB, &dqt);
    let [h1, h0] = height.to_be_bytes();
    let [w1, w0] = width.to_be_bytes();
    jpeg_segment(
        &mut out,
        0xC0,
        &[8, h1, h0, w1, w0, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1],
    );
    let mut dht = Vec::with_capacity(420);
    for (class_id, bits, values) in [
        (0x00, &DC_LUMA_BITS, &DC_VALUES[..]),
        (0x10, &AC_LUMA_BITS, &AC_LUMA_VALUES[..]),
        (0x01, &DC_CHROMA_BITS, &DC_VALUES[..]),
        (0x11, &AC_CHROMA_BITS, &AC_CHROMA_VALUES[..]),
    ] {
        dht.push(class_id);
        dht.extend_from_slice(bits);
        dht.extend_from_slice(values);
    }
    jpeg_segment(&mut out, 0xC4, &dht);
    jpeg_segment(&mut out, 0xDD, &(scene.cols as u16).to_be_bytes());
    jpeg_segment(&mut out, 0xDA, &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
    for (k, &id) in rows.ids.iter().enumerate() {
        if k > 0 {
            out.extend_from_slice(&[0xFF, 0xD0 + ((k - 1) % 8) as u8]);
        }
        out.extend_from_slice(&entropy[id as usize]);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

// ---------------------------------------------------------------------------------------------
// Sniffing.

/// The format and pixel size of a complete PNG or JPEG file, or `None`.
///
/// A PNG must start with the signature and an `IHDR` chunk and run, chunk by chunk, to an `IEND`
/// chunk with image data on the way. A JPEG must run, segment by segment and through its
/// entropy-coded data, from SOI through a frame header (any SOFn: baseline, extended,
/// progressive, lossless, arithmetic) and at least one scan to EOI. Anything else, including a
/// truncated file, is `None`. Bytes after the end of the image are ignored. Never panics.
pub fn sniff(bytes: &[u8]) -> Option<(ImageFormat, u32, u32)> {
    if bytes.starts_with(&PNG_SIGNATURE) {
        sniff_png(bytes).map(|(w, h)| (ImageFormat::Png, w, h))
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        sniff_jpeg(bytes).map(|(w, h)| (ImageFormat::Jpeg, w, h))
    } else {
        None
    }
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

fn sniff_png(bytes: &[u8]) -> Option<(u32, u32)> {
    const MAX: u32 = 0x7FFF_FFFF;
    let mut at = PNG_SIGNATURE.len();
    let mut size = None;
    let mut data_seen = false;
    loop {
        let len = be32(bytes, at)?;
        if len > MAX {
            return None;
        }
        let kind = bytes.get(at + 4..at + 8)?;
        let data_at = at + 8;
        let data_end = data_at.checked_add(len as usize)?;
        let data = bytes.get(data_at..data_end)?;
        let crc = be32(bytes, data_end)?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        match (kind, size) {
            (b"IHDR", None) => {
                let width = be32(data, 0)?;
                let height = be32(data, 4)?;
                let valid = |side| (1..=MAX).contains(&side);
                if len != 13 || crc != crc32(&[kind, data]) || !valid(width) || !valid(height) {
                    return None;
                }
                size = Some((width, height));
            }
            (_, None) | (b"IHDR", Some(_)) => return None,
            (b"IDAT", Some(_)) => data_seen = true,
            (b"IEND", Some(size)) => return data_seen.then_some(size),
            _ => {}
        }
        at = data_end + 4;
    }
}

fn sniff_jpeg(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    let mut frame = None;
    let mut scanned = false;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        while *bytes.get(at)? == 0xFF {
            at += 1; // fill bytes
        }
        let marker = *bytes.get(at)?;
        at += 1;
        match marker {
            0xD9 => return if scanned { frame } else { None },
            0x00 | 0xD8 => return None,
            0x01 | 0xD0..=0xD7 => continue, // standalone markers
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        let body = bytes.get(at + 2..at.checked_add(len)?)?;
        at += len;
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let (&[_precision, h1, h0, w1, w0, components], specs) =
                    body.split_first_chunk::<6>()?;
                let (width, height) = (u16::from_be_bytes([w1, w0]), u16::from_be_bytes([h1, h0]));
                // A height of 0 (defined later by a DNL segment) is not supported.
                if frame.is_some()
                    || width == 0
                    || height == 0
                    || components == 0
                    || specs.len() != 3 * usize::from(components)
                {
                    return None;
                }
                frame = Some((u32::from(width), u32::from(height)));
            }
            0xDA => {
                let (&components, specs) = body.split_first()?;
                if frame.is_none()
                    || components == 0
                    || specs.len() != 2 * usize::from(components) + 3
                {
                    return None;
                }
                scanned = true;
                // Entropy-coded data runs to the first marker that is neither a stuffed 0xFF00
                // nor a restart marker.
                loop {
                    let ff = at + bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
                    match *bytes.get(ff + 1)? {
                        0x00 | 0xD0..=0xD7 => at = ff + 2,
                        _ => {
                            at = ff;
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_parse_in_any_case_and_others_are_refused() {
        assert_eq!(" PNG ".parse::<ImageFormat>(), Ok(ImageFormat::Png));
        assert_eq!("jpg".parse::<ImageFormat>(), Ok(ImageFormat::Jpeg));
        assert_eq!("Jpeg".parse::<ImageFormat>(), Ok(ImageFormat::Jpeg));
        let error = "gif".parse::<ImageFormat>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown image format \"gif\": allowed are png, jpeg"
        );
    }

    const SEED: &[u8] = b"generate/flash31-nano-banana-dish";
    const FORMATS: [ImageFormat; 2] = [ImageFormat::Png, ImageFormat::Jpeg];
    const STYLES: [Style; 2] = [Style::Final, Style::Thought];
    /// The largest sizes of the resolution tables.
    const LARGEST: [(u32, u32); 5] = [
        (4096, 4096),
        (1536, 12288),
        (12288, 1536),
        (6336, 2688),
        (5504, 3072),
    ];

    fn render_ok(
        format: ImageFormat,
        style: Style,
        width: u32,
        height: u32,
        seed: &[u8],
    ) -> Vec<u8> {
        render(format, style, width, height, seed).expect("an allowed size")
    }

    /// Decodes with the `png` crate (checksums verified) or `jpeg-decoder`: width, height, RGB.
    fn decode(format: ImageFormat, bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        match format {
            ImageFormat::Png => {
                let mut options = png::DecodeOptions::default();
                options.set_ignore_adler32(false);
                options.set_ignore_crc(false);
                let mut decoder =
                    png::Decoder::new_with_options(std::io::Cursor::new(bytes), options);
                decoder.set_transformations(png::Transformations::EXPAND);
                decoder.set_limits(png::Limits { bytes: 1 << 30 });
                let mut reader = decoder.read_info().expect("a PNG header");
                let mut pixels = vec![0; reader.output_buffer_size().expect("a buffer size")];
                let info = reader.next_frame(&mut pixels).expect("a PNG frame");
                assert_eq!(
                    (info.color_type, info.bit_depth),
                    (png::ColorType::Rgb, png::BitDepth::Eight)
                );
                pixels.truncate(info.buffer_size());
                (info.width, info.height, pixels)
            }
            ImageFormat::Jpeg => {
                let mut decoder = jpeg_decoder::Decoder::new(bytes);
                let pixels = decoder.decode().expect("a JPEG");
                let info = decoder.info().expect("JPEG info");
                assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
                (u32::from(info.width), u32::from(info.height), pixels)
            }
        }
    }

    /// What `render` meant to draw.
    struct Expected {
        scene: Scene,
        rows: CellRows,
    }

    impl Expected {
        fn new(style: Style, width: u32, height: u32, seed: &[u8]) -> Expected {
            let scene = Scene::new(style, width, height, seed);
            let rows = scene.cell_rows();
            Expected { scene, rows }
        }

        fn index(&self, x: u32, y: u32) -> u8 {
            let id = self.rows.ids[(y / CELL) as usize];
            self.rows.distinct[id as usize][(x / CELL) as usize]
        }

        fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
            self.scene.palette[usize::from(self.index(x, y))]
        }

        /// Every colour index in the picture.
        fn used(&self) -> Vec<u8> {
            let mut used: Vec<u8> = self.rows.distinct.iter().flatten().copied().collect();
            used.sort_unstable();
            used.dedup();
            used
        }
    }

    /// `0, step, 2 * step, ..` below `n`, and `n - 1`.
    fn grid(n: u32, step: u32) -> impl Iterator<Item = u32> {
        (0..n).step_by(step as usize).chain([n - 1])
    }

    /// Renders, checks that `sniff` and the decoder see the exact size, and compares decoded pixels
    /// on a grid `step` apart with the scene: exactly for PNG, within 3 levels for JPEG.
    fn check(format: ImageFormat, style: Style, width: u32, height: u32, step: u32) {
        let what = format!("{format:?} {style:?} {width}x{height}");
        let bytes = render_ok(format, style, width, height, SEED);
        assert_eq!(sniff(&bytes), Some((format, width, height)), "{what}");
        let (w, h, pixels) = decode(format, &bytes);
        assert_eq!((w, h), (width, height), "{what}");
        assert_eq!(pixels.len(), width as usize * height as usize * 3, "{what}");
        let expected = Expected::new(style, width, height, SEED);
        let tolerance = match format {
            ImageFormat::Png => 0,
            ImageFormat::Jpeg => 3,
        };
        let frame = expected.scene.palette[usize::from(FRAME)];
        for (x, y) in [
            (0, 0),
            (width - 1, 0),
            (0, height - 1),
            (width - 1, height - 1),
        ] {
            assert_eq!(expected.index(x, y), FRAME, "{what}: corner {x},{y}");
            assert_eq!(expected.pixel(x, y), frame);
        }
        for y in grid(height, step) {
            for x in grid(width, step) {
                let at = (y as usize * width as usize + x as usize) * 3;
                let got = &pixels[at..at + 3];
                let want = expected.pixel(x, y);
                let close = got
                    .iter()
                    .zip(want)
                    .all(|(&g, w)| g.abs_diff(w) <= tolerance);
                assert!(close, "{what}: pixel {x},{y} is {got:?}, meant {want:?}");
            }
        }
    }

    #[test]
    fn every_pixel_of_small_and_medium_images_is_the_scene() {
        let sizes = [
            (1, 1),
            (7, 9),
            (17, 33),
            (64, 64),
            (1, 300),
            (300, 1),
            (792, 168),
            (1584, 672),
        ];
        for (width, height) in sizes {
            for format in FORMATS {
                for style in STYLES {
                    check(format, style, width, height, 1);
                }
            }
        }
    }

    #[test]
    fn square_1k_images_are_the_scene() {
        for format in FORMATS {
            for style in STYLES {
                check(format, style, 1024, 1024, 3);
            }
        }
    }

    /// Decodes a JPEG at 1/8 scale, a pixel per (flat) block, and compares every block.
    fn check_blocks(style: Style, width: u32, height: u32) {
        let what = format!("{style:?} {width}x{height}");
        let bytes = render_ok(ImageFormat::Jpeg, style, width, height, SEED);
        let mut decoder = jpeg_decoder::Decoder::new(&bytes[..]);
        decoder.read_info().expect("a JPEG header");
        let info = decoder.info().expect("JPEG info");
        assert_eq!(
            (u32::from(info.width), u32::from(info.height)),
            (width, height),
            "{what}"
        );
        let (cols, rows) = (width.div_ceil(CELL), height.div_ceil(CELL));
        let scaled = decoder.scale(cols as u16, rows as u16).expect("1/8 scale");
        assert_eq!(scaled, (cols as u16, rows as u16), "{what}");
        let pixels = decoder.decode().expect("a JPEG");
        let expected = Expected::new(style, width, height, SEED);
        for (at, got) in pixels.chunks_exact(3).enumerate() {
            let (x, y) = (at as u32 % cols, at as u32 / cols);
            let want = expected.pixel(x * CELL, y * CELL);
            let close = got.iter().zip(want).all(|(&g, w)| g.abs_diff(w) <= 3);
            assert!(close, "{what}: block {x},{y} is {got:?}, meant {want:?}");
        }
    }

    #[test]
    fn the_largest_images_decode_to_the_scene() {
        // Full decodes of 4096x4096 and 1536x12288 (a JPEG takes about 2 s in a debug build)...
        for format in FORMATS {
            check(format, Style::Final, 4096, 4096, 61);
        }
        check(ImageFormat::Png, Style::Thought, 1536, 12288, 61);
        // ...and every block of the largest JPEGs, decoded at 1/8 scale.
        for (width, height) in LARGEST {
            check_blocks(Style::Thought, width, height);
        }
        check_blocks(Style::Final, 1536, 12288);
    }

    #[test]
    fn png_rows_of_every_length_near_a_match_boundary_decode() {
        // Row lengths around multiples of the longest match (258) exercise the match splitting.
        for width in (500..=530).chain(1020..=1040) {
            check(ImageFormat::Png, Style::Final, width, 20, 1);
        }
    }

    #[test]
    fn the_largest_sizes_are_small_files() {
        for (width, height) in LARGEST {
            for style in STYLES {
                let png = render_ok(ImageFormat::Png, style, width, height, SEED);
                assert_eq!(sniff(&png), Some((ImageFormat::Png, width, height)));
                assert!(
                    png.len() < 200_000,
                    "PNG {width}x{height}: {} bytes",
                    png.len()
                );
                let jpeg = render_ok(ImageFormat::Jpeg, style, width, height, SEED);
                assert_eq!(sniff(&jpeg), Some((ImageFormat::Jpeg, width, height)));
                assert!(
                    jpeg.len() < 1_000_000,
                    "JPEG {width}x{height}: {} bytes",
                    jpeg.len()
                );
            }
        }
    }

    #[test]
    fn the_extreme_allowed_sizes_render() {
        for (width, height) in [
            (MAX_SIDE, 4096),
            (4096, MAX_SIDE),
            (MAX_SIDE, 1),
            (1, MAX_SIDE),
        ] {
            for format in FORMATS {
                let bytes = render_ok(format, Style::Final, width, height, SEED);
                assert_eq!(sniff(&bytes), Some((format, width, height)));
            }
        }
        let (width, height, pixels) = decode(
            ImageFormat::Png,
            &render_ok(ImageFormat::Png, Style::Final, MAX_SIDE, 1, SEED),
        );
        assert_eq!(
            (width, height, pixels.len()),
            (MAX_SIDE, 1, 3 * MAX_SIDE as usize)
        );
        let (width, height, _) = decode(
            ImageFormat::Jpeg,
            &render_ok(ImageFormat::Jpeg, Style::Thought, 1, MAX_SIDE, SEED),
        );
        assert_eq!((width, height), (1, MAX_SIDE));
    }

    #[test]
    fn the_same_request_gives_the_same_bytes_and_any_change_other_bytes() {
        for format in FORMATS {
            for (width, height) in [(1, 1), (7, 9), (1024, 768)] {
                let mut seen = std::collections::HashSet::new();
                for style in STYLES {
                    for seed in [
                        &b"one"[..],
                        b"two",
                        b"",
                        b"generate/paella-step-1",
                        b"generate/paella-step-2",
                    ] {
                        let bytes = render_ok(format, style, width, height, seed);
                        assert_eq!(bytes, render_ok(format, style, width, height, seed));
                        assert!(
                            seen.insert(bytes),
                            "{format:?} {style:?} {width}x{height} {seed:?}"
                        );
                    }
                }
            }
        }
        let a = render_ok(ImageFormat::Png, Style::Final, 1024, 768, SEED);
        assert_ne!(
            a,
            render_ok(ImageFormat::Png, Style::Final, 1024, 769, SEED)
        );
    }

    #[test]
    fn finals_are_pictures_and_thoughts_greyish_ruled_drafts() {
        let saturation = |c: [u8; 3]| c.iter().max().unwrap_or(&0) - c.iter().min().unwrap_or(&0);
        for seed in [&b"one"[..], b"two", b"three", SEED] {
            let final_image = Expected::new(Style::Final, 1024, 1024, seed);
            let used = final_image.used();
            assert!(used.len() >= 10, "{used:?}");
            assert!(
                final_image.rows.distinct.len() < 128 / 2,
                "few distinct rows of cells"
            );
            let centre = final_image.index(512, 512);
            assert_ne!(centre, FRAME);

            let thought = Expected::new(Style::Thought, 1024, 1024, seed);
            let used = thought.used();
            assert!(used.contains(&RULE) && used.contains(&PENCIL) && used.contains(&MARGIN));
            for index in used {
                let colour = thought.scene.palette[usize::from(index)];
                assert!(saturation(colour) <= 60, "thought colour {colour:?}");
            }
            // The ruled lines run across the page.
            let ruled = (0..1024)
                .step_by(8)
                .filter(|&y| thought.index(300, y) == RULE)
                .count();
            assert!(ruled >= 6, "{ruled} ruled lines");
        }
    }

    #[test]
    fn sniff_reads_what_render_wrote() {
        for format in FORMATS {
            for (width, height) in [(1, 1), (9, 7), (640, 480), (1536, 12288)] {
                let bytes = render_ok(format, Style::Final, width, height, SEED);
                assert_eq!(sniff(&bytes), Some((format, width, height)));
                // Bytes after the end of the image do not matter.
                let mut trailing = bytes.clone();
                trailing.extend_from_slice(b"trailing junk");
                assert_eq!(sniff(&trailing), Some((format, width, height)));
            }
        }
    }

    #[test]
    fn sniff_reads_every_kind_of_jpeg_frame() {
        let jpeg = render_ok(ImageFormat::Jpeg, Style::Final, 33, 17, SEED);
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("an SOF0");
        for marker in [
            0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF,
        ] {
            let mut other = jpeg.clone();
            other[sof + 1] = marker;
            assert_eq!(
                sniff(&other),
                Some((ImageFormat::Jpeg, 33, 17)),
                "SOF {marker:#x}"
            );
        }
        // A second frame header, or none at all, is not a JPEG.
        let mut two = jpeg[..sof].to_vec();
        two.extend_from_slice(&jpeg[sof..sof + 19]);
        two.extend_from_slice(&jpeg[sof..]);
        assert_eq!(sniff(&two), None);
        let mut none = jpeg.clone();
        none[sof + 1] = 0xFE; // now a comment
        assert_eq!(sniff(&none), None);
        // Comments, application segments and fill bytes between segments are skipped.
        let mut extra = jpeg[..2].to_vec();
        extra.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x05, b'h', b'e', b'y', 0xFF, 0xFF]);
        extra.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x04, 0xFF, 0xD9]);
        extra.extend_from_slice(&jpeg[2..]);
        assert_eq!(sniff(&extra), Some((ImageFormat::Jpeg, 33, 17)));
    }

    #[test]
    fn sniff_rejects_empty_garbage_and_every_truncation() {
        assert_eq!(sniff(&[]), None);
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), None);
        assert_eq!(sniff(b"not an image at all"), None);
        for format in FORMATS {
            let bytes = render_ok(format, Style::Thought, 23, 41, SEED);
            for len in 0..bytes.len() {
                assert_eq!(
                    sniff(&bytes[..len]),
                    None,
                    "{format:?} cut at {len} of {}",
                    bytes.len()
                );
            }
            assert_eq!(sniff(&bytes), Some((format, 23, 41)));
        }
        // A PNG with a broken header checksum, or without image data.
        let png = render_ok(ImageFormat::Png, Style::Final, 5, 5, SEED);
        let mut broken = png.clone();
        broken[29] ^= 1;
        assert_eq!(sniff(&broken), None);
        let mut no_data = png[..33].to_vec();
        no_data.extend_from_slice(&png[png.len() - 12..]);
        assert_eq!(sniff(&no_data), None);
    }

    #[test]
    fn sniff_never_panics() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let png = render_ok(ImageFormat::Png, Style::Final, 30, 20, SEED);
        let jpeg = render_ok(ImageFormat::Jpeg, Style::Final, 30, 20, SEED);
        // Every byte of a valid file changed in a few ways.
        for file in [&png, &jpeg] {
            for at in 0..file.len() {
                for value in [0x00, 0xFF, 0xD9, 0xDA, file[at] ^ 0x80] {
                    let mut bytes = file.clone();
                    bytes[at] = value;
                    let _ = sniff(&bytes);
                }
            }
        }
        // Random bytes behind each signature, and random cuts of valid files with random tails.
        for _ in 0..3000 {
            let len = (next() % 300) as usize;
            let noise: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            for head in [&PNG_SIGNATURE[..], &[0xFF, 0xD8, 0xFF], &[]] {
                let mut bytes = head.to_vec();
                bytes.extend_from_slice(&noise);
                let _ = sniff(&bytes);
            }
            for file in [&png, &jpeg] {
                let mut bytes = file[..(next() as usize % file.len())].to_vec();
                bytes.extend_from_slice(&noise);
                let _ = sniff(&bytes);
            }
        }
    }

    #[test]
    fn sizes_outside_the_limits_are_refused_with_a_clear_message() {
        let refused = |width, height| {
            let error =
                render(ImageFormat::Png, Style::Final, width, height, SEED).expect_err("refused");
            assert_eq!((error.width(), error.height()), (width, height));
            assert_eq!(
                render(ImageFormat::Jpeg, Style::Thought, width, height, SEED),
                Err(error.clone())
            );
            error.to_string()
        };
        assert_eq!(
            refused(0, 100),
            "image size 0x100 is not allowed: width and height must be 1..=65535"
        );
        assert_eq!(
            refused(100, 70_000),
            "image size 100x70000 is not allowed: width and height must be 1..=65535"
        );
        assert_eq!(
            refused(20_000, 20_000),
            "image size 20000x20000 is not allowed: it has 400000000 pixels, at most 268435456 \
             (2^28) are allowed"
        );
        assert!(refused(MAX_SIDE, 4097).contains("at most 268435456"));
        assert!(check_size(MAX_SIDE, 4096).is_ok());
    }

    #[test]
    fn mime_types_round_trip() {
        for format in FORMATS {
            assert_eq!(
                ImageFormat::from_mime_type(format.mime_type()),
                Some(format)
            );
        }
        assert_eq!(
            ImageFormat::from_mime_type("IMAGE/PNG"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::from_mime_type("image/JPG"),
            Some(ImageFormat::Jpeg)
        );
        for other in [
            "image/gif",
            "image/webp",
            "png",
            "",
            " image/png",
            "image/jpeg2000",
        ] {
            assert_eq!(ImageFormat::from_mime_type(other), None, "{other:?}");
        }
    }

    #[test]
    fn checksums_match_their_reference_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"", b"56789"]), 0xCBF4_3926);
        let naive = |bytes: &[u8]| {
            let (mut a, mut b) = (1u32, 0u32);
            for &byte in bytes {
                a = (a + u32::from(byte)) % 65_521;
                b = (b + a) % 65_521;
            }
            (b << 16) | a
        };
        let mut adler = Adler::new();
        adler.append(AdlerSegment::of(b"Wikipedia"));
        assert_eq!(adler.value(), 0x11E6_0398);
        // Appending segments one by one, including long ones, equals the checksum of the whole.
        let parts: Vec<Vec<u8>> = vec![vec![0xFF; 70_000], b"row".to_vec(), vec![], vec![7; 5553]];
        let mut adler = Adler::new();
        for part in &parts {
            adler.append(AdlerSegment::of(part));
        }
        assert_eq!(adler.value(), naive(&parts.concat()));
    }

    #[test]
    fn the_huffman_tables_are_the_standard_complete_ones() {
        let all_ac: Vec<u8> = std::iter::once(0x00)
            .chain(std::iter::once(0xF0))
            .chain((0..16).flat_map(|run| (1..=10).map(move |size| (run << 4) | size)))
            .collect();
        for (bits, values) in [
            (&AC_LUMA_BITS, &AC_LUMA_VALUES),
            (&AC_CHROMA_BITS, &AC_CHROMA_VALUES),
        ] {
            assert_eq!(
                bits.iter().map(|&b| usize::from(b)).sum::<usize>(),
                values.len()
            );
            let mut sorted = values.to_vec();
            sorted.sort_unstable();
            let mut expected = all_ac.clone();
            expected.sort_unstable();
            assert_eq!(sorted, expected);
        }
        for bits in [&DC_LUMA_BITS, &DC_CHROMA_BITS] {
            assert_eq!(
                bits.iter().map(|&b| usize::from(b)).sum::<usize>(),
                DC_VALUES.len()
            );
        }
        // End of block is 1010 in the luma table and 00 in the chroma table (Annex K.3.3).
        assert_eq!(
            huffman_codes(&AC_LUMA_BITS, &AC_LUMA_VALUES)[0],
            (0b1010, 4)
        );
        assert_eq!(
            huffman_codes(&AC_CHROMA_BITS, &AC_CHROMA_VALUES)[0],
            (0b00, 2)
        );
        assert_eq!(
            huffman_codes(&DC_LUMA_BITS, &DC_VALUES)[11],
            (0b1_1111_1110, 9)
        );
        assert_eq!(
            huffman_codes(&DC_CHROMA_BITS, &DC_VALUES)[11],
            (0b111_1111_1110, 11)
        );
    }

    #[test]
    fn dc_terms_of_grey_black_and_white() {
        // Quantiser 1: the DC term is 8 times the level-shifted sample.
        assert_eq!(dc_terms([128, 128, 128], 1, 1), [0, 0, 0]);
        assert_eq!(dc_terms([255, 255, 255], 1, 1), [1016, 0, 0]);
        assert_eq!(dc_terms([0, 0, 0], 1, 1), [-1024, 0, 0]);
        assert_eq!(
            dc_terms([0, 0, 255], 1, 1),
            [
                div_round(8 * (29_070_000 - 128_000_000), 1_000_000) as i32,
                1020,
                -166
            ]
        );
    }
}
