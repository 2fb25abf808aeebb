//! Which part of the graph the frame shows: pure geometry, so it is unit-tested.
//!
//! A point of the drawing at `(gx, gy)` appears at `(x + gx * scale, y + gy * scale)`
//! in the frame, in CSS pixels.

pub const MIN_SCALE: f64 = 0.1;
pub const MAX_SCALE: f64 = 4.0;
/// Below this scale a node's name is too small to read: a big graph opens at 1:1
/// instead of being shrunk to dots.
pub const READABLE: f64 = 0.6;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub x: f64,
    pub y: f64,
    pub scale: f64,
}

/// The frame's and the drawing's sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sizes {
    pub frame: (f64, f64),
    pub graph: (f64, f64),
}

impl View {
    pub const IDENTITY: View = View {
        x: 0.0,
        y: 0.0,
        scale: 1.0,
    };

    /// The whole drawing, centred, never larger than 1:1 nor smaller than `MIN_SCALE`.
    pub fn fit(sizes: Sizes) -> View {
        let (fw, fh) = sizes.frame;
        let (gw, gh) = sizes.graph;
        let scale = (fw / gw).min(fh / gh).clamp(MIN_SCALE, 1.0);
        View {
            x: (fw - gw * scale) / 2.0,
            y: (fh - gh * scale) / 2.0,
            scale,
        }
    }

    /// The view a page opens with: the whole drawing when it is readable that way;
    /// otherwise 1:1 around `focus` (a point of the drawing), or at its top-left.
    pub fn initial(sizes: Sizes, focus: Option<(f64, f64)>) -> View {
        let fit = View::fit(sizes);
        if fit.scale >= READABLE {
            return fit;
        }
        match focus {
            Some(point) => View::centred_on(point, 1.0, sizes),
            None => View::IDENTITY,
        }
    }

    /// `point` of the drawing in the middle of the frame at `scale`, without showing
    /// empty space past the drawing's edges where the drawing is larger than the frame.
    pub fn centred_on(point: (f64, f64), scale: f64, sizes: Sizes) -> View {
        let (fw, fh) = sizes.frame;
        let (gw, gh) = sizes.graph;
        let axis = |frame: f64, graph: f64, at: f64| {
            let offset = frame / 2.0 - at * scale;
            if graph * scale > frame {
                offset.clamp(frame - graph * scale, 0.0)
            } else {
                offset
            }
        };
        View {
            x: axis(fw, gw, point.0),
            y: axis(fh, gh, point.1),
            scale,
        }
    }

    /// Zoomed by `factor` (within the limits), keeping the frame point `about` still.
    pub fn zoomed(self, factor: f64, about: (f64, f64)) -> View {
        let scale = (self.scale * factor).clamp(MIN_SCALE, MAX_SCALE);
        let ratio = scale / self.scale;
        View {
            x: about.0 - (about.0 - self.x) * ratio,
            y: about.1 - (about.1 - self.y) * ratio,
            scale,
        }
    }

    /// The part of the drawing in the frame: `(left, top, right, bottom)`.
    pub fn visible(self, frame: (f64, f64)) -> (f64, f64, f64, f64) {
        (
            -self.x / self.scale,
            -self.y / self.scale,
            (frame.0 - self.x) / self.scale,
            (frame.1 - self.y) / self.scale,
        )
    }
}

#[cfg(test)]
mod tests;
