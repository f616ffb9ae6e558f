//! The scene, drawn in flat-colour cells of 8x8 pixels from a seed.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::Style;

// ---------------------------------------------------------------------------------------------
// Randomness: sha256 of the seed, expanded by counter.

pub(super) struct Rng {
    pub(super) key: [u8; 32],
    pub(super) counter: u64,
    pub(super) block: [u8; 32],
    pub(super) used: usize,
}

impl Rng {
    pub(super) fn new(seed: &[u8]) -> Rng {
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

    pub(super) fn next_u32(&mut self) -> u32 {
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
    pub(super) fn int(&mut self, lo: u32, hi: u32) -> i64 {
        let value = self.next_u32();
        let value = if hi <= lo {
            lo
        } else {
            lo + value % (hi - lo + 1)
        };
        i64::from(value)
    }

    pub(super) fn channel(&mut self, lo: u8, hi: u8) -> u8 {
        let value = self.next_u32();
        if hi <= lo {
            lo
        } else {
            lo + (value % (u32::from(hi - lo) + 1)) as u8
        }
    }

    pub(super) fn colour(&mut self, lo: u8, hi: u8) -> [u8; 3] {
        std::array::from_fn(|_| self.channel(lo, hi))
    }
}

// ---------------------------------------------------------------------------------------------
// The scene, in cells of 8x8 pixels.

/// Side of a cell in pixels: one JPEG block, and a whole number of bytes in a PNG row at any bit
/// depth.
pub(super) const CELL: u32 = 8;

// Palette indices. Both styles share the frame, the bands and the ground; the rest differ.
pub(super) const FRAME: u8 = 0;
pub(super) const BAND: u8 = 1; // 1..=MAX_BANDS: sky bands, or their washes in a thought image
pub(super) const MAX_BANDS: usize = 6;
pub(super) const GROUND: u8 = 7;
pub(super) const GROUND_DARK: u8 = 8;
pub(super) const SUN: u8 = 9;
pub(super) const WALL: u8 = 10;
pub(super) const ROOF: u8 = 11;
pub(super) const WINDOW: u8 = 12;
pub(super) const DOOR: u8 = 13;
pub(super) const PENCIL: u8 = 8;
pub(super) const RULE: u8 = 9;
pub(super) const MARGIN: u8 = 10;
pub(super) const COLOURS: usize = 14;

/// A rectangle of cells, `x0..x1` by `y0..y1`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rect {
    pub(super) x0: i64,
    pub(super) y0: i64,
    pub(super) x1: i64,
    pub(super) y1: i64,
}

impl Rect {
    pub(super) fn has_row(&self, y: i64) -> bool {
        (self.y0..self.y1).contains(&y)
    }
}

/// Where things are, in cells. Sun coordinates are doubled so that the centre of cell `x` is
/// `2x + 1`.
#[derive(Debug)]
pub(super) struct Geometry {
    pub(super) inner: Rect,
    pub(super) horizon: i64,
    pub(super) bands: [i64; MAX_BANDS],
    pub(super) tile: i64,
    pub(super) sun_x2: i64,
    pub(super) sun_y2: i64,
    pub(super) sun_r2: i64,
    pub(super) wall: Rect,
    pub(super) roof_height: i64,
    pub(super) window: Rect,
    pub(super) door: Rect,
    pub(super) rule_every: i64,
    pub(super) margin: i64,
}

impl Geometry {
    pub(super) fn new(rng: &mut Rng, cols: i64, rows: i64, nbands: usize) -> Geometry {
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
    pub(super) fn band(&self, y: i64) -> u8 {
        let k = self
            .bands
            .iter()
            .rposition(|&start| start <= y)
            .unwrap_or(0);
        BAND + k as u8
    }

    /// The cells `a..b` of row `y` inside the sun, shrunk by `shrink` half cells.
    pub(super) fn sun_span(&self, y: i64, shrink: i64) -> Option<(i64, i64)> {
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
    pub(super) fn roof_span(&self, y: i64) -> Option<(i64, i64)> {
        let top = self.wall.y0 - self.roof_height;
        if y < top || y >= self.wall.y0 {
            return None;
        }
        let width = self.wall.x1 - self.wall.x0 + 2;
        let inset = (self.roof_height - 1 - (y - top)) * width / (2 * self.roof_height);
        Some((self.wall.x0 - 1 + inset, self.wall.x1 + 1 - inset))
    }
}

pub(super) struct Scene {
    pub(super) style: Style,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) cols: usize,
    pub(super) rows: usize,
    pub(super) palette: [[u8; 3]; COLOURS],
    pub(super) geometry: Geometry,
}

/// The rows of cells of a scene: each distinct row once, and the row of each cell row.
pub(super) struct CellRows {
    pub(super) ids: Vec<u32>,
    pub(super) distinct: Vec<Vec<u8>>,
}

impl Scene {
    pub(super) fn new(style: Style, width: u32, height: u32, seed: &[u8]) -> Scene {
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
    pub(super) fn cell_rows(&self) -> CellRows {
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

    pub(super) fn paint_row(&self, y: i64, row: &mut [u8]) {
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

    pub(super) fn paint_final(&self, y: i64, row: &mut [u8]) {
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

    pub(super) fn paint_thought(&self, y: i64, row: &mut [u8]) {
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
    pub(super) fn fill_inner(&self, row: &mut [u8], a: i64, b: i64, colour: u8) {
        let inner = self.geometry.inner;
        fill(row, a.max(inner.x0), b.min(inner.x1), colour);
    }
}

/// Fills cells `a..b` of a row, clipped to the row.
pub(super) fn fill(row: &mut [u8], a: i64, b: i64, colour: u8) {
    let len = row.len() as i64;
    let a = a.clamp(0, len);
    let b = b.clamp(a, len);
    if let Some(cells) = row.get_mut(a as usize..b as usize) {
        cells.fill(colour);
    }
}

/// The weighted mean `(a * wa + b * wb) / (wa + wb)`, or `a` when both weights are 0.
pub(super) fn mix(a: u8, wa: u32, b: u8, wb: u32) -> u8 {
    let total = wa + wb;
    if total == 0 {
        return a;
    }
    ((u32::from(a) * wa + u32::from(b) * wb + total / 2) / total) as u8
}

/// A colour three quarters of the way to its own grey.
pub(super) fn greyed(colour: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = colour.map(u32::from);
    let luma = ((299 * r + 587 * g + 114 * b + 500) / 1000) as u8;
    colour.map(|v| mix(luma, 3, v, 1))
}
