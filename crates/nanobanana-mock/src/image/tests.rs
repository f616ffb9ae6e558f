//! Tests of the picture renderer, the encoders and the sniffer.

use super::*;

#[test]
fn output_formats_parse_in_any_case_and_others_are_refused() {
    assert_eq!(output_format(" PNG "), Ok(ImageFormat::Png));
    assert_eq!(output_format("jpg"), Ok(ImageFormat::Jpeg));
    assert_eq!(output_format("Jpeg"), Ok(ImageFormat::Jpeg));
    assert_eq!(
        output_format("gif").unwrap_err(),
        "unknown image format \"gif\": allowed are png, jpeg"
    );
    assert_eq!(
        render(ImageFormat::WebP, Style::Final, 8, 8, SEED)
            .unwrap_err()
            .to_string(),
        "image format WebP is not drawn: the fake server draws PNG and JPEG"
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

fn render_ok(format: ImageFormat, style: Style, width: u32, height: u32, seed: &[u8]) -> Vec<u8> {
    render(format, style, width, height, seed).expect("an allowed size")
}

/// Decodes with the `png` crate (checksums verified) or `jpeg-decoder`: width, height, RGB.
fn decode(format: ImageFormat, bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    match format {
        ImageFormat::Png => {
            let mut options = png::DecodeOptions::default();
            options.set_ignore_adler32(false);
            options.set_ignore_crc(false);
            let mut decoder = png::Decoder::new_with_options(std::io::Cursor::new(bytes), options);
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
        other => panic!("render draws no {other}"),
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
    let tolerance = if format == ImageFormat::Jpeg { 3 } else { 0 };
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
fn checksums_match_their_reference_values() {
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
