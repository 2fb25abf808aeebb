//! The browser entry point of the runs area (the runs list and the run page), the
//! bundle `trunk build` makes from `index.html`. The other areas are `src/bin/*`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::RunsApp);
}
