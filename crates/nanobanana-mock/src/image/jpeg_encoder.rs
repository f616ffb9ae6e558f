//! The baseline JPEG encoder: YCbCr 4:4:4, flat blocks only, a restart interval per row of
//! blocks.

use super::scene::*;

// ---------------------------------------------------------------------------------------------
// JPEG: baseline, YCbCr 4:4:4, flat blocks only, a restart interval per row of blocks.

/// Natural (row-major) index of each zig-zag position.
pub(super) const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The quantisation tables of Annex K.1, natural order.
pub(super) const Q_LUMA: [u8; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
pub(super) const Q_CHROMA: [u8; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// The Huffman tables of Annex K.3: code counts per length 1..=16, then the symbols.
pub(super) const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
pub(super) const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
pub(super) const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
pub(super) const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D];
pub(super) const AC_LUMA_VALUES: [u8; 162] = [
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
pub(super) const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
pub(super) const AC_CHROMA_VALUES: [u8; 162] = [
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
pub(super) fn quantisation(table: &[u8; 64]) -> [u8; 64] {
    table.map(|q| ((u32::from(q) * 20 + 50) / 100).clamp(1, 255) as u8)
}

/// The canonical Huffman codes of a table: (code, length) by symbol.
pub(super) fn huffman_codes(bits: &[u8; 16], values: &[u8]) -> [(u32, u32); 256] {
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
pub(super) fn div_round(n: i64, d: i64) -> i64 {
    if n >= 0 {
        (n + d / 2) / d
    } else {
        -((-n + d / 2) / d)
    }
}

/// The quantised DC coefficients (Y, Cb, Cr) of a flat 8x8 block of one colour: the forward DCT
/// of a flat block of level-shifted value v has DC term 8v and nothing else.
pub(super) fn dc_terms(colour: [u8; 3], q_luma: u8, q_chroma: u8) -> [i32; 3] {
    let [r, g, b] = colour.map(i64::from);
    // JFIF YCbCr, times 10^6, centred on zero.
    let y = 299_000 * r + 587_000 * g + 114_000 * b - 128_000_000;
    let cb = -168_736 * r - 331_264 * g + 500_000 * b;
    let cr = 500_000 * r - 418_688 * g - 81_312 * b;
    let dc = |v: i64, q: u8| div_round(8 * v, 1_000_000 * i64::from(q)) as i32;
    [dc(y, q_luma), dc(cb, q_chroma), dc(cr, q_chroma)]
}

/// A JPEG entropy-coded bit stream (MSB first) with byte stuffing.
pub(super) struct JpegBits {
    pub(super) out: Vec<u8>,
    pub(super) acc: u64,
    pub(super) bits: u32,
}

impl JpegBits {
    pub(super) fn put(&mut self, value: u32, len: u32) {
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
    pub(super) fn pad(&mut self) {
        if self.bits > 0 {
            let len = 8 - self.bits;
            self.put((1 << len) - 1, len);
        }
    }
}

pub(super) struct JpegCoder {
    /// DC codes by size category, luma then chroma.
    pub(super) dc: [[(u32, u32); 256]; 2],
    /// End-of-block codes, luma then chroma.
    pub(super) eob: [(u32, u32); 2],
    /// The bits of a block repeating the previous one: three DC differences of 0 and three EOBs.
    pub(super) same: (u32, u32),
    /// DC terms by palette index.
    pub(super) terms: [[i32; 3]; COLOURS],
}

impl JpegCoder {
    /// The entropy-coded bytes of one row of blocks, one restart interval: DC predictions start
    /// from zero and the bytes end byte-aligned, so equal rows give equal bytes.
    pub(super) fn encode_row(&self, cells: &[u8]) -> Vec<u8> {
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

pub(super) fn jpeg_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(payload);
}

pub(super) fn encode_jpeg(scene: &Scene, rows: &CellRows) -> Vec<u8> {
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
