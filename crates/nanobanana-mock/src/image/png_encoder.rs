//! The PNG encoder: palette colour, zlib from a fixed-Huffman deflate encoder, CRC-32.

use nanobanana_wire::media::crc32;

use super::scene::*;

// ---------------------------------------------------------------------------------------------
// PNG: palette colour, zlib from a fixed-Huffman deflate encoder, CRC-32.

pub(super) const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

pub(super) fn encode_png(scene: &Scene, rows: &CellRows) -> Vec<u8> {
    let (remap, plte, depth) = palette(scene, rows);
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

/// The palette of the colours in use (which picks the smallest bit depth): the index of each
/// scene colour in it, the `PLTE` bytes, and the bit depth.
fn palette(scene: &Scene, rows: &CellRows) -> ([u8; COLOURS], Vec<u8>, u8) {
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
    (remap, plte, depth)
}

/// A row of cells as packed palette indices: a cell is 8 pixels, `depth` whole bytes.
pub(super) fn pack_row(cells: &[u8], remap: &[u8; COLOURS], depth: u8, stride: usize) -> Vec<u8> {
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

pub(super) fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

pub(super) const ADLER_MOD: u64 = 65_521;

/// The Adler-32 sums of a run of bytes `d[0..len]` started from zero: `s1 = sum d[i]` and
/// `s2 = sum (len - i) * d[i]`, both mod 65521, which is what appending it adds to a checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct AdlerSegment {
    pub(super) s1: u64,
    pub(super) s2: u64,
    pub(super) len: u64,
}

impl AdlerSegment {
    pub(super) fn of(bytes: &[u8]) -> AdlerSegment {
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
pub(super) struct Adler {
    pub(super) a: u64,
    pub(super) b: u64,
}

impl Adler {
    pub(super) fn new() -> Adler {
        Adler { a: 1, b: 0 }
    }

    pub(super) fn append(&mut self, segment: AdlerSegment) {
        self.b = (self.b + segment.len % ADLER_MOD * self.a + segment.s2) % ADLER_MOD;
        self.a = (self.a + segment.s1) % ADLER_MOD;
    }

    pub(super) fn value(self) -> u32 {
        ((self.b << 16) | self.a) as u32
    }
}

/// Base match lengths of the deflate length symbols 257..=285 and their extra bits.
pub(super) const LENGTH_BASE: [u32; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
pub(super) const LENGTH_EXTRA: [u32; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// The fixed Huffman code of every literal byte (RFC 1951, 3.2.6), bit-reversed for the
/// LSB-first stream: (bits, length).
pub(super) const LITERAL_CODES: [(u32, u32); 256] = literal_codes();

/// Every match of length 3..=258 at distance 1, as one (bits, length): length code, its extra
/// bits, and distance code 0 (five zero bits, no extra bits).
pub(super) const MATCH_CODES: [(u32, u32); 259] = match_codes();

pub(super) const fn reversed(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

pub(super) const fn literal_codes() -> [(u32, u32); 256] {
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

pub(super) const fn match_codes() -> [(u32, u32); 259] {
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
pub(super) struct Deflate {
    pub(super) out: Vec<u8>,
    pub(super) acc: u64,
    pub(super) bits: u32,
}

impl Deflate {
    pub(super) fn new() -> Deflate {
        Deflate {
            out: Vec::new(),
            acc: 0,
            bits: 0,
        }
    }

    pub(super) fn put(&mut self, value: u32, len: u32) {
        self.acc |= u64::from(value) << self.bits;
        self.bits += len;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    pub(super) fn literal(&mut self, byte: u8) {
        let (code, len) = LITERAL_CODES[usize::from(byte)];
        self.put(code, len);
    }

    /// `count` more copies of `byte`, which must be the byte just written.
    pub(super) fn repeat(&mut self, byte: u8, mut count: usize) {
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
    pub(super) fn run_length(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some((&byte, tail)) = rest.split_first() {
            let run = tail.iter().position(|&b| b != byte).unwrap_or(tail.len());
            self.literal(byte);
            self.repeat(byte, run);
            rest = &tail[run..];
        }
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
        self.put(0, 7); // end of block
        if self.bits > 0 {
            self.put(0, 8 - self.bits);
        }
        self.out
    }
}
