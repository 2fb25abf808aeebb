//! The browser entry point of the approvals inbox (`approvals.html`).

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::ApprovalsApp);
}
