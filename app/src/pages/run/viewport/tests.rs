use super::*;

const FRAME: (f64, f64) = (800.0, 640.0);

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn a_small_graph_opens_whole_and_centred_at_most_one_to_one() {
    let sizes = Sizes {
        frame: FRAME,
        graph: (400.0, 80.0),
    };
    let view = View::initial(sizes, None);
    assert_eq!(view.scale, 1.0);
    assert!(close(view.x, 200.0) && close(view.y, 280.0));
}

#[test]
fn a_big_graph_opens_readable_around_its_focus() {
    let sizes = Sizes {
        frame: FRAME,
        graph: (2_500.0, 35_000.0),
    };
    let view = View::initial(sizes, Some((1_000.0, 10_000.0)));
    assert_eq!(view.scale, 1.0);
    let (left, top, right, bottom) = view.visible(FRAME);
    assert!(left <= 1_000.0 && 1_000.0 <= right);
    assert!(top <= 10_000.0 && 10_000.0 <= bottom);
    assert_eq!(View::initial(sizes, None), View::IDENTITY);
}

#[test]
fn centring_near_an_edge_shows_no_empty_space_past_it() {
    let sizes = Sizes {
        frame: FRAME,
        graph: (2_500.0, 35_000.0),
    };
    let view = View::centred_on((20.0, 20.0), 1.0, sizes);
    assert_eq!((view.x, view.y), (0.0, 0.0));
    let view = View::centred_on((2_490.0, 34_990.0), 1.0, sizes);
    let (_, _, right, bottom) = view.visible(FRAME);
    assert!(close(right, 2_500.0) && close(bottom, 35_000.0));
}

#[test]
fn fitting_a_huge_graph_stops_at_the_smallest_scale() {
    let sizes = Sizes {
        frame: FRAME,
        graph: (2_500.0, 350_000.0),
    };
    assert_eq!(View::fit(sizes).scale, MIN_SCALE);
}

#[test]
fn zooming_keeps_the_point_under_the_pointer_still() {
    let view = View {
        x: -100.0,
        y: -50.0,
        scale: 1.0,
    };
    let zoomed = view.zoomed(2.0, (300.0, 200.0));
    assert_eq!(zoomed.scale, 2.0);
    // The drawing point under (300, 200) before: (400, 250); after, still there.
    assert!(close(zoomed.x + 400.0 * zoomed.scale, 300.0));
    assert!(close(zoomed.y + 250.0 * zoomed.scale, 200.0));
    assert_eq!(view.zoomed(1_000.0, (0.0, 0.0)).scale, MAX_SCALE);
}
