//! Tests of the simulator's helpers.

use super::*;

#[test]
fn closest_ratio_picks_the_nearest_supported_one() {
    let all = [
        AspectRatio::Ratio1x1,
        AspectRatio::Ratio16x9,
        AspectRatio::Ratio9x16,
    ];
    assert_eq!(closest_ratio(&all, 1920, 1080), AspectRatio::Ratio16x9);
    assert_eq!(closest_ratio(&all, 500, 480), AspectRatio::Ratio1x1);
    assert_eq!(closest_ratio(&all, 0, 0), AspectRatio::Ratio1x1);
}

#[test]
fn text_splits_into_at_most_three_chunks_that_concatenate_back() {
    let text = "Here is an image of a nano banana on a plate.";
    let pieces = split_text(text);
    assert!(pieces.len() <= 3 && pieces.len() > 1);
    assert_eq!(pieces.concat(), text);
    assert_eq!(split_text("Hi"), ["Hi"]);
}

#[test]
fn summaries_are_short_and_quoted() {
    assert_eq!(summarize("A Banana."), "an image of \"a Banana\"");
    assert_eq!(summarize(""), "the image you asked for");
}
