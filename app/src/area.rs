//! The web client is built as one wasm bundle per area of the UI, so a browser opening
//! a run downloads the run pages and not the Constructor. Both sides use this map: the
//! server sends each address the page of its area's bundle, and the client marks links
//! into another area for a full page load (its own router does not know those pages).

/// A part of the UI with its own bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// The runs list and the run page (with its gates): what people open most.
    Runs,
    /// The inbox of gates to decide.
    Approvals,
    /// Saved pipelines and user administration.
    Manage,
    /// The Constructor, the heaviest page (its canvas, layout and form editor).
    Constructor,
}

impl Area {
    pub const ALL: [Area; 4] = [Area::Runs, Area::Approvals, Area::Manage, Area::Constructor];

    /// The area that shows the page at `path` (such as `/runs/4` or `/approvals?age=1h`).
    /// Unknown addresses belong to the runs area, whose "not found" page answers them.
    pub fn of_path(path: &str) -> Area {
        let first = path.trim_start_matches('/').split(['/', '?', '#']).next();
        match first.unwrap_or_default() {
            "approvals" => Area::Approvals,
            "pipelines" | "users" => Area::Manage,
            "constructor" => Area::Constructor,
            _ => Area::Runs,
        }
    }

    /// Where the bundle's `index.html` lies in the built client (`dist/`), and the
    /// public path its files are served under. The runs area is the root build, which
    /// `trunk build` makes on its own.
    pub fn folder(self) -> &'static str {
        match self {
            Area::Runs => "",
            Area::Approvals => "bundles/approvals",
            Area::Manage => "bundles/manage",
            Area::Constructor => "bundles/constructor",
        }
    }

    /// The Cargo binary of `frontend` that mounts this area.
    pub fn binary(self) -> &'static str {
        match self {
            Area::Runs => "frontend",
            Area::Approvals => "approvals",
            Area::Manage => "manage",
            Area::Constructor => "constructor",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Area;

    #[test]
    fn each_page_belongs_to_the_bundle_that_draws_it() {
        for (path, area) in [
            ("/", Area::Runs),
            ("/runs/4", Area::Runs),
            ("/runs/4/gates/hitl-gate-train", Area::Runs),
            ("/approvals", Area::Approvals),
            ("/approvals?pipeline=x", Area::Approvals),
            ("/approvals#top", Area::Approvals),
            ("/pipelines", Area::Manage),
            ("/constructor", Area::Constructor),
            ("/users", Area::Manage),
            ("/no/such/page", Area::Runs),
            ("", Area::Runs),
        ] {
            assert_eq!(Area::of_path(path), area, "{path}");
        }
    }

    /// `scripts/build.sh` builds `frontend/<name>.html` into `dist/bundles/<name>/`: each
    /// area's page must exist, mount its binary, and lie where the server looks for it.
    #[test]
    fn each_area_has_the_page_that_builds_its_bundle() {
        let frontend = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend");
        for area in Area::ALL {
            let page = match area {
                Area::Runs => "index".to_string(),
                other => {
                    assert_eq!(other.folder(), format!("bundles/{}", other.binary()));
                    other.binary().to_string()
                }
            };
            let html = std::fs::read_to_string(frontend.join(format!("{page}.html")))
                .unwrap_or_else(|err| panic!("frontend/{page}.html for {area:?}: {err}"));
            assert!(
                html.contains(&format!("data-bin=\"{}\"", area.binary())),
                "frontend/{page}.html does not build the {} binary",
                area.binary()
            );
        }
    }
}
