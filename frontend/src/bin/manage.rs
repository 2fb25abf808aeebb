//! The browser entry point of saved pipelines and users (`manage.html`).

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::ManageApp);
}
