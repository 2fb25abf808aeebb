//! The browser entry point: mounts Tollgate's UI on the page Trunk builds.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
